"""Signed session cookies and CSRF tokens.

The session is a cookie signed with itsdangerous (HMAC-SHA1 over a timestamped payload):
the account name, the account's random session key (replacing it logs every session out;
an account removed and added again has another) and a random CSRF token. It is `HttpOnly` (no script reads it), `SameSite=Lax` (no other site's
form sends it), `Secure` when served over HTTPS, and expires after `SESSION_HOURS` both in
the browser and in the signature check. Every POST must carry the session's CSRF token;
the login form, which has no session yet, uses a signed double-submit token instead.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

SESSION_COOKIE = "eo_session"
LOGIN_COOKIE = "eo_login"
SESSION_HOURS = 8
LOGIN_FORM_MINUTES = 30


@dataclass(frozen=True)
class Session:
    name: str
    key: str  # the account's session key when it was issued
    csrf: str


class SessionSigner:
    def __init__(self, key: str) -> None:
        self._sessions = URLSafeTimedSerializer(key, salt="eo-console-session")
        self._login = URLSafeTimedSerializer(key, salt="eo-console-login")
        self._flash = URLSafeTimedSerializer(key, salt="eo-console-flash")

    def flash(self, message: str) -> str:
        """A one-time message (an action's outcome) as a cookie value: signed, so only the console writes it."""
        return self._flash.dumps(message)

    def read_flash(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            value = self._flash.loads(cookie, max_age=120)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None

    def issue(self, name: str, key: str) -> str:
        return self._sessions.dumps({"n": name, "k": key, "c": secrets.token_urlsafe(24)})

    def read(self, cookie: str | None) -> Session | None:
        if not cookie:
            return None
        try:
            data = self._sessions.loads(cookie, max_age=SESSION_HOURS * 3600)
        except BadSignature:  # also SignatureExpired
            return None
        if not isinstance(data, dict) or not {"n", "k", "c"} <= set(data):
            return None
        return Session(str(data["n"]), str(data["k"]), str(data["c"]))

    def login_token(self) -> tuple[str, str]:
        """(cookie value, form value) for the login form's double submit."""
        token = secrets.token_urlsafe(24)
        return self._login.dumps(token), token

    def login_token_ok(self, cookie: str | None, submitted: str | None) -> bool:
        if not cookie or not submitted:
            return False
        try:
            expected = self._login.loads(cookie, max_age=LOGIN_FORM_MINUTES * 60)
        except BadSignature:
            return False
        return isinstance(expected, str) and same(expected, submitted)


def csrf_ok(session: Session, submitted: str | None) -> bool:
    return bool(submitted) and same(session.csrf, submitted or "")


def same(expected: str, given: str) -> bool:
    """Constant-time comparison of any two strings (hmac.compare_digest refuses non-ASCII str:
    compared as UTF-8 bytes, a stray character is simply wrong, not a crash)."""
    return hmac.compare_digest(expected.encode("utf-8", "surrogatepass"), given.encode("utf-8", "surrogatepass"))
