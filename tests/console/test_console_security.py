"""Every route of the console: login required, CSRF on every POST, roles, sessions, secrets."""

from __future__ import annotations

import re

import pytest
from starlette.routing import Route

from console.accounts import MAX_FAILURES
from console.app import PUBLIC_PATHS
from testkit.console import PASSWORDS, csrf_of, login, waiting

SECRET_TOKEN = "tok-SUPERSECRET-4f9a1c77e2"


def concrete(path: str, post_id: str) -> str:
    return re.sub(r"\{[^}]+\}", post_id, path)


def routes(app):  # type: ignore[no-untyped-def]
    for route in app.routes:
        if isinstance(route, Route):
            for method in sorted(route.methods - {"HEAD"}):
                yield method, route.path


def test_every_route_needs_a_login_except_the_public_ones(app, client_for, rig) -> None:
    post_id = rig.store.all_posts()[0].id
    client = client_for()
    checked = 0
    for method, path in routes(app):
        if path.startswith(PUBLIC_PATHS):
            continue
        url = concrete(path, post_id)
        response = client.request(method, url, data={"post": post_id, "reason": "x", "moment": "europe-day"},
                                   follow_redirects=False)
        if method == "GET":
            assert response.status_code == 303, (method, path)
            assert response.headers["location"].startswith("/login?next="), (method, path)
        else:
            assert response.status_code == 401, (method, path)
            assert "Log in again" in response.text
        checked += 1
    assert checked >= 15
    assert rig.store.audit_rows() == []  # nothing was done
    # the public ones answer without a session, and say nothing of the campaign
    assert client.get("/healthz").text.startswith("ok")
    assert client.get("/login").status_code == 200
    assert client.get("/static/htmx.min.js").status_code == 200
    unsigned = client.get("/signed/not-a-token/photo.jpg")  # no key here, or a bad token: nothing served
    assert unsigned.status_code in (403, 404) and "jpg" not in unsigned.text


def test_every_post_route_checks_the_csrf_token(app, client_for, rig) -> None:
    client = client_for()
    assert login(client, "ada").status_code == 303
    good = csrf_of(client.get("/").text)
    post_id = waiting(rig.store, "embassy-tokyo")[0]
    before = [(p.id, p.state) for p in rig.store.all_posts()]
    posts = [(m, p) for m, p in routes(app) if m == "POST"]
    assert {p for _, p in posts} >= {"/approve", "/send-back", "/pause", "/resume", "/resolve", "/users/add",
                                     "/users/remove", "/logout", "/login"}
    for _, path in posts:
        for token in (None, "", good[:-2] + "xx", "forged"):
            data = {"post": post_id, "comment": "no", "reason": "r", "channel": "embassy-tokyo", "name": "vera",
                    "role": "admin", "password": "long-enough-123", "published": "yes", "moment": "europe-day"}
            if token is not None:
                data["csrf"] = token
            response = client.post(path, data=data, follow_redirects=False)
            assert response.status_code == 403, (path, token, response.status_code)
    assert [(p.id, p.state) for p in rig.store.all_posts()] == before
    assert rig.store.channel_states() == {}
    assert {a.name for a in rig.accounts.all()} == {"vera", "tomo", "ada"}
    # and the same token works
    assert client.post("/approve", data={"csrf": good, "post": post_id}, follow_redirects=False).status_code == 303
    assert rig.store.get(post_id).state == "approved"


def test_login_rejects_wrong_passwords_and_is_rate_limited(client_for, rig) -> None:
    client = client_for()
    for _ in range(MAX_FAILURES):
        assert login(client, "ada", "wrong password!").status_code == 401
    blocked = login(client, "ada")  # even the right password, now
    assert blocked.status_code == 429
    assert "Too many failed logins" in blocked.text and int(blocked.headers["retry-after"]) > 0
    assert "eo_session" not in blocked.headers.get("set-cookie", "")
    rig.clock.advance(16 * 60)
    assert login(client, "ada").status_code == 303
    # an unknown name is throttled the same way (no hint which names exist)
    other = client_for()
    for _ in range(MAX_FAILURES):
        assert login(other, "nobody", "whatever-123").status_code == 401
    assert login(other, "nobody", "whatever-123").status_code == 429


def test_the_session_cookie_is_signed_httponly_samesite_and_expires(client_for, rig) -> None:
    client = client_for()
    response = login(client, "vera")
    cookie = [c for c in response.headers.get_list("set-cookie") if c.startswith("eo_session=")][0]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=28800" in cookie
    assert client.get("/", follow_redirects=False).status_code == 200
    value = client.cookies["eo_session"]
    tampered = client_for()
    _, stamp, signature = value.rsplit(".", 2)
    import base64
    import json

    forged = base64.urlsafe_b64encode(json.dumps({"n": "ada", "e": 0, "c": "x"}).encode()).decode().rstrip("=")
    tampered.cookies.set("eo_session", f"{forged}.{stamp}.{signature}")
    assert tampered.get("/", follow_redirects=False).status_code == 303  # back to login
    tampered.cookies.set("eo_session", value[:-3] + "abc")
    assert tampered.get("/", follow_redirects=False).status_code == 303


