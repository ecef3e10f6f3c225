"""Issue 23 section 2, the findings an attacker made in the console: accounts that come back,
secrets in other encodings, 500s, unbounded text, the audit trail, a blocked event loop.
(Headers -- Host, X-Forwarded-For, Origin -- are judged by a real server: test_console_headers.)"""

from __future__ import annotations

import asyncio
import html
import json
import time
from urllib.parse import quote, quote_plus

import httpx
import pytest

from testkit.console import PASSWORDS, csrf_of, login, waiting

HOSTILE_SECRET = 'Pa&ss<w>rd"x\'9'


def test_a_removed_account_added_again_has_none_of_its_old_sessions_or_links(client_for, rig) -> None:
    """Sessions and one-time links belong to the account they were issued to, not to its name."""
    rig.accounts.add("kim", "viewer", "kim-password-1", by="ada", now=rig.clock.now())
    old_session = client_for()
    assert login(old_session, "kim", "kim-password-1").status_code == 303
    used = rig.accounts.invitation("kim", rig.accounts.signing_key())
    rig.accounts.accept_invitation(used, rig.accounts.signing_key(), "kim-password-2")
    assert login(old_session, "kim", "kim-password-2").status_code == 303
    unused = rig.accounts.invitation("kim", rig.accounts.signing_key())
    assert rig.accounts.remove("kim")
    rig.accounts.add("kim", "admin", "kim-password-3", by="ada", now=rig.clock.now())  # now an admin
    assert old_session.get("/users", follow_redirects=False).status_code == 303  # to the login page
    for token in (used, unused):
        page_client = client_for()
        page = page_client.get(f"/welcome?token={quote(token)}")
        refused = page_client.post("/welcome", data={"csrf": csrf_of(page.text), "token": token,
                                                     "password": "taken-over-123", "again": "taken-over-123"})
        assert refused.status_code == 400, token
    assert rig.accounts.verify("kim", "kim-password-3") is not None
    assert rig.accounts.verify("kim", "taken-over-123") is None


def test_roles_are_one_table_others_extend(monkeypatch) -> None:
    """A new role is one row: it has the rights of the roles it names, and admins have it too."""
    import console.accounts as accounts

    monkeypatch.setitem(accounts.ROLE_TABLE, "designer",
                        accounts.Role("designer", ("viewer",), "uploads and approves media"))
    designer = accounts.Account("d", "designer", None, "uid", "key")
    admin = accounts.Account("a", "admin", None, "uid", "key")
    approver = accounts.Account("p", "approver", None, "uid", "key")
    assert designer.can("designer") and designer.can("viewer") and not designer.can("approver")
    assert admin.can("designer") and not approver.can("designer")
    assert "designer" in accounts.role_names()


def test_an_admin_changes_a_role_in_the_console_and_it_is_audited(client_for, rig) -> None:
    tomo = client_for()
    login(tomo, "tomo")
    assert tomo.get("/users").status_code == 403
    ada = client_for()
    login(ada, "ada")
    page = ada.get("/users").text
    assert 'action="/users/role"' in page
    csrf = csrf_of(page)
    done = ada.post("/users/role", data={"csrf": csrf, "name": "tomo", "role": "admin"}, follow_redirects=False)
    assert done.status_code == 303
    assert rig.accounts.get("tomo").role == "admin"
    assert tomo.get("/users").status_code == 200  # at once, in the session tomo already has
    row = [r for r in rig.store.audit_rows("tomo") if r["action"] == "user-role"][-1]
    assert row["actor"] == "ada" and "approver" in row["detail"] and "admin" in row["detail"]
    # channels go with the role; an unknown role and one's own role are refused
    ada.post("/users/role", data={"csrf": csrf, "name": "tomo", "role": "approver", "channels": "be-x"})
    assert rig.accounts.get("tomo").role == "approver" and rig.accounts.get("tomo").channels == ("be-x",)
    refused = ada.post("/users/role", data={"csrf": csrf, "name": "tomo", "role": "boss"})
    assert "Not done" in refused.text and rig.accounts.get("tomo").role == "approver"
    refused = ada.post("/users/role", data={"csrf": csrf, "name": "ada", "role": "viewer"})
    assert "Not done" in refused.text and rig.accounts.get("ada").role == "admin"
    tomo_csrf = csrf_of(tomo.get("/").text)
    assert tomo.post("/users/role", data={"csrf": tomo_csrf, "name": "tomo", "role": "admin"}).status_code == 403


