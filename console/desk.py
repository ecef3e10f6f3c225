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
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from assets.intake import MAX_UPLOAD_BYTES, UPLOADS_DIR, Arrival, refuse, role_of, upload_problem
from assets.needs import required_renders
from console import desk_views
from console.renders import BackgroundRenders
from console.security import same_origin
from console.sessions import csrf_ok
from console.tus import Refused, TusServer, UploadFolder, UploadInfo
from scheduler import actions, media_actions
from scheduler.store.clock import real_time

#: Status of a refused tus creation, by what was wrong (intake.upload_problem).
CREATION_STATUS = {"name": 400, "type": 415, "size": 413}
ROLES_SHOWN = (("photo", "photo"), ("clip", "clip"), ("subtitles", "subtitles"))


class Desk:
    """Per console: its background renders, its uploads in progress, and taking a file in
    (the tus server, the no-JavaScript form and `POST /api/v1/media` all end here)."""

    def __init__(self, console: Any) -> None:
        config = console.config
        self.console = console
        self.inbox, self.build, self.calendar_path = Path(config.inbox), Path(config.build), Path(config.calendar)
        self.renders = BackgroundRenders(config.calendar, config.inbox, config.build, console.store, console.clock,
                                         queue=config.render_queue)
        self.uploads = UploadFolder(self.inbox / UPLOADS_DIR)

    def take(self, staged: Path, name: str, me: Any, testimonial: str | None = None, role: str | None = None,
             language: str | None = None) -> Arrival:
        """A finished upload into the inbox (renders start if it is taken). With `testimonial`
        (and `role`, `language`), a name the calendar does not know is first assigned there."""
        calendar = self.console.calendar()
        if calendar is None:
            return refuse(staged, name, self.inbox, "the calendar does not load, so no file can be checked against it — "
                                                    "fix calendar.yaml, then try this file again")
        if testimonial:
            owner = media_actions.owner_of(calendar, name)
            if owner is None:
                try:
                    self.assign(name, testimonial, role or role_of(name) or "", language, me)
                except actions.ActionError as failed:
                    return refuse(staged, name, self.inbox, f"{name} could not be assigned to {testimonial}: {failed}")
                calendar = self.console.calendar()
            elif owner.testimonial != testimonial:
                return refuse(staged, name, self.inbox, f"{name} is {owner.testimonial}'s {owner.role} in the calendar, "
                                                        f"not {testimonial}'s — rename the file, or assign it there")
        arrival = media_actions.take_upload(self.console.store, staged=staged, name=name, inbox=self.inbox,
                                            calendar=calendar, by=me.name, now=self.console.clock.now())
        if arrival.accepted:
            self.renders.request()
        return arrival

    def tus(self, authorize: Any) -> TusServer:
        """A tus server on this desk's uploads; `authorize` says who calls (a session, a token)."""
        return TusServer(self.uploads, authorize=authorize, check_creation=check_creation, on_complete=self.completed,
                         max_size=MAX_UPLOAD_BYTES, clock=real_time(self.console.clock))  # expiries are real hours

    def completed(self, info: UploadInfo, path: Path) -> dict[str, Any]:
        """A tus upload's last byte arrived: take the file in, as its owner, as the metadata assigns it."""
        me = self.console.accounts.get(info.owner)
        if me is None or not me.can("designer"):
            return refuse(path, info.name, self.inbox, f"{info.owner} may no longer upload (account removed or role "
                                                       "changed)").to_dict()
        meta = info.metadata
        return self.take(path, info.name, me, meta.get("testimonial") or None, meta.get("role") or None,
                         meta.get("language") or None).to_dict()

    def assign(self, name: str, testimonial: str, role: str, language: str | None, me: Any) -> actions.Outcome:
        return media_actions.assign_file(self.console.store, calendar_path=self.calendar_path, name=name,
                                         testimonial=testimonial, role=role, language=language or None, by=me.name,
                                         by_role=me.role, channels=me.channels, now=self.console.clock.now(),
                                         build=self.build)


