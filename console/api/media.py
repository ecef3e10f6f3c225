"""`/api/v1/media`: upload a photo, clip or subtitle file; list raw files and every variant's state.

`POST /media` takes one file as multipart (optionally whose it is: `testimonial`, `role`,
`language`, for a name the calendar does not know yet) and answers 201 with what it became,
or 422 with the reasons (the file is kept in `rejected/`). Large clips go through the
resumable tus endpoint `/media/uploads` (same token; any tus client, e.g. tuspy), which ends in
the same place: the inbox's checks (`console.desk.Desk.take`). Designers and admins upload;
any token reads.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse
from starlette.routing import Route

from assets.intake import UPLOADS_DIR, upload_problem
from console import desk_views
from console.accounts import Account
from console.api.auth import Caller, bearer, caller, needs
from console.api.errors import COMMON_RESPONSES, ApiError, Problem

router = APIRouter(tags=["media"], responses=COMMON_RESPONSES)
Designer = Annotated[Account, Depends(needs("designer"))]
TUS_PATH = "/media/uploads"


class Arrival(BaseModel):
    """What an uploaded file became."""

    name: str
    accepted: bool = Field(description="In the inbox (true) or refused and kept in rejected/ (false).")
    reasons: list[str] = Field(default=[], description="Why it was refused, each as the inbox's checks say it.")
    path: str = Field(description="Where it is now, relative to the inbox: `lukas-weber.jpg` or `rejected/lukas-weber.jpg`.")
    testimonial: str | None = None
    role: str | None = Field(None, description="photo, clip or subtitles")
    language: str | None = Field(None, description="The subtitles' language.")
    replaced: str | None = Field(None, description="Where the earlier file of that name went (`replaced/...`), if any.")
    bytes: int


class RawFile(BaseModel):
    role: str
    name: str
    language: str | None = None
    present: bool = Field(description="The file is in the inbox.")
    bytes: int
    versions: list[str] = Field(description="Earlier files of this name kept in replaced/, newest first.")


class Variant(BaseModel):
    output: str = Field(description="The rendered file, relative to the build folder.")
    kind: str
    variant: str
    label: str
    language: str
    width: int
    height: int
    platforms: list[str]
    state: Literal["rendered", "stale", "queued", "rendering", "refused", "missing", "pending"] = Field(
        description="rendered (up to date); stale (made from an earlier file, the new one renders next); queued; "
                    "rendering (with percent); refused (with the reason); missing (its source is not in the inbox); "
                    "pending (not rendered yet)")
    percent: int
    reason: str | None = Field(None, description="Why it was refused, or what it waits for.")
    warnings: list[str] = Field(description="Rendered, but a person should look: enlarged, a face under an app's buttons.")
    notes: list[str] = Field(description="What the renderer did: trimmed for a platform's limit, JPEG quality lowered.")
    upscale: float | None = Field(None, description="How much the source was enlarged to fill the frame.")
    feed_aspect: float | None = Field(None, description="The aspect a feed crops it to (width / height), when one does.")


class MediaApprovalOut(BaseModel):
    approved_by: str
    approved_at: str
    current: bool = Field(description="The approved file is the one in the inbox now (a replaced file is not approved).")


class TestimonialMedia(BaseModel):
    id: str
    name: str
    country: str
    files: list[RawFile]
    variants: list[Variant]
    approval_needed: dict[str, list[str]] = Field(description="photo / clip -> the channels with `media_approval: true` posting it.")
    approvals: dict[str, MediaApprovalOut]


class Rejected(BaseModel):
    file: str = Field(description="Its name in rejected/.")
    name: str = Field(description="The name it arrived with.")
    reason: str
    bytes: int


class MediaList(BaseModel):
    testimonials: list[TestimonialMedia]
    rejected: list[Rejected]


@router.get("/media", response_model=MediaList, summary="List raw media and variants",
            description="Each testimonial's raw files and every variant the calendar needs, with its state, warnings "
                        "and refusal; then the rejected files with their reasons.")
def list_media(request: Request, me: Caller, testimonial: str | None = None) -> MediaList:
    console = request.app.state.console
    found = desk_views.desk(console.calendar(), console.config.inbox, console.config.build, console.store, testimonial)
    return MediaList(testimonials=[TestimonialMedia(**t.to_dict()) for t in found],
                     rejected=[Rejected(**r.__dict__) for r in desk_views.rejected(console.config.inbox)])


@router.post("/media", status_code=201, response_model=Arrival, summary="Upload a photo, clip or subtitle file",
             description="One file, through the inbox's own checks. 201: in the inbox (a file of the same name is kept "
                         "in replaced/). 422: refused, with the reasons; the file is kept in rejected/. For large clips "
                         "use the resumable tus endpoint `/media/uploads`.",
             responses={422: {"model": Problem, "description": "Refused; the reasons in `errors`, the file kept in rejected/."},
                        413: {"model": Problem, "description": "Larger than a file of its kind may be."},
                        415: {"model": Problem, "description": "Not a photo, clip or subtitle file."}})
def upload_media(request: Request, me: Designer, file: Annotated[UploadFile, File(description="The photo, clip or subtitles.")],
                 testimonial: Annotated[str | None, Form(description="Whose file it is, for a name the calendar does not know yet.")] = None,
                 role: Annotated[Literal["photo", "clip", "subtitles"] | None, Form()] = None,
                 language: Annotated[str | None, Form(description="The subtitles' language.")] = None) -> Any:
    console = request.app.state.console
    name = os.path.basename(file.filename or "")
    problem = upload_problem(name, file.size or 0, role)
    if problem:
        status = {"name": 422, "type": 415, "size": 413}[problem[0]]
        raise ApiError(status, problem[1], [{"field": "file", "message": problem[1]}])
    staging = Path(tempfile.mkdtemp(prefix="api-", dir=_uploads_root(console.desk.inbox)))
    try:
        staged = staging / name
        with staged.open("wb") as out:
            file.file.seek(0)
            shutil.copyfileobj(file.file, out, 4 * 1024 * 1024)
        arrival = console.desk.take(staged, name, me, testimonial or None, role, language or None)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if not arrival.accepted:
        raise ApiError(422, f"{arrival.name} was refused and kept in {arrival.path}",
                       [{"field": "file", "message": reason} for reason in arrival.reasons])
    return JSONResponse(Arrival(**arrival.to_dict()).model_dump(), status_code=201)


def _uploads_root(inbox: Path) -> Path:
    root = Path(inbox) / UPLOADS_DIR
    root.mkdir(parents=True, exist_ok=True)
    return root


async def _token_authorize(request: Request) -> Any:
    """tus calls carry the same Bearer token as the rest of the API; designers and admins upload."""
    try:
        credentials: HTTPAuthorizationCredentials | None = await bearer(request)
        me = await run_in_threadpool(caller, request, credentials)
    except ApiError as refused:
        return JSONResponse({"status": refused.status, "detail": refused.detail}, status_code=refused.status,
                            headers=refused.headers)
    if not me.can("designer"):
        return JSONResponse({"status": 403, "detail": f"only designers may upload; {me.name} is a {me.role}"}, status_code=403)
    return me.name


class _Resumable:
    """The desk's tus server behind the API's token (made on first use: the desk belongs to the console)."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        console = scope["app"].state.console
        if getattr(console.desk, "api_tus", None) is None:
            console.desk.api_tus = console.desk.tus(_token_authorize)
        await console.desk.api_tus(scope, receive, send)


_resumable = _Resumable()
router.routes.extend([
    Route(TUS_PATH, _resumable, methods=["POST", "OPTIONS"], include_in_schema=False),
    Route(TUS_PATH + "/{upload_id}", _resumable, methods=["HEAD", "PATCH", "DELETE", "GET", "OPTIONS", "POST"],
          include_in_schema=False),
])

