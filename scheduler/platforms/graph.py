"""Meta Graph API error shape and insights answers, shared by the Facebook and Instagram packages.

Errors arrive as `{"error": {"message", "type", "code", "error_subcode", "error_user_msg",
"fbtrace_id"}}`, usually with HTTP 400. Rate limits carry no Retry-After: the wait is read
from `X-Business-Use-Case-Usage` / `X-App-Usage` (`estimated_time_to_regain_access`, in
minutes); when neither says, we wait `DEFAULT_RATE_WAIT` seconds.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import requests

from campaign.api_versions import GRAPH_DEFAULT_VERSION
from scheduler.platforms.base import AuthError, OutcomeUnknown, OutgoingMedia, PermanentError, RateLimited, TransientError
from scheduler.platforms.http import HttpPublisher

#: Seconds to wait on a Graph rate limit that does not say how long (Meta documents none).
DEFAULT_RATE_WAIT = 300.0
#: Instagram's 50-posts-per-24-h quota (code 9 / subcode 2207042) names no reset time: wait an hour, then retry.
INSTAGRAM_QUOTA_WAIT = 3600.0

RATE_CODES = {4, 17, 32, 613, 80001, 341}
TRANSIENT_CODES = {1, 2}
AUTH_CODES = {190, 102}
PERMISSION_CODES = {10} | set(range(200, 300))
DUPLICATE_CODE = 506
QUOTA_CODE, QUOTA_SUBCODE = 9, 2207042


def regain_access_seconds(headers: Any) -> float | None:
    """Largest `estimated_time_to_regain_access` (minutes) in Meta's usage headers, in seconds."""
    best: float | None = None
    for name in ("X-Business-Use-Case-Usage", "X-App-Usage", "X-Ad-Account-Usage"):
        raw = headers.get(name)
        if not raw:
            continue
        try:
            value = json.loads(raw)
        except ValueError:
            continue
        for entry in _usage_entries(value):
            minutes = entry.get("estimated_time_to_regain_access")
            if isinstance(minutes, (int, float)) and minutes > 0:
                best = max(best or 0.0, float(minutes) * 60.0)
    return best


def _usage_entries(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict) and "estimated_time_to_regain_access" in value:
        return [value]
    if isinstance(value, dict):
        out: list[dict[str, Any]] = []
        for item in value.values():
            out.extend(_usage_entries(item))
        return out
    if isinstance(value, list):
        return [e for item in value for e in _usage_entries(item)]
    return []


def raise_graph_error(publisher: Any, response: requests.Response, *, creates: bool) -> None:
    """Turn a Graph API error answer into the matching publisher error (never returns)."""
    status = response.status_code
    try:
        error = response.json().get("error", {})
    except (ValueError, AttributeError):
        error = {}
    if not isinstance(error, dict):  # a server that is not the Graph API (or echoes the request) answers text
        error = {"message": str(error)}
    code = error.get("code")
    subcode = error.get("error_subcode")
    message = publisher.scrub(str(error.get("error_user_msg") or error.get("message") or publisher.body_text(response, 200)))
    label = f"{code}" + (f"/{subcode}" if subcode else "")
    platform = publisher.platform
    if code == QUOTA_CODE and subcode == QUOTA_SUBCODE:
        raise RateLimited(
            f"{publisher.who} reached Instagram's limit of 50 published posts in 24 hours ({message})",
            regain_access_seconds(response.headers) or INSTAGRAM_QUOTA_WAIT,
            platform_code=label,
        )
    if code in RATE_CODES or status == 429:
        raise RateLimited(
            f"{platform} rate limit for {publisher.who} (code {label}): {message}",
            regain_access_seconds(response.headers) or DEFAULT_RATE_WAIT,
            platform_code=label,
        )
    if code in AUTH_CODES or status == 401:
        raise AuthError(
            f"the {platform} token of {publisher.who} is expired or invalid (code {label}) — create a new Page token "
            f"and store it as the channel's TOKEN",
            platform_code=label,
        )
    if code in PERMISSION_CODES or status == 403:
        raise AuthError(f"{publisher.who} lacks a permission {platform} requires (code {label}): {message}", platform_code=label)
    if code == DUPLICATE_CODE:
        raise OutcomeUnknown(
            f"{platform} rejected the post as a duplicate (code 506): it probably exists already on {publisher.who}, "
            f"but {platform} does not say which post — check the Page and mark it published",
            platform_code=label,
        )
    if code in TRANSIENT_CODES or status >= 500:
        raise TransientError(f"{platform} had a temporary problem (HTTP {status}, code {label}): {message}", platform_code=label)
    raise PermanentError(f"{platform} refused the post for {publisher.who} (code {label}): {message}", platform_code=label)


def graph_values(body: Any) -> dict[str, Any]:
    """Meta's insights answer (`data: [{name, period, values: [{value}]}]`) as {name: value}."""
    out: dict[str, Any] = {}
    for item in (body or {}).get("data", []) if isinstance(body, dict) else []:
        values = item.get("values") or [{}]
        out[str(item.get("name"))] = values[-1].get("value")
    return out


class GraphPublisher(HttpPublisher):
    """What the Facebook and Instagram publishers share: the versioned Graph address, the Page or
    account token, and the Graph error shape."""

    DEFAULTS = {"base_url": "https://graph.facebook.com", "version": GRAPH_DEFAULT_VERSION}

    def _graph(self, path: str) -> str:
        return f"{self.api['base_url'].rstrip('/')}/{self.api['version']}/{path.lstrip('/')}"

    def api_url(self, path: str) -> str:
        return self._graph(path)

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": "Bearer " + self.credentials.require("TOKEN")}

    def raise_for(self, response: requests.Response, *, creates: bool = False) -> None:
        raise_graph_error(self, response, creates=creates)

    def media_url(self, media: OutgoingMedia) -> str:
        """The address Meta fetches a photo or clip from (Instagram, Threads): the one the daemon made
        for this publish (`public_url`: signed, scheduler/media_links.py), else a plain
        `api.media_base_url` + the file's path in the build folder (tests, older set-ups)."""
        if media.public_url:
            return media.public_url
        base = self.api.get("media_base_url")
        if not base:
            raise PermanentError(f"{self.platform} fetches media from a public URL, but channel {self.channel_id} has none — "
                                 "set `media_urls:` in calendar.yaml (see the README, \"Media addresses\")")
        return base.rstrip("/") + "/" + quote(media.relative_path or "/".join(media.path.parts[-2:]))
