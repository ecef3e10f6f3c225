"""The designers' desk: drop raw media, see every variant as the feed shows it, fix what was refused.

Routes under /media. Uploads go through tus (`console.tus`, mounted at /media/uploads; the
page drives it with the official tus-js-client) or, without JavaScript, a plain multipart
form (Starlette spools it to disk). Either way the finished file goes through
`scheduler.media_actions.take_upload`, the inbox's own checks, and the answer comes at once.
Renders run in the console's background thread (`console.renders`), their progress read
from the store the renderers write. The page helpers (`page`, `render`, ...) are handed in by
`console.app`, so this module never imports it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from assets.intake import MAX_UPLOAD_BYTES, UPLOADS_DIR, Arrival, upload_problem
from console import desk_views
from console.renders import BackgroundRenders
from console.security import same_origin
from console.sessions import csrf_ok
from console.tus import Refused, TusServer, UploadFolder, UploadInfo
from scheduler import actions, media_actions

#: Status of a refused tus creation, by what was wrong (intake.upload_problem).
CREATION_STATUS = {"name": 400, "type": 415, "size": 413}
ROLES_SHOWN = (("photo", "photo"), ("clip", "clip"), ("subtitles", "subtitles"))


@dataclass
class Desk:
    """Per console: its background renders and its uploads in progress."""

    renders: BackgroundRenders
    uploads: UploadFolder


def routes(console: Any, *, page: Callable, render: Callable, back: Callable, error: Callable,
           current: Callable) -> list[BaseRoute]:
    """The desk's routes for `console` (its page helpers passed in by console.app)."""
    config = console.config
    desk = Desk(BackgroundRenders(config.calendar, config.inbox, config.build, console.store, console.clock),
                UploadFolder(Path(config.inbox) / UPLOADS_DIR))
    console.desk = desk

    def take(staged: Path, name: str, by: str) -> Arrival:
        calendar = console.calendar()
        if calendar is None:
            from assets.inbox import reject

            reason = "the calendar does not load, so no file can be checked against it — fix calendar.yaml, then retry this file"
            moved = reject(_named(staged, name), Path(config.inbox), reason)
            return Arrival(name=name, accepted=False, reasons=[reason], path=str(moved.relative_to(config.inbox)))
        arrival = media_actions.take_upload(console.store, staged=staged, name=name, inbox=Path(config.inbox),
                                            calendar=calendar, by=by, now=console.clock.now())
        if arrival.accepted:
            desk.renders.request()
        return arrival

    # -- pages -----------------------------------------------------------------------------

    @page("viewer")
    def desk_page(request: Request, console: Any, me: Any) -> Response:
        calendar = console.calendar()
        return render(request, console, "media.html.j2", me, testimonials=desk_views.desk(
            calendar, config.inbox, config.build, console.store), rejected=desk_views.rejected(config.inbox),
            unknown=set(desk_views.unknown_names(calendar, config.inbox)),
            choices=[t.id for t in calendar.testimonials] if calendar else [],
            languages=sorted({lang for c in calendar.channels for lang in c.languages}) if calendar else [],
            max_bytes=MAX_UPLOAD_BYTES, roles=ROLES_SHOWN)

    @page("viewer")
    def testimonial_page(request: Request, console: Any, me: Any) -> Response:
        found = desk_views.desk(console.calendar(), config.inbox, config.build, console.store,
                                testimonial=request.path_params["testimonial"])
        if not found:
            return error(request, console, me, 404, f"There is no testimonial {request.path_params['testimonial']} in the calendar.")
        return render(request, console, "media_testimonial.html.j2", me, t=found[0])

    @page("viewer")
    def variants_fragment(request: Request, console: Any, me: Any) -> Response:
        found = desk_views.desk(console.calendar(), config.inbox, config.build, console.store,
                                testimonial=request.path_params["testimonial"])
        if not found:
            return PlainTextResponse("no such testimonial", status_code=404)
        return render(request, console, "_media_variants.html.j2", me, t=found[0])

    @page("viewer")
    def raw_file(request: Request, console: Any, me: Any) -> Response:
        path = desk_views.inbox_path(config.inbox, request.path_params["area"], request.path_params["name"])
        if path is None:
            return PlainTextResponse("no such file", status_code=404)
        return FileResponse(path, headers={"Cache-Control": "private, no-cache", "Content-Disposition": "inline"})

    @page("viewer")
    def rendered_file(request: Request, console: Any, me: Any) -> Response:
        build = Path(config.build).resolve()
        path = (build / request.path_params["output"]).resolve()
        if build not in path.parents or not path.is_file() or path.name.startswith("."):
            return PlainTextResponse("not rendered", status_code=404)
        return FileResponse(path, headers={"Cache-Control": "private, no-cache"})

    # -- actions ---------------------------------------------------------------------------

    @page("designer", post=True)
    def upload_action(request: Request, console: Any, me: Any) -> Response:
        """Without JavaScript: the form posts the files (Starlette spools them to disk, never whole in memory)."""
        form = request.state.form
        files = [f for f in form.getlist("file") if isinstance(f, UploadFile) and f.filename]
        if not files:
            return back(request, "Not done: choose at least one file.")
        said = []
        for upload in files:
            name = os.path.basename(upload.filename or "")
            problem = upload_problem(name, upload.size or 0)
            if problem:
                said.append(f"{name}: refused — {problem[1]}")
                continue
            arrival = _spool_and_take(upload, Path(config.inbox), name, me.name, take)
            said.append(_sentence(arrival))
        return back(request, " · ".join(said), "/media")

    @page("designer", post=True)
    def approve_action(request: Request, console: Any, me: Any) -> Response:
        form = _fields(request)
        calendar = console.calendar()
        if calendar is None:
            return back(request, "Not done: the calendar does not load; fix it first.")
        try:
            outcome = media_actions.approve_media(console.store, testimonial=form.get("testimonial", ""),
                                                  kind=form.get("kind", ""), inbox=Path(config.inbox), calendar=calendar,
                                                  by=me.name, now=console.clock.now())
        except actions.ActionError as failed:
            return back(request, f"Not done: {failed}")
        return back(request, outcome.message)

    @page("designer", post=True)
    def render_action(request: Request, console: Any, me: Any) -> Response:
        form = _fields(request)
        output = form.get("output", "")
        calendar = console.calendar()
        from assets.needs import required_renders

        known = {j.output for j in required_renders(calendar)} if calendar else set()
        if output not in known:
            return back(request, f"Not done: {output or 'that'} is not a variant the calendar needs.")
        console.store.add_audit(console.clock.now(), me.name, "media-render", output, "rendered again on request")
        desk.renders.request(forget=[output])
        return back(request, f"{output} renders again")

    @page("designer", post=True)
    def retry_action(request: Request, console: Any, me: Any) -> Response:
        form = _fields(request)
        calendar = console.calendar()
        if calendar is None:
            return back(request, "Not done: the calendar does not load; fix it first.")
        try:
            arrival = media_actions.retry_rejected(console.store, file=form.get("file", ""), inbox=Path(config.inbox),
                                                   calendar=calendar, by=me.name, now=console.clock.now())
        except actions.ActionError as failed:
            return back(request, f"Not done: {failed}")
        if arrival.accepted:
            desk.renders.request()
        return back(request, _sentence(arrival))

    @page("designer", post=True)
    def delete_action(request: Request, console: Any, me: Any) -> Response:
        form = _fields(request)
        try:
            outcome = media_actions.delete_rejected(console.store, file=form.get("file", ""), inbox=Path(config.inbox),
                                                    by=me.name, now=console.clock.now())
        except actions.ActionError as failed:
            return back(request, f"Not done: {failed}")
        return back(request, outcome.message)

    # -- tus ---------------------------------------------------------------------------------

    async def authorize(request: Request) -> Any:
        from starlette.concurrency import run_in_threadpool

        method = request.headers.get("x-http-method-override", request.method).upper()
        changes = method in ("POST", "PATCH", "DELETE")
        if changes and not same_origin(request):
            return PlainTextResponse("This upload did not come from the console's own page.", status_code=403)
        account, session = await run_in_threadpool(current, request, console)
        if account is None:
            return PlainTextResponse("Your session ended: log in again.", status_code=401)
        if changes and not csrf_ok(session, request.headers.get("x-csrf-token", "")):
            return PlainTextResponse("The upload did not come from the console's page (CSRF token missing or wrong): "
                                     "reload the page.", status_code=403)
        if not account.can("designer"):
            return PlainTextResponse(f"Only designers may upload; you are a {account.role}.", status_code=403)
        return account.name

    def on_complete(info: UploadInfo, path: Path) -> dict[str, Any]:
        return take(path, info.name, info.owner).to_dict()

    tus = TusServer(desk.uploads, authorize=authorize, check_creation=check_creation, on_complete=on_complete,
                    max_size=MAX_UPLOAD_BYTES, clock=console.clock)

    return [
        Route("/media", desk_page, methods=["GET"]),
        Route("/media/t/{testimonial}", testimonial_page, methods=["GET"]),
        Route("/media/t/{testimonial}/variants", variants_fragment, methods=["GET"]),
        Route("/media/raw/{area}/{name}", raw_file, methods=["GET"]),
        Route("/media/build/{output:path}", rendered_file, methods=["GET"]),
        Route("/media/upload", upload_action, methods=["POST"]),
        Route("/media/approve", approve_action, methods=["POST"]),
        Route("/media/render", render_action, methods=["POST"]),
        Route("/media/rejected/retry", retry_action, methods=["POST"]),
        Route("/media/rejected/delete", delete_action, methods=["POST"]),
        *tus.routes("/media/uploads"),
    ]


