"""`/signed/<token>/<file>`: the build folder's files at signed, expiring addresses, for platforms
that fetch media by URL (Instagram, Threads). No login: the token is the permission, and it names
one file and when it stops working (campaign/media_urls.py). Refusals: 403 (tampered, another
file, outside the build folder), 410 (expired), 404 (no key set up, or the file is gone).
Range requests are answered by Starlette's FileResponse (video fetchers ask for parts).
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from campaign.clock import Clock
from campaign.media_urls import ROUTE, MediaKeyMissing, MediaSigner, Refused, load_key


def routes(build: Path, clock: Clock, key: str | None = None) -> list[Route]:
    """The media route, signing key from `key` or the environment / secrets file (checked per
    request when none is set up yet, so a key added later needs no restart of the reading side)."""

    def signer() -> MediaSigner | None:
        try:
            return MediaSigner(key or load_key(), clock=clock)
        except MediaKeyMissing:
            return None

    async def media(request: Request) -> Response:
        current = signer()
        if current is None:
            return PlainTextResponse("media addresses are not set up on this server", status_code=404)
        try:
            served = current.open(request.path_params["token"], request.path_params["name"], build)
        except Refused as refused:
            return PlainTextResponse(refused.reason, status_code=refused.status)
        headers = {"Cache-Control": "private, no-store", "X-Robots-Tag": "noindex"}
        if served.probe_body is not None:
            return PlainTextResponse(served.probe_body, headers=headers)
        return FileResponse(served.path, media_type=served.content_type, headers=headers)

    return [Route(f"/{ROUTE}/{{token}}/{{name}}", media, methods=["GET", "HEAD"])]
