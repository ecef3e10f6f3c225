"""The HTTP API under `/api/v1/`: JSON, personal tokens, an OpenAPI document.

FastAPI (built on the Starlette the console already runs, with the pydantic it already uses)
turns each endpoint's pydantic models into the OpenAPI document at `/api/v1/openapi.json`
and validates requests against them. Each part of the API is its own module with a
`router` (a FastAPI APIRouter); to add one, write the module and name it in
`ROUTER_MODULES`. In an endpoint:

- `me: Caller` (any valid token), `me: Approver`, `me: Admin`, or
  `Annotated[Account, Depends(needs("editor"))]` (console.api.auth): 401 / 403 are answered;
- `allowed_channel(me, channel_ids, "moment x")`: 403 for a channel outside the person's;
- `check_if_match(request, etag(...))`: 412 for a stale copy; send the `ETag` header on reads;
- `raise invalid(calendar_error.problems)`: 422 with each problem's `line` and `message`;
- `raise ApiError(status, "what is wrong and what to do")` for anything else;
- call `scheduler.actions` (or a sibling module): the console and the CLI call the same.
"""

from __future__ import annotations

import importlib
from typing import Any

from fastapi import FastAPI

from console.api import errors
from console.offload import off_loop

PREFIX = "/api/v1"

#: Modules with a `router`, in the order their paths appear in the OpenAPI document.
ROUTER_MODULES = [
    "console.api.posts",
    "console.api.moments",
    "console.api.media",
    "console.api.connections",
]


def create_api(console: Any) -> FastAPI:
    """The API app, mounted by `console.server.create_app` at PREFIX, sharing its `Console`."""
    api = FastAPI(title="Embracing Openness campaign API", version="1",
                  description="The campaign's posts, moments and review, for scripts and other tools. "
                              "Authenticate with `Authorization: Bearer TOKEN` (a personal token: "
                              "`python run.py user token NAME`); each call acts with that person's role and channels.",
                  openapi_url="/openapi.json", docs_url=None, redoc_url=None, swagger_ui_oauth2_redirect_url=None,
                  default_response_class=errors.ScrubbedJSON, servers=[{"url": PREFIX}], root_path_in_servers=False,
                  generate_unique_id_function=lambda route: route.name)  # operationId: the function's name
    errors.install(api)
    for name in ROUTER_MODULES:
        api.include_router(importlib.import_module(name).router)
    api.state.console = console
    api.add_middleware(ClockHeader, console=console)
    return api


class ClockHeader:
    """Every answer says which clock its times are on, as the pages' header does: `X-Campaign-Clock:
    campaign clock: 2027-03-14 09:00 UTC (x3600, rehearsal)` on a rehearsal's store, `real clock: ...`
    otherwise (one clock per store, issue 23)."""

    def __init__(self, app: Any, console: Any) -> None:
        self.app, self.console = app, console

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        describe = getattr(self.console.clock, "describe", None)
        if scope["type"] != "http" or describe is None:
            await self.app(scope, receive, send)
            return
        shown = (await off_loop(describe, quick=True)).encode("latin-1", "replace")

        async def with_clock(message: Any) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"x-campaign-clock", shown)]}
            await send(message)

        await self.app(scope, receive, with_clock)
