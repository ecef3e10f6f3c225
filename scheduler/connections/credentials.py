"""Credentials resolved vault first: a channel connected in the console publishes with the
stored access token (read at each request, so a renewal by any daemon on the store is used at
once); otherwise the environment and the secrets file, as before (pasted tokens still work)."""

from __future__ import annotations

from typing import Any, Callable, Iterator, Mapping

from scheduler.connections.vault import Vault
from scheduler.platforms.credentials import Credentials
from scheduler.platforms.registry import credentials_for, platform_of

STORE_SOURCE = "the store (connected in the console)"


class VaultValues(Mapping[str, str]):
    """The channel's static values (client id and secret, ...) with TOKEN read from the vault on each use."""

    def __init__(self, static: Mapping[str, str], token: Callable[[], str | None]) -> None:
        self._static = dict(static)
        self._token = token

    def _all(self) -> dict[str, str]:
        token = self._token()
        return {**self._static, **({"TOKEN": token} if token else {})}

    def __getitem__(self, key: str) -> str:
        if key == "TOKEN":
            token = self._token()
            if token:
                return token
        return self._static[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


def resolve(channel_id: str, platform: Any, vault: Vault | None, *,
            static: Callable[[tuple[str, ...]], Credentials] | None = None,
            before_use: Callable[[str], None] | None = None) -> Credentials:
    """The channel's credentials: the vault's token when the channel is connected there, with
    the static values (`static(required)`: the sandbox's, or env / secrets file by default).
    `before_use(channel)` runs before each read of the token (the figures' publishers renew a
    token at its end first; the dispatcher's ask the renewer before each publish instead)."""
    row = platform_of(platform)
    load = static or (lambda required: credentials_for(channel_id, row.name, required=required))
    if vault is None or row.oauth is None or vault.get(channel_id, tokens=False) is None:
        return load(row.credentials)
    base = load(())

    def token() -> str | None:
        if before_use is not None:
            before_use(channel_id)
        return vault.access_token(channel_id)

    return Credentials(channel_id, row.name, VaultValues(base.values, token), STORE_SOURCE)