def _forms(secret: str) -> dict[str, str]:
    """The secret in every encoding a page or JSON answer can carry it (worked out here, not by the code under test)."""
    json_ascii = json.dumps(secret)[1:-1]
    json_plain = json.dumps(secret, ensure_ascii=False)[1:-1]
    forms = {"as typed": secret, "url": quote(secret, safe=""), "url+": quote_plus(secret), "json": json_ascii,
             "json (utf-8)": json_plain,
             "json, html-safe": json_plain.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")}
    for name, value in list(forms.items()):
        forms[f"{name}, then html"] = html.escape(value)  # &quot; &#x27;
        forms[f"{name}, then html (jinja)"] = str(__import__("markupsafe").escape(value))  # &#34; &#39;
        forms[f"{name}, then html (no quotes)"] = html.escape(value, quote=False)
    return {k: v for k, v in forms.items()}


def test_no_secret_shows_in_any_encoding(rig, monkeypatch, client_for) -> None:
    from sqlalchemy import update

    from scheduler.store.schema import posts

    monkeypatch.setenv("CAMPAIGN_EMBASSY_TOKYO_APP_PASSWORD", HOSTILE_SECRET)
    victim = waiting(rig.store, "embassy-tokyo")[0]
    leaked = (f"HTTP 401 for {HOSTILE_SECRET}; body {json.dumps({'error': HOSTILE_SECRET})}; "
              f"{json.dumps({'e': HOSTILE_SECRET}, ensure_ascii=False)}; https://x.example/?q={quote(HOSTILE_SECRET)}")
    with rig.store.engine.begin() as conn:
        conn.execute(update(posts).where(posts.c.id == victim).values(state="unknown", last_error=leaked,
                                                                      state_reason=leaked, caption=leaked))
    rig.store.add_audit(rig.clock.now(), "ops", "note", victim, leaked)
    (rig.inbox / "rejected").mkdir()
    (rig.inbox / "rejected" / "bad.jpg").write_bytes(b"x")
    (rig.inbox / "rejected" / "bad.jpg.why.txt").write_text(leaked)
    client = client_for()
    login(client, "ada")
    pages = ["/", "/?view=list", f"/posts/{victim}", "/operations", "/audit",
             "/live?since=2020-01-01T00:00:00%2B00:00"]
    for path in pages:
        body = client.get(path).text
        for name, form in _forms(HOSTILE_SECRET).items():
            assert form not in body, (path, name, form)
    assert "***" in client.get(f"/posts/{victim}").text


def test_json_answers_are_scrubbed_too() -> None:
    """Whatever route answers JSON (the API others add), the answer goes out without secrets."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from console.security import ScrubAnswers

    async def leaky(request):  # type: ignore[no-untyped-def]
        return JSONResponse({"error": f"the server said {HOSTILE_SECRET}", "again": HOSTILE_SECRET + " ü"})

    app = Starlette(routes=[Route("/api", leaky)])
    app.add_middleware(ScrubAnswers, secrets=(HOSTILE_SECRET,))
    with TestClient(app) as client:
        answer = client.get("/api")
    assert answer.status_code == 200 and int(answer.headers["content-length"]) == len(answer.content)
    assert HOSTILE_SECRET not in answer.json()["error"] and "***" in answer.json()["error"]
    for name, form in _forms(HOSTILE_SECRET).items():
        assert form not in answer.text, name


@pytest.mark.parametrize("path", ["/login", "/approve", "/welcome"])
def test_a_non_ascii_csrf_value_is_refused_not_a_crash(client_for, rig, path) -> None:
    from starlette.testclient import TestClient

    client: TestClient = client_for()
    client.raise_server_exceptions = False  # a 500 is what this test looks for
    if path == "/approve":
        login(client, "ada")
    page = client.get("/login" if path != "/approve" else "/")
    data = {"csrf": "é" + csrf_of(page.text), "name": "ada", "password": PASSWORDS["ada"], "token": "x",
            "again": "x", "post": waiting(rig.store, "embassy-tokyo")[0]}
    answer = client.post(path, data=data, follow_redirects=False)
    assert answer.status_code == 403, (path, answer.status_code)


@pytest.mark.parametrize("since", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2027-13-45",
                                   "\u0661\u0662", "x" * 5000, "2027-01-01T00:00:00\x00"])
def test_a_strange_live_watermark_is_a_bad_request_not_a_crash(client_for, since) -> None:
    client = client_for()
    client.raise_server_exceptions = False
    login(client, "vera")
    answer = client.get("/live", params={"since": since})
    assert answer.status_code in (200, 400), (since, answer.status_code)
    if since.startswith(("9999", "0001")):
        assert answer.status_code == 400


def test_comments_and_reasons_have_a_length_limit(client_for, rig) -> None:
    from scheduler import actions

    client = client_for()
    login(client, "ada")
    csrf = csrf_of(client.get("/").text)
    post_id = waiting(rig.store, "embassy-tokyo")[0]
    huge = "x" * 900_000
    refused = client.post("/send-back", data={"csrf": csrf, "post": post_id, "comment": huge})
    assert refused.status_code in (200, 413) and rig.store.get(post_id).state == "planned"
    long = "y" * (actions.MAX_COMMENT + 1)
    refused = client.post("/send-back", data={"csrf": csrf, "post": post_id, "comment": long})
    assert f"at most {actions.MAX_COMMENT:,} characters" in refused.text and rig.store.get(post_id).state == "planned"
    refused = client.post("/pause", data={"csrf": csrf, "reason": "z" * (actions.MAX_REASON + 1)})
    assert f"at most {actions.MAX_REASON:,} characters" in refused.text and rig.store.channel_states() == {}
    ok = client.post("/send-back", data={"csrf": csrf, "post": post_id, "comment": "w" * actions.MAX_COMMENT})
    assert ok.status_code == 200 and rig.store.get(post_id).state == "sent_back"
    # the same limits hold whoever calls the action (CLI, API)
    with pytest.raises(actions.ActionError, match="at most"):
        actions.pause(rig.store, channel=None, reason="r" * (actions.MAX_REASON + 1), by="cli", now=rig.clock.now())
    assert all(len(r["detail"] or "") < 5000 for r in rig.store.audit_rows())


def test_a_huge_form_is_refused_before_it_is_read(client_for) -> None:
    client = client_for()
    login(client, "ada")
    csrf = csrf_of(client.get("/").text)
    answer = client.post("/send-back", data={"csrf": csrf, "post": "p", "comment": "x" * 3_000_000})
    assert answer.status_code == 413


def test_failed_logins_and_logouts_are_in_the_audit_trail(client_for, rig) -> None:
    client = client_for()
    assert login(client, "ada", "not-the-password").status_code == 401
    assert login(client, "nobody-here", "not-the-password").status_code == 401
    assert login(client, "ada").status_code == 303
    csrf = csrf_of(client.get("/").text)
    client.post("/logout", data={"csrf": csrf})
    rows = [(r["action"], r["target"], r["actor"]) for r in rig.store.audit_rows()]
    assert ("login-failed", "ada", "console") in rows and ("login-failed", "nobody-here", "console") in rows
    assert ("login", "ada", "ada") in rows and ("logout", "ada", "ada") in rows
    failed = [r for r in rig.store.audit_rows() if r["action"] == "login-failed"][0]
    assert "from" in failed["detail"] and "not-the-password" not in json.dumps(rig.store.audit_rows(), default=str)


def test_database_and_template_work_do_not_block_the_event_loop(app, monkeypatch) -> None:
    """A calendar page that takes a long time (a big store, a slow disk) must not hold up the
    health check or the live poll of every other person: they answer at once."""
    import console.views as views

    slow = views.post_views

    def post_views(*args, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(5)  # what a slow query does to its thread (long, so a loaded CI machine has room)
        return slow(*args, **kwargs)

    monkeypatch.setattr(views, "post_views", post_views)

    async def scenario() -> tuple[float, float, int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            page = await client.get("/login")
            await client.post("/login", data={"csrf": csrf_of(page.text), "name": "vera",
                                              "password": PASSWORDS["vera"], "next": "/"})
            started = time.monotonic()
            calendar = asyncio.ensure_future(client.get("/"))
            await asyncio.sleep(0.3)  # the calendar is being made
            health = await client.get("/healthz")
            live = await client.get("/live", params={"since": "2020-01-01T00:00:00+00:00"})
            answered = time.monotonic() - started
            status = (await calendar).status_code
            return answered, time.monotonic() - started, status + health.status_code + live.status_code

    answered, total, statuses = asyncio.run(scenario())
    assert statuses == 600
    assert total >= 5 and answered < 4, (answered, total)  # blocked, they would wait the whole 5 s


def test_the_live_poll_sends_what_changed_not_every_post_of_an_instant(client_for, rig) -> None:
    """All posts were scheduled in one instant: a poll repeats none of them (every viewer polls
    every 3 s), yet a change made in that same instant still arrives."""
    import re

    client = client_for()
    login(client, "vera")

    def since_of(text: str) -> str:
        return html.unescape(re.search(r'/live\?since=([^"]+)"', text).group(1))

    def poll(since: str) -> tuple[list[str], str]:
        answer = client.get("/live?since=" + since)
        assert answer.status_code == 200
        return re.findall(r'id="state-([^"]+)" hx-swap-oob', answer.text), since_of(answer.text)

    from sqlalchemy import func, select

    from scheduler.store.schema import posts

    with rig.store.engine.begin() as conn:
        assert conn.execute(select(func.count(func.distinct(posts.c.updated_at)))).scalar() == 1
    assert len(rig.store.all_posts()) > 20
    changed, since = poll(since_of(client.get("/").text))
    assert changed == []
    post_id = waiting(rig.store, "embassy-tokyo")[0]
    rig.store.approve(by="ada", now=rig.clock.now(), post_id=post_id)  # the same instant
    changed, since = poll(since)
    assert post_id in changed  # with the others of its instant, once
    assert poll(since)[0] == []
    rig.clock.advance(60)
    rig.store.approve(by="ada", now=rig.clock.now(), post_id=waiting(rig.store, "embassy-tokyo")[0])
    assert len(poll(since)[0]) == 1
