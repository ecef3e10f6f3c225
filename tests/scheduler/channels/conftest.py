"""Fixtures live in chanrig.py (importable by the tests: this folder has no __init__.py)."""

from chanrig import media_dir, media_server, rigs  # noqa: F401
