"""The HTTP API (/api/v1) as a script would use it: httpx against the console served by uvicorn,
the OpenAPI document judged by openapi-spec-validator."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys

import httpx
import pytest
from sqlalchemy import select

from testkit.console import REPO, START, waiting

API = "/api/v1"


@pytest.fixture
def tokens(rig):  # type: ignore[no-untyped-def]
    from console.api.tokens import Tokens

    made = Tokens(rig.store.engine)
    return {name: made.issue(name, by="test", now=START) for name in ("vera", "tomo", "ada")}


@pytest.fixture
def http(server):  # type: ignore[no-untyped-def]
    clients: list[httpx.Client] = []

    def make(token: str | None = None) -> httpx.Client:
        client = httpx.Client(base_url=server + API, headers={"Authorization": f"Bearer {token}"} if token else {},
                              timeout=30)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


@pytest.mark.slow  # openapi-spec-validator walks the whole document (~3 s)
def test_the_openapi_document_is_valid_and_lists_the_endpoints(http) -> None:
    from openapi_spec_validator import validate

    document = http().get("/openapi.json").json()
    validate(document)  # raises on anything OpenAPI 3.1 does not allow
    assert {"/posts", "/posts/{post_id}", "/posts/{post_id}/approve", "/posts/{post_id}/send-back"} <= set(document["paths"])
    assert document["components"]["securitySchemes"]["personalToken"] == {
        "type": "http", "scheme": "bearer", "description": "A personal token: `python run.py user token NAME` prints one."}
    approve = document["paths"]["/posts/{post_id}/approve"]["post"]
    assert approve["security"] == [{"personalToken": []}]
    assert {"401", "403", "404", "409", "412"} <= set(approve["responses"])
    assert approve["responses"]["412"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Problem"}


@pytest.mark.slow  # every endpoint through uvicorn (~3 s)
def test_every_endpoint_needs_a_valid_token(http, rig) -> None:
    """Every operation the OpenAPI document lists (other modules' too) answers 401 without a valid token."""
    post_id = rig.store.all_posts()[0].id
    checked = 0
    for path, operations in http().get("/openapi.json").json()["paths"].items():
        for method in operations:
            url = re.sub(r"\{[^}]+\}", post_id, path)
            for client in (http(), http("eo_pat_not-a-real-token"), http("something-else")):
                body = problem(client.request(method.upper(), url, json={"comment": "x"}), 401)
                assert "token" in body["detail"]
            checked += 1
    assert checked >= 4
    assert rig.store.audit_rows() == []
    assert http().get("/no-such-thing").status_code == 404


def test_list_posts_with_filters_and_the_account_as_readers_see_it(http, tokens, rig) -> None:
    client = http(tokens["vera"])
    everything = client.get("/posts", params={"limit": 1000}).json()
    assert everything["total"] == len(rig.store.all_posts())
    waiting_tokyo = client.get("/posts", params={"state": "planned", "channel": "embassy-tokyo"}).json()
    assert [p["id"] for p in waiting_tokyo["posts"]] == waiting(rig.store, "embassy-tokyo")
    assert {p["state_label"] for p in waiting_tokyo["posts"]} == {"waits for approval"}
    instagram = client.get("/posts", params={"channel": "be-instagram", "limit": 1}).json()["posts"][0]
    assert instagram["account"].isdigit() and instagram["account_name"] == "belgium"  # the calendar's name, not the id
    moment = rig.store.all_posts()[0].moment_id
    assert {p["moment"] for p in client.get("/posts", params={"moment": moment}).json()["posts"]} == {moment}
    # days are the campaign's (Brussels), `to` included
    day = client.get("/posts", params={"from": "2027-05-09", "to": "2027-05-09"}).json()["posts"]
    assert day and all(dt.datetime.fromisoformat(p["scheduled_at"]).astimezone(
        dt.timezone(dt.timedelta(hours=2))).date() == dt.date(2027, 5, 9) for p in day)
    bad = problem(client.get("/posts", params={"state": "lost", "limit": 0}), 422)
    assert {e["field"] for e in bad["errors"]} == {"query.state", "query.limit"}
    assert problem(client.get("/posts", params={"from": "2027-05-09", "to": "2027-05-01"}), 422)["errors"][0]["field"] == "to"


def test_approve_with_the_persons_role_and_channels(http, tokens, rig) -> None:
    tokyo = waiting(rig.store, "embassy-tokyo")[0]
    linkedin = waiting(rig.store, "be-linkedin")[0]
    assert "only approvers" in problem(http(tokens["vera"]).post(f"/posts/{tokyo}/approve"), 403)["detail"]
    other = problem(http(tokens["tomo"]).post(f"/posts/{linkedin}/approve"), 403)
    assert "be-linkedin" in other["detail"] and "embassy-tokyo" in other["detail"]
    assert rig.store.get(linkedin).state == "planned"
    done = http(tokens["tomo"]).post(f"/posts/{tokyo}/approve")
    assert done.status_code == 200, done.text
    assert done.json()["posts"][0]["state"] == "approved" and done.json()["message"].startswith("approved 1 post")
    assert done.headers["etag"] == done.json()["posts"][0]["etag"]
    assert [(r["actor"], r["action"]) for r in rig.store.audit_rows(tokyo)] == [("tomo", "approve")]
    again = http(tokens["tomo"]).post(f"/posts/{tokyo}/approve")  # idempotent
    assert again.status_code == 200 and again.json()["message"].startswith("approved 0 posts")
    assert problem(http(tokens["ada"]).post("/posts/no-such-post/approve"), 404)


def test_a_write_on_a_stale_copy_is_refused(http, tokens, rig) -> None:
    post_id = waiting(rig.store, "embassy-tokyo")[0]
    ada, tomo = http(tokens["ada"]), http(tokens["tomo"])
    read = tomo.get(f"/posts/{post_id}")
    seen = read.headers["etag"]
    assert read.json()["etag"] == seen
    sent = ada.post(f"/posts/{post_id}/send-back", json={"comment": "wrong photo"}, headers={"If-Match": seen})
    assert sent.status_code == 200 and sent.json()["posts"][0]["state"] == "sent_back"
    stale = problem(tomo.post(f"/posts/{post_id}/approve", headers={"If-Match": seen}), 412)
    assert "changed since you read it" in stale["detail"]
    assert rig.store.get(post_id).state == "sent_back"
    assert problem(tomo.post(f"/posts/{post_id}/approve", headers={"If-Match": tomo.get(f"/posts/{post_id}").headers["etag"]}),
                   409)["detail"].endswith("only posts waiting for approval can be approved")


def test_send_back_needs_a_comment_and_a_post_waiting_to_go_out(http, tokens, rig) -> None:
    post_id = waiting(rig.store, "embassy-tokyo")[1]
    tomo = http(tokens["tomo"])
    for body in ({}, {"comment": ""}, {"comment": "x" * 4001}, {"comment": "ok", "extra": 1}):
        assert problem(tomo.post(f"/posts/{post_id}/send-back", json=body), 422)["errors"]
    sent = tomo.post(f"/posts/{post_id}/send-back", json={"comment": "the quote is cut"})
    assert sent.status_code == 200
    assert rig.store.get(post_id).state_reason == "the quote is cut"
    assert "only posts waiting to go out" in problem(tomo.post(f"/posts/{post_id}/send-back", json={"comment": "again"}), 409)["detail"]
    # the thread: the send-back, then a reply; a viewer reads it, an approver of another channel may not write
    reply = http(tokens["ada"]).post(f"/posts/{post_id}/comments", json={"text": "New quote asked for"})
    assert reply.status_code == 201 and reply.json()["posts"][0]["state"] == "sent_back"
    thread = http(tokens["vera"]).get(f"/posts/{post_id}/comments").json()
    assert [(c["by"], c["text"], c["sent_back"]) for c in thread] == [("tomo", "the quote is cut", True),
                                                                     ("ada", "New quote asked for", False)]
    linkedin = waiting(rig.store, "be-linkedin")[0]
    assert problem(tomo.post(f"/posts/{linkedin}/comments", json={"text": "hi"}), 403)
    assert problem(tomo.post(f"/posts/{post_id}/comments", json={"text": ""}), 422)


@pytest.mark.slow  # runs the CLI as a process
def test_user_token_prints_once_stores_a_hash_and_revokes(app, rig) -> None:
    from starlette.testclient import TestClient

    from console.api.tokens import api_tokens

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(REPO / "run.py"), "user", "token", *args, "--db", rig.url],
                              capture_output=True, text=True, cwd=REPO, timeout=120)

    made = run("tomo")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("eo_pat_") and len(token) > 40 and "shown once" in made.stderr
    with rig.store.engine.begin() as conn:
        stored = conn.execute(select(api_tokens)).mappings().all()
    assert len(stored) == 1 and token not in str(dict(stored[0])) and stored[0]["token_hash"] != token
    with TestClient(app, base_url="http://127.0.0.1") as client:
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get(f"{API}/posts", headers=headers).status_code == 200
        # a role change applies at once: the token carries the account, not a copy of its role
        rig.accounts.remove("tomo")
        assert client.get(f"{API}/posts", headers=headers).status_code == 401
        rig.accounts.add("tomo", "admin", "another-pass-123", by="test", now=START + dt.timedelta(days=1))
        assert client.get(f"{API}/posts", headers=headers).status_code == 401  # a new account of the same name
        fresh = run("tomo").stdout.strip()
        assert client.get(f"{API}/posts", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200
        revoked = run("tomo", "--revoke")
        assert revoked.returncode == 0 and "revoked 2 tokens of tomo" in revoked.stdout
        assert client.get(f"{API}/posts", headers={"Authorization": f"Bearer {fresh}"}).status_code == 401
    assert run("nobody").returncode == 2
    assert [r["action"] for r in rig.store.audit_rows("tomo")] == ["token-add", "token-add", "token-revoke"]
