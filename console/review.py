"""Review that flows: act on a card without leaving the page, or on a selection in one step.

Each card's Approve, Send back and Comment post to `/posts/{id}/...`. With htmx the answer
is the card again (with the outcome in it), swapped in place: no reload, the scroll stays.
Without JavaScript the same forms redirect back to the card (`#c-ID`).

A selection (checkboxes, "this week", everything the filters show that waits for the
person) goes to a confirmation that lists each post, then one action for all of them
(`scheduler.actions.approve_posts` / `send_back_posts`, as the API and the CLI use).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from markupsafe import escape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from console import views
from console.accounts import Account
from console.app import Console, _back, _base, _error, _safe_next, _thumb_url, page, render
from scheduler import actions
from scheduler.store import states
from scheduler.store.reads import PostFilter, find_posts

#: What a selection may hold at most (a confirmation lists every post).
MAX_SELECTION = 500
ACTIONS = {"approve": "Approve", "send-back": "Send back"}


def _htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _next(form: Any) -> str:
    """Where to come back to: a path of this console only."""
    target = str(form.get("next", "/"))
    return target if _safe_next(target) else "/"


def _views(console: Console, post_ids: list[str], thumb_url: Any) -> list[views.PostView]:
    calendar = console.calendar()
    rows, _ = find_posts(console.store, PostFilter(ids=post_ids))
    channels, pillar_of = views.channels_of(calendar), views.pillars(calendar)
    return [views.view_of(r, channels, pillar_of, console.config.build, thumb_url) for r in rows]


def slot_context(console: Console, request: Request, post_ids: list[str]) -> dict[str, Any]:
    """What the card slots of these posts need: their views and their comment threads."""
    found = _views(console, post_ids, _thumb_url(request))
    return {"slots": found, "threads": views.threads(console.store, [p.id for p in found])}


def _slots(request: Request, console: Console, me: Account, post_ids: list[str], message: str, *,
           toast: bool = False) -> HTMLResponse:
    """The htmx answer: the cards again (the first in place, the others out of band), the
    "needs you" count, and the outcome (in the card, or as a toast for a selection)."""
    return render(request, console, "_review_slots.html.j2", me, message=message, toast=toast,
                  **slot_context(console, request, post_ids))


def _card_action(request: Request, console: Console, me: Account, action: Any, **kwargs: Any) -> Response:
    post_id = request.path_params["post_id"]
    try:
        outcome = action(console.store, by=me.name, now=console.clock.now(), channels=me.scope, **kwargs)
        message = outcome.message
    except actions.NotAllowed as error:
        if not _htmx(request):
            return _error(request, console, me, 403, str(error))
        message = f"Not done: {error}"
    except actions.ActionError as error:
        message = f"Not done: {error}"
    if _htmx(request):
        return _slots(request, console, me, [post_id], message)
    response = _back(request, message)
    response.headers["location"] += f"#c-{post_id}"
    return response


@page("approver", post=True)
def approve_one(request: Request, console: Console, me: Account) -> Response:
    return _card_action(request, console, me, actions.approve_posts, post_ids=[request.path_params["post_id"]])


@page("approver", post=True)
def send_back_one(request: Request, console: Console, me: Account) -> Response:
    comment = str(request.state.form.get("comment", ""))
    return _card_action(request, console, me, actions.send_back, post=request.path_params["post_id"], comment=comment)


@page("viewer", post=True)
def comment_one(request: Request, console: Console, me: Account) -> Response:
    text = str(request.state.form.get("text", ""))
    return _card_action(request, console, me, actions.comment, post=request.path_params["post_id"], text=text)


# -- a selection, confirmed ----------------------------------------------------------------------

#: The states each action applies to.
WANTED = {"approve": (states.PLANNED,), "send-back": states.SENDABLE_BACK}


def _acts_on(me: Account, do: str, state: str, channel_id: str) -> bool:
    return state in WANTED[do] and me.approves(channel_id)


def selection(console: Console, me: Account, form: Any) -> tuple[str, list[views.PostView], int]:
    """(action, the posts it would act on, how many selected posts it leaves out). The form's
    `pick` says what: "approve selected", "send-back week:2027-W19", "approve all"."""
    do, _, which = str(form.get("pick", "")).partition(" ")
    if do not in ACTIONS:
        raise actions.ActionError("choose approve or send back")
    calendar = console.calendar()
    ids = {str(i) for i in form.getlist("post")}
    if which == "all" or which.startswith("week:"):
        filters = {k: str(form.get(k, "")) for k in views.FILTERS}
        query = views.post_filter(filters, calendar, me.scope)
        if which.startswith("week:"):
            try:
                start, end = views.week_bounds(which[5:], calendar.campaign.timezone if calendar else "UTC")
            except ValueError:
                raise actions.ActionError(f"no such week: {which[5:]}") from None
            query = replace(query, start=start, end=end)
        rows, _ = find_posts(console.store, query, limit=MAX_SELECTION * 4)
        ids |= {r["id"] for r in rows if _acts_on(me, do, r["state"], r["channel_id"])}
    if not ids:
        raise actions.ActionError("nothing selected: tick the posts (or use \"this week\") first")
    chosen = _views(console, sorted(ids), lambda _id: None)  # the confirmation lists them without pictures
    acted = [p for p in chosen if _acts_on(me, do, p.stored.state, p.stored.channel_id)]
    return do, acted[:MAX_SELECTION], len(ids) - len(acted[:MAX_SELECTION])



@page("approver", post=True)
def confirm(request: Request, console: Console, me: Account) -> Response:
    """The confirmation: every post the action would touch, each ticked (untick to leave one out)."""
    form = request.state.form
    nxt = _next(form)
    try:
        do, chosen, left_out = selection(console, me, form)
    except actions.ActionError as error:
        if _htmx(request):
            return HTMLResponse(f'<p class="flash bad">Not done: {_escape(str(error))}</p>')
        return _redirect(request, nxt, f"Not done: {error}")
    template = "_review_confirm.html.j2" if _htmx(request) else "review_confirm.html.j2"
    return render(request, console, template, me, do=do, verb=ACTIONS[do], chosen=chosen, left_out=left_out, next=nxt)


@page("approver", post=True)
def apply(request: Request, console: Console, me: Account) -> Response:
    """Approve or send back the confirmed posts, all in one action."""
    form = request.state.form
    nxt = _next(form)
    do = str(form.get("do", ""))
    ids = [str(i) for i in form.getlist("post")][:MAX_SELECTION]
    now = console.clock.now()
    try:
        if do == "approve":
            outcome = actions.approve_posts(console.store, post_ids=ids, by=me.name, now=now, channels=me.scope)
        elif do == "send-back":
            outcome = actions.send_back_posts(console.store, post_ids=ids, comment=str(form.get("comment", "")),
                                              by=me.name, now=now, channels=me.scope)
        else:
            raise actions.ActionError("choose approve or send back")
        message = outcome.message
    except actions.NotAllowed as error:
        return _error(request, console, me, 403, str(error))
    except actions.ActionError as error:
        message = f"Not done: {error}"
    if _htmx(request):
        return _slots(request, console, me, ids, message, toast=True)
    return _redirect(request, nxt, message)


@page("viewer", quick=True)
async def close_dialog(request: Request, console: Console, me: Account) -> Response:
    """htmx's Cancel on the confirmation: the dialog empties (nothing was done)."""
    return HTMLResponse("")


def _redirect(request: Request, target: str, message: str) -> RedirectResponse:
    response = _back(request, message)
    response.headers["location"] = _base(request) + target
    return response


def _escape(text: str) -> str:
    return str(escape(text))


#: Registered by console.server.create_app.
ROUTES = [
    Route("/posts/{post_id}/approve", approve_one, methods=["POST"]),
    Route("/posts/{post_id}/send-back", send_back_one, methods=["POST"]),
    Route("/posts/{post_id}/comment", comment_one, methods=["POST"]),
    Route("/review/confirm", confirm, methods=["POST"]),
    Route("/review/apply", apply, methods=["POST"]),
    Route("/review/close", close_dialog, methods=["GET"]),
]
