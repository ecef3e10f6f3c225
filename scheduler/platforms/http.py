"""What every HTTP publisher shares: one session, a time-out on every request, the line
between "not sent" (safe to retry) and "sent, answer lost" (outcome unknown), polling of
asynchronous processing on an injected clock, and chunk uploads that retry only the chunk
that failed.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Iterator, TypeVar
from urllib.parse import urlparse

import requests
from requests import exceptions as rex

from campaign.clock import Clock, SystemClock
from scheduler.platforms.base import (
    AuthError,
    ChannelProblem,
    OutcomeUnknown,
    Pending,
    PermanentError,
    Publisher,
    PublishError,
    RateLimited,
    StepLedger,
    TransientError,
)
from scheduler.platforms.credentials import Credentials, scrub_text

MiB = 1024 * 1024
DEFAULT_CHUNK_SIZE = 4 * MiB
T = TypeVar("T")

log = logging.getLogger("scheduler.channels")

_NOT_SENT_MARKERS = ("NewConnectionError", "NameResolutionError", "ConnectTimeoutError", "Failed to establish")


def _never_sent(exc: BaseException) -> bool:
    """True when the exception proves the request never left (refused, DNS, connect time-out)."""
    if isinstance(exc, rex.ConnectTimeout):
        return True
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if any(marker in type(current).__name__ for marker in _NOT_SENT_MARKERS):
            return True
        for arg in getattr(current, "args", ()):
            if isinstance(arg, BaseException) and any(m in type(arg).__name__ for m in _NOT_SENT_MARKERS):
                return True
            reason = getattr(arg, "reason", None)
            if isinstance(reason, BaseException) and any(m in type(reason).__name__ for m in _NOT_SENT_MARKERS):
                return True
        current = current.__cause__ or current.__context__
    return False


def seconds_until_epoch(value: str | None, now: float, default: float) -> float:
    """A rate-limit reset header given as Unix seconds (X, Bluesky) as a wait from `now`;
    `default` when the platform did not say."""
    if value and value.strip().isdigit():
        return max(0.0, int(value) - now)
    return default


class HttpPublisher(Publisher):
    """Base of the six platform publishers. Subclasses set `platform`, `DEFAULTS` and
    implement `publish` plus `raise_for(response)` that turns a non-2xx answer into an error."""

    DEFAULTS: dict[str, str] = {}
    #: True when re-sending the request that creates the post cannot duplicate it.
    safe_create_retry: bool = False

    def __init__(
        self,
        channel_id: str,
        account: str,
        credentials: Credentials,
        *,
        api: dict[str, str | None] | None = None,
        timeout: float = 30.0,
        clock: Clock | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        chunk_retries: int = 3,
        poll_interval: float = 2.0,
        max_processing_wait: float = 900.0,
        inline_wait: float = 10.0,
        check_again_after: float = 30.0,
        session: requests.Session | None = None,
    ) -> None:
        self.channel_id = channel_id
        self.account = account
        self.credentials = credentials
        self.api = {**self.DEFAULTS, **{k: v for k, v in (api or {}).items() if v}}
        self.timeout = timeout
        self.clock = clock or SystemClock()
        self.chunk_size = max(1, chunk_size)
        self.chunk_retries = chunk_retries
        self.poll_interval = poll_interval
        self.max_processing_wait = max_processing_wait
        #: with a durable ledger: seconds of processing waited inline before answering `Pending`
        self.inline_wait = inline_wait
        self.check_again_after = check_again_after
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = "embracing-openness-scheduler/0.1"

    @classmethod
    def for_channel(cls, channel_id: str, account: str, credentials: Credentials | None, *, api: dict[str, str | None],
                    outbox_dir: Path, timeout: float, clock: Clock | None, **options: Any) -> "HttpPublisher":
        """The registry's way to build every platform's publisher with one call."""
        if credentials is None:
            raise ValueError(f"the {cls.platform} publisher of channel {channel_id} needs credentials")
        return cls(channel_id, account, credentials, api=api, timeout=timeout, clock=clock, **options)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(channel={self.channel_id!r}, account={self.account!r})"

    # ---- helpers -------------------------------------------------------------------
    @property
    def who(self) -> str:
        return f"{self.platform} account {self.account!r} (channel {self.channel_id})"

    def scrub(self, text: str) -> str:
        return scrub_text(text, self.credentials.secrets())

    def url(self, key: str, path: str) -> str:
        return self.api[key].rstrip("/") + "/" + path.lstrip("/")

    def api_url(self, path: str) -> str:
        """The address of `path` in this platform's API (Meta's Graph adds its version)."""
        return self.url("base_url", path)

    def auth_headers(self) -> dict[str, str]:
        """The headers that sign a request as this channel's account."""
        return {"Authorization": "Bearer " + self.credentials.require("TOKEN")}

    def read(self, path: str, *, what: str, params: dict[str, str] | None = None) -> Any:
        """GET `path` of this platform's API as this channel's account and return its JSON answer:
        the platform's figures collector reads through it, with publishing's session, credentials,
        error classification and rate-limit reading."""
        return self.json(self.request("GET", self.api_url(path), what=what, headers=self.auth_headers(), params=params))

    def request(self, method: str, url: str, *, creates: bool = False, what: str = "",
                ledger: StepLedger | None = None, **kwargs: Any) -> requests.Response:
        """Send one request with a time-out; classify transport failures and error answers.

        `creates=True` marks the request that creates the post: if it was sent and the answer
        was lost, the post may exist, so on platforms without safe retry this is OutcomeUnknown.
        With a `ledger`, "create sent" is recorded just before it goes out, and withdrawn when
        the platform answers with a refusal (4xx, 429: nothing was created by this request).
        """
        kwargs.setdefault("timeout", self.timeout)
        what = what or f"{method} {url.split('?')[0].rsplit('/', 1)[-1]}"
        first_send = creates and ledger is not None and ledger.get("create_sent") is None
        if creates and ledger is not None:
            ledger.create_sent()
        try:
            response = self.session.request(method, url, **kwargs)
        except rex.RequestException as exc:
            if first_send and _never_sent(exc):
                ledger.create_refused()  # type: ignore[union-attr]
            raise self._transport_error(exc, creates=creates, what=what, url=url) from None
        if response.status_code >= 400:
            if first_send and response.status_code < 500:
                ledger.create_refused()  # type: ignore[union-attr]
            self.raise_for(response, creates=creates)
        return response

    def _transport_error(self, exc: BaseException, *, creates: bool, what: str, url: str = "") -> PublishError:
        kind = type(exc).__name__
        parsed = urlparse(url)
        host = f"{parsed.hostname}{f':{parsed.port}' if parsed.port else ''}" if parsed.hostname else ""
        if _never_sent(exc):  # the host tried, so a wrong `api:` setting shows (never the query: it may hold a token)
            at = f" at {host}" if host else ""
            return TransientError(f"could not reach {self.platform}{at} for {what} ({kind}); nothing was sent — retry later")
        if creates and not self.safe_create_retry:
            return OutcomeUnknown(
                f"{self.platform} may have published the post: the connection was lost after {what} was sent ({kind}), "
                f"and {self.platform} offers no way to check — look at {self.who} and mark the post published or retry it"
            )
        if creates:
            return TransientError(f"the answer to {what} from {self.platform} was lost ({kind}); a retry is deduplicated")
        return TransientError(f"{self.platform}{f' at {host}' if host else ''} did not complete {what} ({kind}) — retry later")

    def raise_for(self, response: requests.Response, *, creates: bool = False) -> None:  # pragma: no cover - overridden
        raise TransientError(f"{self.platform} answered HTTP {response.status_code}")

    def body_text(self, response: requests.Response, limit: int = 300) -> str:
        try:
            text = response.text
        except Exception:  # noqa: BLE001 - undecodable body
            text = ""
        return self.scrub(text[:limit])

    def json(self, response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise TransientError(
                f"{self.platform} answered HTTP {response.status_code} with something that is not JSON: {self.body_text(response, 120)!r}"
            ) from None

    def media_once(self, ledger: StepLedger, index: int, upload: Callable[[], tuple[str, bool]]) -> str:
        """The media id of attachment `index`: `upload()` (-> id, ready now) runs once, even across
        retries and restarts; its readiness is recorded as well."""
        media_id = ledger.get(f"media:{index}")
        if media_id is None:
            media_id, ready = upload()
            ledger.record(f"media:{index}", media_id)
            if ready:
                ledger.record(f"media:{index}:ready", "1")
        return media_id

    def media_ready(self, ledger: StepLedger, index: int, check: Callable[[], bool | None], *, what: str) -> None:
        """Wait (or come back later, see `poll`) until attachment `index` is processed, once."""
        if ledger.get(f"media:{index}:ready") is None:
            self.poll(check, what=what, ledger=ledger)
            ledger.record(f"media:{index}:ready", "1")

    def poll(self, check: Callable[[], T | None], *, what: str, ledger: StepLedger | None = None) -> T:
        """Call `check` until it returns a value, sleeping on the injected clock between calls.

        With a durable ledger the wait is short (`inline_wait`): then `Pending` tells the
        dispatcher to come back later, so a slow platform never holds up other posts."""
        waited = 0.0
        while True:
            result = check()
            if result is not None:
                return result
            if ledger is not None and ledger.durable and waited >= self.inline_wait:
                raise Pending(f"{self.platform} is still processing {what}: checking again later",
                              max(self.poll_interval, self.check_again_after))
            if waited >= self.max_processing_wait:
                raise TransientError(
                    f"{self.platform} is still processing {what} after {waited:.0f} s — the publish will be retried later"
                )
            self.clock.sleep(self.poll_interval)
            waited += self.poll_interval

    def chunks(self, data: bytes) -> Iterator[tuple[int, int, bytes]]:
        """(index, offset, bytes) of each chunk of `data` at the configured chunk size."""
        for index, offset in enumerate(range(0, max(len(data), 1), self.chunk_size)):
            yield index, offset, data[offset : offset + self.chunk_size]

    def send_chunk(self, send: Callable[[], T], *, what: str) -> T:
        """Send one chunk, retrying only this chunk on transient failures (backoff on the clock)."""
        delay = max(self.poll_interval, 0.01)
        for attempt in range(self.chunk_retries + 1):
            try:
                return send()
            except TransientError as exc:
                if attempt == self.chunk_retries:
                    raise TransientError(f"{what} failed {attempt + 1} times: {exc}") from None
                log.info("%s: %s failed (%s); retrying this chunk only", self.channel_id, what, exc)
                self.clock.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    def ask(self, call: Callable[[], T], *, what: str) -> tuple[T | None, list[ChannelProblem]]:
        """Run one check call: its answer, or the problem it revealed (credentials refused or
        missing: blocking; platform unreachable or busy: not blocking, try again later)."""
        try:
            return call(), []
        except AuthError as exc:
            return None, [ChannelProblem(str(exc))]
        except (TransientError, RateLimited, OutcomeUnknown) as exc:
            return None, [ChannelProblem(f"could not check {what} of {self.who}: {exc}", blocking=False)]
        except PublishError as exc:
            return None, [ChannelProblem(f"{self.platform} refused {what} of {self.who}: {exc}")]

    def acting_as(self, expected: str, *names: Any) -> list[ChannelProblem]:
        """A problem when the token acts as another account than the channel's (`expected`
        compared with each name the platform gave: id, handle, username)."""
        wanted = expected.lower().lstrip("@")
        if any(str(n).lower().lstrip("@") == wanted for n in names if n):
            return []
        shown = " / ".join(dict.fromkeys(str(n) for n in names if n)) or "an unknown account"
        return [ChannelProblem(f"the credentials of channel {self.channel_id} act as {shown}, not as {self.account} — store the "
                               f"credentials of {self.account}, or fix the channel's account in calendar.yaml")]

    def read_media(self, path: Any, *, limit: int | None = None) -> bytes:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise PermanentError(f"cannot read the rendered media {path}: {exc.strerror} — render the assets again") from None
        if limit is not None and len(data) > limit:
            raise PermanentError(f"{path.name} is {len(data) / MiB:.1f} MB; {self.platform} accepts at most {limit / MiB:.1f} MB")
        return data

    def close(self) -> None:
        self.session.close()
