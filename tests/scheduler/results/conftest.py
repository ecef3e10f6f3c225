from __future__ import annotations

from testkit.channels import media_dir, media_server, rigs  # noqa: F401
from testkit.results import world  # noqa: F401
