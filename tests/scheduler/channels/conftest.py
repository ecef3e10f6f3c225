"""The channel tests' fixtures (media, a media server, emulator rigs) live in testkit.channels."""

from testkit.channels import media_dir, media_server, rigs  # noqa: F401
