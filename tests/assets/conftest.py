"""The asset tests' fixtures (a calendar written for the test, an inbox) live in testkit.assets."""

from testkit.assets import inbox, write_calendar  # noqa: F401
