"""The key that encrypts the tokens in the store: never in the store itself.

`CAMPAIGN_TOKEN_KEY` in the environment, else `token_key = "..."` at the top of the secrets
file. Several keys separated by commas rotate: the first encrypts, every one decrypts
(`cryptography`'s MultiFernet), so a new key goes first and the old one stays while rows
written with it remain (each renewal and each connection writes its row with the new key; a
channel that does not renew keeps the old key's row until it is connected again).
"""

from __future__ import annotations

import os
import tomllib
from typing import Mapping

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from campaign.secrets import secrets_path

ENV_KEY = "CAMPAIGN_TOKEN_KEY"
FILE_KEY = "token_key"


class TokenKeyMissing(RuntimeError):
    """No key to encrypt or decrypt the stored tokens; the message says where to put one."""


class TokenKeyWrong(RuntimeError):
    """The stored tokens were encrypted with a key that is not among the configured ones."""


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")


def load_keys(env: Mapping[str, str] | None = None) -> MultiFernet:
    """The configured keys (first one encrypts); TokenKeyMissing when there are none."""
    env = os.environ if env is None else env
    raw = env.get(ENV_KEY, "").strip()
    if not raw:
        path = secrets_path(env)
        try:
            raw = str(tomllib.loads(path.read_text(encoding="utf-8")).get(FILE_KEY, "")).strip()
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            raw = ""
    if not raw:
        raise TokenKeyMissing(
            f"no key to encrypt the channels' tokens in the store: set {ENV_KEY} in the environment, or add "
            f"{FILE_KEY} = \"...\" at the top of {secrets_path(env)} (outside the repository, mode 600); make one with "
            f"`python -c \"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())\"` and keep it "
            f"safe: without it the stored tokens cannot be read and every channel must be connected again")
    try:
        return MultiFernet([Fernet(part.strip().encode("ascii")) for part in raw.split(",") if part.strip()])
    except (ValueError, UnicodeEncodeError):
        raise TokenKeyMissing(f"{ENV_KEY} (or {FILE_KEY} in the secrets file) is not a Fernet key (32 url-safe "
                              f"base64-encoded bytes) — make a new one as described in README \"Connecting channels\"") from None


def decrypt(keys: MultiFernet, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return keys.decrypt(value.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise TokenKeyWrong(f"the stored tokens were encrypted with another key than {ENV_KEY} — put the old key back "
                            f"(after the new one, comma-separated) or connect the channels again") from None


def encrypt(keys: MultiFernet, value: str | None) -> str | None:
    return None if value is None else keys.encrypt(value.encode("utf-8")).decode("ascii")