def check_creation(length: int, metadata: dict[str, str], who: str) -> None:
    """The server's own check of type and size before a tus upload starts (the page's is only a courtesy)."""
    problem = upload_problem(metadata.get("filename") or metadata.get("name") or "", length, metadata.get("role") or None)
    if problem:
        raise Refused(CREATION_STATUS[problem[0]], problem[1])


def _spool_and_take(upload: UploadFile, inbox: Path, name: str, by: str, take: Callable[[Path, str, str], Arrival]) -> Arrival:
    """Copy a multipart file (already spooled by Starlette) into a staging folder on the inbox's disk, then take it."""
    staging = Path(tempfile.mkdtemp(prefix="form-", dir=_uploads_root(inbox)))
    try:
        staged = staging / name
        with staged.open("wb") as out:
            upload.file.seek(0)
            shutil.copyfileobj(upload.file, out, 4 * 1024 * 1024)
        return take(staged, name, by)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _uploads_root(inbox: Path) -> Path:
    root = Path(inbox) / UPLOADS_DIR
    root.mkdir(parents=True, exist_ok=True)
    return root


def _named(staged: Path, name: str) -> Path:
    target = staged.parent / name
    if staged != target:
        os.replace(staged, target)
    return target


def _sentence(arrival: Arrival) -> str:
    if arrival.accepted:
        said = f"{arrival.name}: in the inbox as {arrival.testimonial}'s {arrival.role}"
        return said + (f" (the earlier file is kept as {arrival.replaced})" if arrival.replaced else "") + "; rendering"
    return f"{arrival.name}: refused — {' '.join(arrival.reasons)} (kept in {arrival.path})"


def _fields(request: Request) -> dict[str, str]:
    """The posted form's text fields (page() has read and checked it)."""
    return {k: str(v) for k, v in request.state.form.items() if isinstance(v, str)}


def arrival_json(arrival: Arrival, status: int | None = None) -> JSONResponse:
    return JSONResponse(arrival.to_dict(), status_code=status or (201 if arrival.accepted else 422))

