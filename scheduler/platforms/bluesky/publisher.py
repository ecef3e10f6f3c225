"""Bluesky publisher (AT Protocol XRPC): session (create, refresh on ExpiredToken), image
blobs via uploadBlob, video via the video service (getServiceAuth, app.bsky.video.uploadVideo,
getJobStatus), then createRecord with `langs`, byte-offset facets, alt text, aspect ratio
and a record key (TID) derived from the post's idempotency key.

The text is the planner's caption as is: it already fits 300 graphemes and shows a long
link in Bluesky's short form; the facets come from the planner's own rules
(`scheduler.platforms.bluesky.text.bluesky_facets`), so the link facet spans that short form and points at the
full link (with its UTM tags) the post carries in `post.link`.

Because the record key is ours, a retried createRecord cannot create a second post: it
conflicts (the real PDS answers HTTP 500 "There is already a value at key"), so whenever a
create may have reached the server (a 5xx, a lost answer, a conflict) the publisher reads
the record at that key (`find_existing`) before anyone retries.

Clips go to the video service with a service token whose `aud` is the DID of the account's
own PDS (from the session's DID document, not the entry host) and whose `exp` is on the real
clock (auth and protocol times never follow the campaign clock); a job answering
`already_exists` hands back the blob. A PDS with no video service (self-hosted, the real
`@atproto/pds` on its own) answers "No service configured": the clip then goes up as a
plain blob and the same `app.bsky.embed.video` record, as Bluesky's video tutorial allows.
The job id and the processed blob are kept in the post's step ledger: while the service is
still processing, the publish answers `Pending` and a later pass continues it (slow work is a
state, never a 900 s wait that holds up the channel).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
from typing import Any
from urllib.parse import urlparse

import requests

from campaign.clock import Clock, SystemClock
from campaign.platforms import PLATFORMS
from scheduler.platforms.http import HttpPublisher, seconds_until_epoch
from scheduler.platforms.base import (
    AuthError,
    OutgoingMedia,
    OutgoingPost,
    PermanentError,
    PublishError,
    PublishResult,
    RateLimited,
    StepLedger,
    TransientError,
)
from scheduler.platforms.base import ChannelProblem  # what check() returns
from scheduler.platforms.credentials import scrub_text
from scheduler.platforms.bluesky.tid import tid_for
from scheduler.platforms.bluesky.text import bluesky_facets

DEFAULT_RATE_WAIT = 300.0
POST_COLLECTION = "app.bsky.feed.post"
#: Ledger steps of a clip: the video service's job, then the processed blob (JSON).
VIDEO_JOB, VIDEO_BLOB = "video_job", "video_blob"
SERVICE_TOKEN_SECONDS = 1800  # the PDS refuses a service token that lives more than an hour
#: What a PDS without a video service answers to app.bsky.video.* (checked on @atproto/pds 0.5.35).
NO_VIDEO_SERVICE = ("No service configured", "MethodNotImplemented")

log = logging.getLogger("scheduler.channels")


class _Expired(AuthError):
    """The access token expired: refresh the session and try once more."""


class BlueskyPublisher(HttpPublisher):
    platform = "bluesky"
    can_find_existing = True
    safe_create_retry = True
    idempotency_window_seconds = float("inf")
    sends_clip_alt_text = True
    sends_aspect_ratio = True
    DEFAULTS = {"base_url": "https://bsky.social", "video_base_url": "https://video.bsky.app"}

    def __init__(self, *args: Any, real_clock: Clock | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        given = kwargs.get("api") or {}
        if given.get("base_url") and given["base_url"].rstrip("/") != self.DEFAULTS["base_url"] and not given.get("video_base_url"):
            # a self-hosted PDS: clips go to the account's own service (which may answer "No
            # service configured": the plain-blob path), never to Bluesky's video service
            self.api["video_base_url"] = self.api["base_url"]
        self._session: dict[str, Any] = {}
        #: auth and protocol times (service-token expiry, rate-limit resets): never the campaign clock
        self.real_clock = real_clock or SystemClock()

    def scrub(self, text: str) -> str:
        return scrub_text(text, self.credentials.secrets() + tuple(self._session.get(k, "") for k in ("accessJwt", "refreshJwt")))

    # ---- errors and session ---------------------------------------------------------
    def raise_for(self, response: requests.Response, *, creates: bool = False) -> None:
        status = response.status_code
        body: Any = None
        try:
            body = response.json()
            # a server may echo the request in `error` too: it is scrubbed like the message
            error, message = self.scrub(str(body.get("error", ""))), self.scrub(str(body.get("message") or body.get("error") or ""))
        except (ValueError, AttributeError):
            error, message = "", self.body_text(response, 200)
        if status == 429 or error == "RateLimitExceeded":
            wait = seconds_until_epoch(response.headers.get("RateLimit-Reset"), self.real_clock.now().timestamp(), DEFAULT_RATE_WAIT)
            raise RateLimited(f"Bluesky rate limit for {self.who}: {message}", wait, platform_code=error or "429")
        if error == "ExpiredToken":
            raise _Expired(f"the Bluesky session of {self.who} expired", platform_code=error)
        if status == 401 or error in ("AuthRequired", "InvalidToken", "AuthenticationRequired", "AccountTakedown"):
            raise AuthError(f"Bluesky refused the credentials of {self.who} ({error or status}) — check the handle and create a new "
                            "app password, stored as IDENTIFIER and PASSWORD", platform_code=error or str(status))
        if status >= 500:
            raise TransientError(f"Bluesky had a temporary problem (HTTP {status}): {message}", platform_code=error or str(status))
        refused = PermanentError(f"Bluesky refused the request for {self.who} ({error or status}): {message}",
                                 platform_code=error or str(status))
        refused.body = body if isinstance(body, dict) else None  # type: ignore[attr-defined]  # already_exists carries the blob
        raise refused

    def _login(self) -> None:
        body = self.json(self.request("POST", self._xrpc_url("com.atproto.server.createSession"), what="sign-in",
                                      json={"identifier": self.credentials.require("IDENTIFIER"),
                                            "password": self.credentials.require("PASSWORD")}))
        self._session = {k: str(body[k]) for k in ("accessJwt", "refreshJwt", "did", "handle") if k in body}
        if isinstance(body.get("didDoc"), dict):
            self._session["didDoc"] = body["didDoc"]

    def _refresh(self) -> None:
        try:
            body = self.json(self.request("POST", self._xrpc_url("com.atproto.server.refreshSession"), what="session refresh",
                                          headers={"Authorization": "Bearer " + self._session.get("refreshJwt", "")}))
        except PublishError as exc:
            self._session = {}
            raise AuthError(f"the Bluesky session of {self.who} expired and could not be refreshed ({exc.platform_code or 'error'}) "
                            "— check the app password stored as PASSWORD") from None
        self._session.update({k: str(body[k]) for k in ("accessJwt", "refreshJwt", "did", "handle") if k in body})
        if isinstance(body.get("didDoc"), dict):
            self._session["didDoc"] = body["didDoc"]

    def _xrpc_url(self, nsid: str, *, video: bool = False) -> str:
        return self.url("video_base_url" if video else "base_url", f"/xrpc/{nsid}")

    def _call(self, method: str, nsid: str, *, video: bool = False, token: str | None = None, **kwargs: Any) -> requests.Response:
        """An authenticated XRPC call; on ExpiredToken refresh the session once and retry."""
        if not self._session:
            self._login()
        for attempt in range(2):
            headers = {**kwargs.pop("headers", {}), "Authorization": "Bearer " + (token or self._session["accessJwt"])}
            try:
                return self.request(method, self._xrpc_url(nsid, video=video), headers=headers, **kwargs)
            except _Expired:
                if attempt or token:
                    raise AuthError(f"the Bluesky session of {self.who} expired again right after a refresh — sign in again") from None
                self._refresh()
                kwargs["headers"] = {k: v for k, v in headers.items() if k != "Authorization"}
        raise AssertionError("unreachable")

    def read(self, path: str, *, what: str, params: dict[str, str] | None = None) -> Any:
        """An authenticated XRPC query (`path` is its NSID) and its JSON answer."""
        return self.json(self._call("GET", path, what=what, params=params))

    def check(self) -> list[ChannelProblem]:
        """Sign in and ask the PDS whose session it is (com.atproto.server.getSession)."""
        me, problems = self.ask(lambda: self.json(self._call("GET", "com.atproto.server.getSession", what="who am I")),
                                what="the app password")
        if me is None:
            return problems
        return self.acting_as(self.account, me.get("handle"), me.get("did")) + self._main_password_problem()

    def _main_password_problem(self) -> list[ChannelProblem]:
        """The PDS marks a session signed in with an app password (JWT scope `com.atproto.appPass`);
        one signed in with the account's main password (`com.atproto.access`) works too, but that
        password can change the account's email, password and handle: say so, do not stop."""
        scope = _jwt_claims(self._session.get("accessJwt", "")).get("scope")
        if scope != "com.atproto.access":
            return []
        return [ChannelProblem(f"PASSWORD of channel {self.channel_id} is the main password of {self.account}, not an app "
                               "password — create one (Bluesky: Settings → Privacy and security → App passwords) and "
                               "store it as PASSWORD: the main password can change the account itself", blocking=False)]

    # ---- publishing -------------------------------------------------------------------
    def rkey(self, post: OutgoingPost) -> str:
        return tid_for(post.scheduled_at, post.idempotency_key)

    def publish(self, post: OutgoingPost, ledger: StepLedger | None = None) -> PublishResult:
        ledger = ledger or StepLedger()
        if not self._session:
            self._login()
        record: dict[str, Any] = {
            "$type": POST_COLLECTION,
            "text": post.text,
            "createdAt": self.clock.now().astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z"),
            "langs": [post.language],
        }
        facets = bluesky_facets(post.text, links=[post.link] if post.link else [])
        if facets:
            record["facets"] = facets
        if post.media:
            record["embed"] = self._embed(post.media, ledger)
        rkey = self.rkey(post)
        try:
            response = self._call("POST", "com.atproto.repo.createRecord", creates=True, ledger=ledger, what="the post", json={
                "repo": self._session["did"], "collection": POST_COLLECTION, "rkey": rkey, "record": record,
            })
        except (TransientError, PermanentError) as error:
            # The create may have reached the server (5xx, lost answer) or the key is taken by an
            # earlier attempt (a conflict): the record at our key says which, before any retry.
            if isinstance(error, PermanentError) and error.platform_code not in ("InvalidRequest", "400", "409"):
                raise
            existing = self._lookup_after(error, post)
            if existing is not None:
                return existing
            raise
        body = self.json(response)
        return PublishResult(body["uri"], self._web_url(rkey), {"cid": str(body.get("cid", "")), "rkey": rkey})

    def _lookup_after(self, error: PublishError, post: OutgoingPost) -> PublishResult | None:
        try:
            found = self.find_existing(post)
        except PublishError as lookup_error:
            log.info("%s: could not read the record back after %s (%s)", self.channel_id, error.platform_code, lookup_error)
            return None
        if found is not None:
            log.info("%s: the post was already at its record key after %s: %s", self.channel_id,
                     error.platform_code or type(error).__name__, found.remote_id)
        return found

    def _web_url(self, rkey: str) -> str:
        return f"https://bsky.app/profile/{self._session.get('handle') or self._session.get('did')}/post/{rkey}"

    def find_existing(self, post: OutgoingPost) -> PublishResult | None:
        if not self._session:
            self._login()
        rkey = self.rkey(post)
        try:
            response = self._call("GET", "com.atproto.repo.getRecord", what="record lookup",
                                  params={"repo": self._session["did"], "collection": POST_COLLECTION, "rkey": rkey})
        except PermanentError as exc:
            if exc.platform_code in ("RecordNotFound", "400", "404", "InvalidRequest"):
                return None
            raise
        body = self.json(response)
        return PublishResult(body["uri"], self._web_url(rkey), {"cid": str(body.get("cid", "")), "rkey": rkey})

    def _embed(self, media: tuple[OutgoingMedia, ...], ledger: StepLedger) -> dict[str, Any]:
        first = media[0]
        ratio = {"width": first.width, "height": first.height}
        if first.kind == "clip":
            return {"$type": "app.bsky.embed.video", "video": self._video_blob(first, ledger), "alt": first.alt_text[:10000],
                    "aspectRatio": ratio}
        images = []
        for item in media[:4]:
            blob = self.read_media(item.path, limit=PLATFORMS["bluesky"].image_max_bytes)
            uploaded = self._upload_blob(blob, item.mime_type, what="image upload")
            images.append({"image": uploaded, "alt": item.alt_text, "aspectRatio": {"width": item.width, "height": item.height}})
        return {"$type": "app.bsky.embed.images", "images": images}

    def _video_blob(self, media: OutgoingMedia, ledger: StepLedger) -> dict[str, Any]:
        """The processed clip's blob. The upload runs once (its job id kept in the ledger as
        `video_job`); while the video service is still processing it and the ledger is durable,
        `Pending` lets the dispatcher come back later, as on every other platform."""
        done = ledger.get(VIDEO_BLOB)
        if done is not None:
            return dict(json.loads(done))
        job_id = ledger.get(VIDEO_JOB)
        if job_id is None:
            started = self._upload_video(media)
            if isinstance(started, dict):  # no video service, or already processed: the blob to use
                ledger.record(VIDEO_BLOB, json.dumps(started))
                return started
            job_id = started
            ledger.record(VIDEO_JOB, job_id)
        blob = self.poll(lambda: self._job_blob(job_id), what=f"video job {job_id}", ledger=ledger)
        ledger.record(VIDEO_BLOB, json.dumps(blob))
        return blob

    def _upload_video(self, media: OutgoingMedia) -> dict[str, Any] | str:
        """Send the clip to the video service: its processing job's id, or the blob itself when
        there is nothing to wait for."""
        blob = self.read_media(media.path, limit=PLATFORMS["bluesky"].video_max_bytes)
        exp = int(self.real_clock.now().timestamp()) + SERVICE_TOKEN_SECONDS
        token = self.json(self._call("GET", "com.atproto.server.getServiceAuth", what="video service authorisation",
                                     params={"aud": self._pds_service_did(), "lxm": "com.atproto.repo.uploadBlob",
                                             "exp": str(exp)}))["token"]
        try:
            response = self._call("POST", "app.bsky.video.uploadVideo", video=True, token=token, what="video upload", data=blob,
                                  params={"did": self._session["did"], "name": media.path.name},
                                  headers={"Content-Type": media.mime_type})
        except PermanentError as error:
            if _no_video_service(error):
                log.info("%s: the PDS has no video service (%s); uploading the clip as a blob", self.channel_id, error)
                return self._upload_blob(blob, media.mime_type, what="video upload (no video service)")
            existing = getattr(error, "body", None)
            if error.platform_code != "already_exists" or not isinstance(existing, dict):
                raise
            response_body: dict[str, Any] = existing
        else:
            response_body = self.json(response)
        job = response_body.get("jobStatus", response_body)
        if isinstance(job.get("blob"), dict):
            return job["blob"]  # already processed (already_exists): the blob to use
        return str(job["jobId"])

    def _upload_blob(self, data: bytes, mime: str, *, what: str) -> dict[str, Any]:
        return self.json(self._call("POST", "com.atproto.repo.uploadBlob", what=what, data=data,
                                    headers={"Content-Type": mime}))["blob"]

    def _pds_service_did(self) -> str:
        """did:web of the account's own PDS: the `#atproto_pds` endpoint of the session's DID
        document (on bsky.social that is a host like morel.us-east.host.bsky.network, not the
        entry host), else the host the publisher talks to."""
        document = self._session.get("didDoc")
        if not isinstance(document, dict):
            try:
                document = self.json(self._call("GET", "com.atproto.repo.describeRepo", what="DID document",
                                                params={"repo": self._session["did"]})).get("didDoc")
            except PublishError:
                document = None
        for service in (document or {}).get("service", []) if isinstance(document, dict) else []:
            if str(service.get("id", "")).endswith("#atproto_pds") and service.get("serviceEndpoint"):
                host = urlparse(str(service["serviceEndpoint"])).hostname
                if host:
                    return f"did:web:{host}"
        return f"did:web:{urlparse(self.api['base_url']).hostname}"

    def _job_blob(self, job_id: str) -> dict[str, Any] | None:
        body = self.json(self._call("GET", "app.bsky.video.getJobStatus", video=True, what="video status", params={"jobId": job_id}))
        job = body.get("jobStatus", body)
        if isinstance(job.get("blob"), dict):  # completed, or already_exists: the blob is what counts
            return job["blob"]
        if job.get("state") == "JOB_STATE_FAILED":
            raise PermanentError(f"Bluesky could not process the video for {self.who}: {self.scrub(str(job.get('message') or job.get('error') or 'no detail'))}")
        return None


def _no_video_service(error: PublishError) -> bool:
    text = f"{error.platform_code} {error}"
    return any(marker in text for marker in NO_VIDEO_SERVICE) or error.platform_code in ("404", "501")


def _jwt_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT as sent (not verified: only to read what kind of session the PDS gave)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}