def test_an_old_session_has_expired(client_for, monkeypatch) -> None:
    import itsdangerous.timed

    client = client_for()
    real = itsdangerous.timed.time.time
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real() - 9 * 3600)
    login(client, "vera")
    monkeypatch.setattr(itsdangerous.timed.time, "time", real)
    assert client.get("/", follow_redirects=False).status_code == 303


def test_logout_ends_the_session_everywhere(client_for) -> None:
    laptop, phone = client_for(), client_for()
    login(laptop, "ada")
    login(phone, "ada")
    csrf = csrf_of(laptop.get("/").text)
    assert laptop.post("/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert laptop.get("/", follow_redirects=False).status_code == 303
    assert phone.get("/", follow_redirects=False).status_code == 303


def test_login_only_redirects_inside_the_console(client_for) -> None:
    client = client_for()
    page = client.get("/login?next=//evil.example/")
    response = client.post("/login", data={"csrf": csrf_of(page.text), "name": "vera",
                                           "password": PASSWORDS["vera"], "next": "//evil.example/"},
                           follow_redirects=False)
    assert response.headers["location"] == "/"


@pytest.mark.parametrize("name", ["vera", "tomo"])
def test_what_each_role_cannot_do_is_refused_and_has_no_button(client_for, rig, name) -> None:
    client = client_for()
    login(client, name)
    linkedin = waiting(rig.store, "be-linkedin")[0]
    calendar = client.get("/?channel=be-linkedin").text
    assert f'name="post" value="{linkedin}"' not in calendar  # no approve or send-back form for it
    assert 'value="approve all"' not in calendar and "Approve this week" not in calendar  # nothing of theirs waits there
    if name == "vera":
        assert '/approve"' not in calendar and '/send-back"' not in calendar and "/review/confirm" not in calendar
    operations = client.get("/operations").text
    assert 'action="/pause"' not in operations and 'action="/resume"' not in operations
    assert client.get("/users").status_code == 403
    csrf = csrf_of(calendar)
    for path, data in (("/approve", {"post": linkedin}), ("/approve", {"channel": "be-linkedin"}),
                       ("/send-back", {"post": linkedin, "comment": "no"}), (f"/posts/{linkedin}/approve", {}),
                       (f"/posts/{linkedin}/send-back", {"comment": "no"}),
                       ("/review/apply", {"do": "approve", "post": linkedin}),
                       ("/review/apply", {"do": "send-back", "post": linkedin, "comment": "no"}), ("/pause", {"reason": "r"}),
                       ("/resume", {}), ("/resolve", {"post": linkedin, "published": "yes"}),
                       ("/users/add", {"name": "eve", "role": "admin", "password": "long-enough-123"})):
        response = client.post(path, data={"csrf": csrf, **data}, follow_redirects=False)
        assert response.status_code == 403, (name, path)
    assert rig.store.get(linkedin).state == "planned"
    assert rig.store.channel_states() == {}
    assert rig.accounts.get("eve") is None


def test_an_approver_approves_only_their_channels(client_for, rig) -> None:
    client = client_for()
    login(client, "tomo")
    tokyo = waiting(rig.store, "embassy-tokyo")
    page = client.get("/?channel=embassy-tokyo").text
    assert len(re.findall(r'action="/posts/[^"]+/approve"', page)) == len(tokyo)
    csrf = csrf_of(page)
    moment = rig.store.get(tokyo[0]).moment_id
    client.post("/approve", data={"csrf": csrf, "moment": moment}, follow_redirects=False)
    approved = {p.id for p in rig.store.all_posts(state="approved")}
    assert approved and all(p.startswith(moment) and ".embassy-tokyo." in p for p in approved)
    assert waiting(rig.store, "be-linkedin")  # untouched even if the moment has LinkedIn posts
    audit = [r for r in rig.store.audit_rows() if r["action"] == "approve"]
    assert {r["actor"] for r in audit} == {"tomo"} and {r["target"] for r in audit} == approved


def test_no_secret_is_ever_rendered(rig, monkeypatch, client_for, tmp_path) -> None:
    from console.app import ConsoleConfig
    from console.server import create_app
    from sqlalchemy import update

    from scheduler.store.schema import posts
    from starlette.testclient import TestClient

    monkeypatch.setenv("CAMPAIGN_EMBASSY_TOKYO_TOKEN", SECRET_TOKEN)
    monkeypatch.setenv("CAMPAIGN_DB_URL", rig.url)
    victim = waiting(rig.store, "embassy-tokyo")[0]
    with rig.store.engine.begin() as conn:  # a token leaked into what the store keeps
        conn.execute(update(posts).where(posts.c.id == victim).values(
            state="unknown", last_error=f"HTTP 500 with Bearer {SECRET_TOKEN}", state_reason=f"token {SECRET_TOKEN}"))
    rig.store.add_audit(rig.clock.now(), "ops", "note", victim, f"access_token={SECRET_TOKEN}&x=1")
    (rig.inbox / "rejected").mkdir()
    (rig.inbox / "rejected" / "bad.jpg").write_bytes(b"x")
    (rig.inbox / "rejected" / "bad.jpg.why.txt").write_text(f"failed with {SECRET_TOKEN}")
    app = create_app(ConsoleConfig(db=rig.url, calendar=rig.calendar_path, build=rig.build, inbox=rig.inbox),
                     clock=rig.clock, store=rig.store)
    key = app.state.console.accounts.signing_key()
    client = TestClient(app, base_url="http://127.0.0.1")
    login(client, "ada")
    pages = ["/", "/?view=list", f"/posts/{victim}", "/operations", "/results", "/audit", "/users",
             "/live?since=2020-01-01T00:00:00%2B00:00", "/login", "/healthz"]
    for path in pages:
        body = client.get(path).text
        for secret in (SECRET_TOKEN, key, rig.url):
            assert secret not in body, (path, secret[:12])
    assert "***" in client.get(f"/posts/{victim}").text  # shown, with the secret masked
    client.close()


def test_health_check_answers_without_login_and_says_nothing_else(client_for) -> None:
    response = client_for().get("/healthz")
    assert response.status_code == 200 and response.text.startswith("ok") and len(response.text) < 20


@pytest.mark.slow  # every route of the console, many requests
def test_every_answer_forbids_framing_and_foreign_scripts(app, client_for, rig) -> None:
    client = client_for()
    login(client, "ada")
    post_id = rig.store.all_posts()[0].id
    for method, path in routes(app):
        if method != "GET":
            continue
        response = client.get(concrete(path, post_id) if "{" in path else path, follow_redirects=False)
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert response.headers["x-frame-options"] == "DENY" and response.headers["x-content-type-options"] == "nosniff"


def test_a_settled_post_link_must_be_a_web_address(client_for, rig) -> None:
    from sqlalchemy import update

    from scheduler.store.schema import posts

    post_id = waiting(rig.store, "embassy-tokyo")[0]
    with rig.store.engine.begin() as conn:
        conn.execute(update(posts).where(posts.c.id == post_id).values(state="unknown"))
    client = client_for()
    login(client, "ada")
    csrf = csrf_of(client.get("/operations").text)
    response = client.post("/resolve", data={"csrf": csrf, "post": post_id, "published": "yes",
                                             "url": "javascript:alert(document.cookie)"})
    assert "must start with https://" in response.text
    assert rig.store.get(post_id).state == "unknown"
    client.post("/resolve", data={"csrf": csrf, "post": post_id, "published": "yes", "url": "https://x.com/a/status/1"})
    assert rig.store.get(post_id).state == "published" and rig.store.get(post_id).remote_url == "https://x.com/a/status/1"
    assert "resolve" in [r["action"] for r in rig.store.audit_rows(post_id) if r["actor"] == "ada"]


def test_captions_and_comments_are_escaped(client_for, rig) -> None:
    from sqlalchemy import update

    from scheduler.store.schema import posts

    post_id = waiting(rig.store, "embassy-tokyo")[0]
    with rig.store.engine.begin() as conn:
        conn.execute(update(posts).where(posts.c.id == post_id).values(caption='<script>alert(1)</script> "hi"'))
    client = client_for()
    login(client, "tomo")
    csrf = csrf_of(client.get("/").text)
    client.post("/send-back", data={"csrf": csrf, "post": post_id, "comment": "<img src=x onerror=alert(2)>"})
    for path in ("/", "/?view=list", f"/posts/{post_id}", "/operations", "/audit"):
        body = client.get(path).text
        assert "<script>alert(1)" not in body and "<img src=x" not in body, path
    assert "&lt;img src=x onerror=alert(2)&gt;" in client.get(f"/posts/{post_id}").text


def test_operations_shows_what_status_prints(client_for, rig) -> None:
    """Everything `python run.py status` reports a person can see on the operations page."""
    import datetime as dt

    from scheduler.store.status import build_status

    post_id = waiting(rig.store, "embassy-tokyo")[0]
    rig.store.approve(by="ada", now=rig.clock.now(), post_id=post_id)
    claim = rig.store.claim_next("w", rig.store.get(post_id).scheduled_at, lease_seconds=60)
    retried = claim.post.id  # the earliest due post
    rig.store.record_outcome(claim, rig.clock.now(), state="retry_wait", outcome="transient", error_class="TransientError",
                             message="HTTP 503 from X", next_attempt_at=rig.clock.now() + dt.timedelta(minutes=5))
    rig.store.pause("be-x", "brand review", "ines", rig.clock.now())
    rig.store.rate_limit("be-facebook", rig.clock.now() + dt.timedelta(hours=1))
    rig.store.beat("daemon-1", rig.clock.now())
    client = client_for()
    login(client, "vera")
    page = client.get("/operations").text
    status = build_status(rig.store, rig.clock.now())
    for channel in status["by_channel"]:
        assert f">{channel}</a>" in page
    assert "PAUSED be-x" in page and "brand review" in page and "ines" in page
    assert f"{retried}</a> at" in page and "HTTP 503 from X" in page
    assert "channel be-facebook rate-limited until" in page
    assert "alive" in page and "daemon-1" in page
    assert f"{status['needs_human']['awaiting_approval']['count']} posts await approval" in page
    assert status["next"][0]["id"] in page


def test_a_one_time_link_sets_the_password_once(client_for, rig) -> None:
    from console.accounts import AccountError

    rig.accounts.add("kenji", "approver", None, by="ada", now=rig.clock.now(), channels=["embassy-tokyo"])
    token = rig.accounts.invitation("kenji", rig.accounts.signing_key())
    client = client_for()
    page = client.get(f"/welcome?token={token}")
    assert page.status_code == 200 and page.headers["referrer-policy"] == "no-referrer"
    csrf = csrf_of(page.text)
    differ = client.post("/welcome", data={"csrf": csrf, "token": token, "password": "kenji-pass-123", "again": "x"})
    assert "differ" in differ.text
    csrf = csrf_of(differ.text)
    done = client.post("/welcome", data={"csrf": csrf, "token": token, "password": "kenji-pass-123",
                                         "again": "kenji-pass-123"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/login"
    assert login(client, "kenji", "kenji-pass-123").status_code == 303
    again = client_for()
    page = again.get(f"/welcome?token={token}")
    used = again.post("/welcome", data={"csrf": csrf_of(page.text), "token": token, "password": "other-pass-1234",
                                        "again": "other-pass-1234"})
    assert used.status_code == 400 and "used already" in used.text
    forged = again.post("/welcome", data={"csrf": csrf_of(used.text), "token": token[:-4] + "AAAA",
                                          "password": "other-pass-1234", "again": "other-pass-1234"})
    assert forged.status_code == 400 and "not valid" in forged.text
    assert rig.accounts.verify("kenji", "kenji-pass-123") is not None
    try:
        rig.accounts.invitation("nobody", rig.accounts.signing_key())
    except AccountError:
        pass
    else:
        raise AssertionError("an invitation for a missing account")


def test_a_mistyped_id_is_refused_with_a_suggestion_as_in_the_cli(client_for, rig) -> None:
    client = client_for()
    login(client, "ada")
    csrf = csrf_of(client.get("/").text)
    refused = client.post("/pause", data={"csrf": csrf, "channel": "embassy-tokio", "reason": "storm"})
    assert "did you mean `embassy-tokyo`" in refused.text and rig.store.channel_states() == {}
    refused = client.post("/approve", data={"csrf": csrf, "moment": "davos"})
    assert "did you mean `davos-2027`" in refused.text
    assert [r for r in rig.store.audit_rows() if r["action"] in ("pause", "approve")] == []


def test_the_results_page_shows_each_posts_latest_figures(client_for, rig) -> None:
    """Issue 16: the console shows what the daemon collected, the latest collection per post."""
    import json

    from sqlalchemy import insert, update

    from testkit.console import login
    from scheduler.store.rows import to_db
    from scheduler.store.schema import figures, posts

    first, second = [p.id for p in rig.store.all_posts()][:2]
    at = to_db(rig.clock.now())
    with rig.store.engine.begin() as conn:
        conn.execute(update(posts).where(posts.c.id.in_([first, second]))
                     .values(state="published", published_at=at, remote_id="r", remote_url="https://x.com/Belgium/status/1"))
        for age, likes in (("1h", 12), ("24h", 3456)):  # appended: the latest one shows
            conn.execute(insert(figures).values(post_id=first, age=age, collected_at=at, platform="x", raw=json.dumps({}),
                                                impressions=98765, likes=likes, reposts=7, replies=None))
        conn.execute(insert(figures).values(post_id=second, age="1h", collected_at=at, platform="x", raw="{}",
                                            not_given="x gives this account no figures: client-not-enrolled"))
    client = client_for()
    login(client, "vera")
    page = client.get("/results").text
    assert "98,765" in page and "3,456" in page and ">12<" not in page and "24h" in page
    assert "client-not-enrolled" in page  # said, not shown as zeros
