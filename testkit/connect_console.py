"""The console wired to an X emulator for connecting channels (the Connect button, the API and
the Playwright test): the emulator's OAuth app stands for the campaign's app on X."""

from __future__ import annotations

from typing import Any

from campaign.clock import FakeClock
from emulators.base import Emulator
from emulators.registry import start_emulator
from scheduler.platforms.credentials import Credentials
from scheduler.platforms.registry import credentials_for, resolve_api


def x_for_console(clock: FakeClock) -> Emulator:
    return start_emulator("x", clock=clock, account="belgium")


def settings_for(emulator: Emulator, calendar: Any):  # type: ignore[no-untyped-def]
    """The console's `connect_settings`: every X channel's app is the emulator's client; other
    channels' credentials come from the environment, as in production."""

    def settings(channel_id: str) -> tuple[Credentials, dict[str, Any]]:
        channel = calendar.channel(channel_id)
        if channel.platform.value != emulator.platform:
            return credentials_for(channel_id, channel.platform.value, required=()), resolve_api(channel, None)
        values = {"CLIENT_ID": emulator.oauth.client_id, "CLIENT_SECRET": emulator.oauth.client_secret or ""}  # type: ignore[union-attr]
        return Credentials(channel_id, emulator.platform, values, "test"), emulator.overrides("")

    return settings