def routes(console: Any, *, page: Callable, render: Callable, back: Callable, error: Callable,
           current: Callable) -> list[BaseRoute]:
    """The desk's routes for `console` (its page helpers passed in by console.app)."""
    config = console.config
    desk = console.desk = Desk(console)

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
        assignment = {k: str(form.get(k) or "") or None for k in ("testimonial", "role", "language")}
        if not files:
            return back(request, "Not done: choose at least one file.")
        said = []
        for upload in files:
            name = os.path.basename(upload.filename or "")
            problem = upload_problem(name, upload.size or 0)
            if problem:
                said.append(f"{name}: refused — {problem[1]}")
                continue
            arrival = _spool_and_take(upload, Path(config.inbox), name,
                                      lambda staged, name: desk.take(staged, name, me, **assignment))
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
    def assign_action(request: Request, console: Any, me: Any) -> Response:
        """A rejected file whose name the calendar does not know: make it a testimonial's file, then try it again."""
        form = _fields(request)
        file = form.get("file", "")
        calendar = console.calendar()
        found = next((r for r in desk_views.rejected(config.inbox) if r.file == file), None)
        if found is None or calendar is None:
            return back(request, f"Not done: there is no file {file!r} in rejected/ (or the calendar does not load).")
        try:
            assigned = desk.assign(found.name, form.get("testimonial", ""), form.get("role", ""), form.get("language"), me)
            arrival = media_actions.retry_rejected(console.store, file=file, inbox=Path(config.inbox),
                                                   calendar=console.calendar(), by=me.name, now=console.clock.now())
        except actions.NotAllowed as refused:
            return error(request, console, me, 403, str(refused))
        except actions.ActionError as failed:
            return back(request, f"Not done: {failed}")
        if arrival.accepted:
            desk.renders.request()
        return back(request, f"{assigned.message} · {_sentence(arrival)}")

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
        method = request.headers.get("x-http-method-override", request.method).upper()
        changes = method in ("POST", "PATCH", "DELETE")
        if changes and not same_origin(request):
            return PlainTextResponse("This upload did not come from the console's own page.", status_code=403)
        account, session = await run_in_threadpool(current, request, console)
        if account is None:
            if method == "GET":  # as every console page: to the login page and back
                return RedirectResponse(f"{request.scope.get('root_path', '').rstrip('/')}/login?"
                                        + urlencode({"next": request.url.path}), status_code=303)
            return PlainTextResponse("Your session ended. Log in again, then drop the file again: the upload goes on "
                                     "where it stopped.", status_code=401)
        if changes and not csrf_ok(session, request.headers.get("x-csrf-token", "")):
            return PlainTextResponse("The upload did not come from the console's page (CSRF token missing or wrong): "
                                     "reload the page.", status_code=403)
        if not account.can("designer"):
            return PlainTextResponse(f"Only designers may upload; you are a {account.role}.", status_code=403)
        return account.name

    tus = desk.tus(authorize)

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
        Route("/media/rejected/assign", assign_action, methods=["POST"]),
        *tus.routes("/media/uploads"),
    ]


def check_creation(length: int, metadata: dict[str, str], who: str) -> None:
    """The server's own check of type and size before a tus upload starts (the page's is only a courtesy)."""
    problem = upload_problem(metadata.get("filename") or metadata.get("name") or "", length, metadata.get("role") or None)
    if problem:
        raise Refused(CREATION_STATUS[problem[0]], problem[1])


def _spool_and_take(upload: UploadFile, inbox: Path, name: str, take: Callable[[Path, str], Arrival]) -> Arrival:
    """Copy a multipart file (already spooled by Starlette) into a staging folder on the inbox's disk, then take it."""
    staging = Path(tempfile.mkdtemp(prefix="form-", dir=_uploads_root(inbox)))
    try:
        staged = staging / name
        with staged.open("wb") as out:
            upload.file.seek(0)
            shutil.copyfileobj(upload.file, out, 4 * 1024 * 1024)
        return take(staged, name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _uploads_root(inbox: Path) -> Path:
    root = Path(inbox) / UPLOADS_DIR
    root.mkdir(parents=True, exist_ok=True)
    return root


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

