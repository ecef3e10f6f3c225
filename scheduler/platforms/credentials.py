"""Per-channel credentials from the environment or a secrets file outside the repository.

A `Credentials` object never shows its values: `repr`, `str` and every error message mask
them, and `scrub()` removes them (and any `access_token=` / bearer value) from text taken
from responses or URLs before that text reaches a log or an exception.
"""

from __future__ import annotations

import logging
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from campaign.secrets import scrub, secrets_file_warning
from scheduler.platforms.base import AuthError

DEFAULT_SECRETS_FILE = Path("~/.config/embracing-openness/secrets.toml")

def env_prefix(channel_id: str) -> str:
    """`be-x` -> `CAMPAIGN_BE_X_`: the prefix of this channel's environment variables."""
    return "CAMPAIGN_" + channel_id.upper().replace("-", "_") + "_"


def scrub_text(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Remove `secrets`, every configured secret and anything shaped like a token from `text`."""
    return scrub(text, extra=secrets)


@dataclass(frozen=True, repr=False)
class Credentials:
    channel_id: str
    platform: str
    values: Mapping[str, str] = field(default_factory=dict)
    source: str = "none"  # where they came from, for messages (never the values)

    def __repr__(self) -> str:
        names = ", ".join(f"{name}=***" for name in sorted(self.values))
        return f"Credentials(channel_id={self.channel_id!r}, platform={self.platform!r}, {names}, source={self.source!r})"

    __str__ = __repr__

    def get(self, name: str) -> str | None:
        return self.values.get(name.upper())

    def require(self, name: str) -> str:
        value = self.get(name)
        if not value:
            raise AuthError(_missing_message(self.channel_id, self.platform, (name.upper(),)))
        return value

    def secrets(self) -> tuple[str, ...]:
        return tuple(v for v in self.values.values() if v)

    def scrub(self, text: str) -> str:
        return scrub_text(text, self.secrets())

    def with_values(self, **values: str) -> "Credentials":
        """A copy with some values replaced (e.g. a refreshed session token)."""
        merged = dict(self.values)
        merged.update({k.upper(): v for k, v in values.items()})
        return Credentials(self.channel_id, self.platform, merged, self.source)

    @classmethod
    def for_channel(
        cls,
        channel_id: str,
        platform: str,
        *,
        env: Mapping[str, str] = os.environ,
        secrets_file: Path | None = None,
        required: tuple[str, ...] = ("TOKEN",),
    ) -> "Credentials":
        """Environment variables win over the secrets file; missing `required` names (each platform's
        row in `scheduler.platforms.registry` says which: `credentials_for` passes them) raise AuthError."""
        platform = getattr(platform, "value", platform)
        values: dict[str, str] = {}
        source = "none"
        secrets_file = Path(secrets_file or env.get("CAMPAIGN_SECRETS_FILE") or DEFAULT_SECRETS_FILE).expanduser()
        if secrets_file.is_file():
            _warn_once(secrets_file)
            try:
                table = tomllib.loads(secrets_file.read_text(encoding="utf-8")).get(channel_id, {})
            except tomllib.TOMLDecodeError as exc:
                raise AuthError(f"the secrets file {secrets_file} is not valid TOML ({exc.msg}, line {exc.lineno}) — fix it") from None
            if isinstance(table, dict):
                values.update({str(k).upper(): str(v) for k, v in table.items() if v is not None})
                if values:
                    source = str(secrets_file)
        prefix = env_prefix(channel_id)
        from_env = {key[len(prefix):]: value for key, value in env.items() if key.startswith(prefix) and value}
        if from_env:
            values.update(from_env)
            source = "environment" if source == "none" else f"environment and {secrets_file}"
        missing = tuple(name for name in required if not values.get(name))
        if missing:
            raise AuthError(_missing_message(channel_id, platform, missing, secrets_file))
        return cls(channel_id, platform, values, source)


_WARNED: set[Path] = set()


def _warn_once(path: Path) -> None:
    """Say once per process (in the log) that the secrets file is readable by others."""
    warning = secrets_file_warning(path)
    if warning and path not in _WARNED:
        _WARNED.add(path)
        logging.getLogger("campaign.daemon").warning(warning)


def _missing_message(channel_id: str, platform: str, names: tuple[str, ...], secrets_file: Path | None = None) -> str:
    prefix = env_prefix(channel_id)
    where = secrets_file or DEFAULT_SECRETS_FILE
    env_names = ", ".join(prefix + n for n in names)
    toml_names = ", ".join(f'{n.lower()} = "..."' for n in names)
    return (
        f"no {platform} credentials for channel {channel_id!r}: set {env_names} in the environment, "
        f"or add a [{channel_id}] table with {toml_names} to {where} (outside the repository)"
    )
