"""The API's errors: one JSON shape (RFC 9457 problem details) for every refusal.

    {"status": 422, "title": "Invalid input", "detail": "...", "errors": [{"line": 12, "message": "..."}]}

`errors` lists each problem (calendar problems carry their `line` in calendar.yaml, the same
text `validate` prints; request fields carry `field`). Endpoints raise `ApiError`; the
handlers below also turn FastAPI's own validation errors and unknown routes into this shape.
"""

from __future__ import annotations

from typing import Any, Iterable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from campaign.secrets import scrub

TITLES = {400: "Bad request", 401: "Not authenticated", 403: "Not allowed", 404: "Not found",
          405: "Method not allowed", 409: "Conflict", 412: "Precondition failed", 422: "Invalid input",
          428: "Precondition required", 500: "Server error"}


class ErrorItem(BaseModel):
    """One problem: a calendar line (as `validate` reports it) or a request field."""

    message: str
    line: int | None = None
    file: str | None = None
    field: str | None = None


class Problem(BaseModel):
    """Every error answer of the API."""

    status: int
    title: str
    detail: str
    errors: list[ErrorItem] = []


class ApiError(Exception):
    """Raised by an endpoint: answered as a `Problem` with this status."""

    def __init__(self, status: int, detail: str, errors: Iterable[ErrorItem | dict[str, Any]] = (),
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = [e if isinstance(e, ErrorItem) else ErrorItem(**e) for e in errors]
        self.headers = headers or {}


def invalid(problems: Iterable[Any], detail: str = "the input is not valid") -> ApiError:
    """A 422 from calendar problems (`campaign.errors.Problem`: file, line, where, message) or plain strings."""
    items = []
    for problem in problems:
        if isinstance(problem, str):
            items.append(ErrorItem(message=problem))
        else:
            where = getattr(problem, "where", "")
            items.append(ErrorItem(message=f"{where}: {problem.message}" if where else problem.message,
                                   line=getattr(problem, "line", None), file=getattr(problem, "file", None)))
    return ApiError(422, detail, items)


class ScrubbedJSON(JSONResponse):
    """JSON with configured credentials and token-shaped text masked, as every console page is."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return scrub(super().render(content).decode("utf-8")).encode("utf-8")


def problem_response(status: int, detail: str, errors: Iterable[ErrorItem] = (),
                     headers: dict[str, str] | None = None) -> JSONResponse:
    body = Problem(status=status, title=TITLES.get(status, "Error"), detail=detail, errors=list(errors))
    response = ScrubbedJSON(body.model_dump(mode="json", exclude_none=False), status_code=status, headers=headers)
    response.headers["content-type"] = "application/problem+json"
    response.headers["cache-control"] = "no-store"
    return response


def install(app: FastAPI) -> None:
    """Every error of `app` as a Problem."""

    async def api_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ApiError)
        return problem_response(error.status, error.detail, error.errors, error.headers)

    async def validation_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        items = [ErrorItem(field=".".join(str(p) for p in e.get("loc", ()) if p != "body") or None,
                           message=str(e.get("msg", "invalid"))) for e in error.errors()]
        return problem_response(422, "the request is not valid: " + "; ".join(
            f"{i.field}: {i.message}" if i.field else i.message for i in items), items)

    async def http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        detail = error.detail if isinstance(error.detail, str) else TITLES.get(error.status_code, "error")
        if error.status_code == 404 and detail == "Not Found":
            detail = f"no such API path: {request.url.path} (the paths are listed in /api/v1/openapi.json)"
        return problem_response(error.status_code, detail, headers=getattr(error, "headers", None))

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)


#: The error answers every authenticated endpoint may give, for the OpenAPI document.
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "No token, or a token that is not valid (revoked, unknown)."},
    403: {"model": Problem, "description": "The person's role or channels do not allow this."},
    422: {"model": Problem, "description": "Invalid input: each problem with its `line` or `field` and `message`."},
}
