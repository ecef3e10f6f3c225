"""The console's commands as a person runs them: `user add`, `web`, and the CLI's send-back."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys

import pytest
import requests

from testkit.console import REPO, csrf_of, wait_until_serving, waiting

pytestmark = pytest.mark.slow  # starts the console as a process

ENV = {**os.environ, "PYTHONPATH": str(REPO), "CAMPAIGN_CLOCK_START": "2026-12-01T08:00:00+00:00"}


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "run.py"), *args], input=stdin, capture_output=True, text=True,
                          env=ENV, cwd=REPO, timeout=120)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_user_add_hashes_the_password_and_refuses_bad_input(rig) -> None:
    done = run("user", "add", "mika", "--role", "approver", "--channel", "embassy-tokyo", "--password-stdin",
               "--db", rig.url, stdin="a-long-password\n")
    assert done.returncode == 0, done.stderr
    assert "added mika (approver for embassy-tokyo)" in done.stdout
    from sqlalchemy import select

    from console.accounts import users

    with rig.store.engine.begin() as conn:
        stored = conn.execute(select(users.c.password_hash).where(users.c.name == "mika")).scalar()
    assert stored.startswith("$argon2id$") and "a-long-password" not in stored
    assert rig.accounts.verify("mika", "a-long-password").channels == ("embassy-tokyo",)
    for args, stdin, why in ((("mika", "--role", "viewer"), "another-password\n", "exists already"),
                             (("kim", "--role", "boss"), "another-password\n", "role must be one of"),
                             (("kim", "--role", "viewer"), "short\n", "at least 10 characters")):
        refused = run("user", "add", *args, "--password-stdin", "--db", rig.url, stdin=stdin)
        assert refused.returncode == 2 and why in refused.stderr
    assert "user-add" in [r["action"] for r in rig.store.audit_rows("mika")]


def test_user_add_refuses_a_channel_that_does_not_exist_with_the_closest(rig) -> None:
    """`--channel embassy-tokio` (a typo) was accepted without a word (issue 23, 3)."""
    refused = run("user", "add", "kenji", "--role", "approver", "--channel", "embassy-tokio", "--password-stdin",
                  "--db", rig.url, stdin="a-long-password\n")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "no channel `embassy-tokio`" in refused.stderr and "did you mean `embassy-tokyo`" in refused.stderr
    assert rig.accounts.verify("kenji", "a-long-password") is None


def test_send_back_from_the_cli_is_what_the_console_shows(rig) -> None:
    post_id = waiting(rig.store, "be-linkedin")[0]
    done = run("send-back", "--post", post_id, "--comment", "logo too small", "--by", "ines", "--db", rig.url)
    assert done.returncode == 0, done.stderr
    assert rig.store.get(post_id).state == "sent_back"
    status = run("status", "--db", rig.url)
    assert f"SENT BACK {post_id}: logo too small" in status.stdout
    again = run("send-back", "--post", post_id, "--comment", "x", "--db", rig.url)
    assert again.returncode == 2 and "only posts waiting to go out" in again.stderr


def test_web_serves_the_console_behind_a_path_prefix(rig, tmp_path) -> None:
    port = free_port()
    log = (tmp_path / "web.log").open("w")
    server = subprocess.Popen([sys.executable, str(REPO / "run.py"), "web", "--db", rig.url, "--port", str(port),
                               "--root-path", "/console", "--build", str(rig.build)],
                              env=ENV, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(base, server, tmp_path / "web.log", timeout=30)
        session = requests.Session()
        # uvicorn gets what the proxy forwards (the prefix stripped); cookies carry the browser's
        # path (/console), so they are sent by hand here
        first = session.get(base + "/", allow_redirects=False)
        assert first.status_code == 303 and first.headers["location"] == "/console/login?next=%2F"
        page = session.get(base + "/login")
        assert 'action="/console/login"' in page.text and "/console/static/htmx.min.js" in page.text
        assert "Path=/console" in page.headers["set-cookie"]
        done = session.post(base + "/login", data={"csrf": csrf_of(page.text), "name": "ada",
                                                   "password": "admin-pass-1234", "next": "/"},
                            cookies={"eo_login": page.cookies["eo_login"]}, allow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == "/console/"
        cookie = done.headers["set-cookie"]
        assert "Path=/console" in cookie and "HttpOnly" in cookie
        calendar = session.get(base + "/", cookies={"eo_session": done.cookies["eo_session"]})
        assert calendar.status_code == 200 and re.search(r'href="/console/posts/[^"]+"', calendar.text)
        assert "store:" in (tmp_path / "web.log").read_text()
    finally:
        server.terminate()  # SIGTERM, what systemd sends to stop it
        code = server.wait(timeout=20)
        log.close()
    assert code == 0, f"a clean stop exits 0 (the README), not {code}: " + (tmp_path / "web.log").read_text()[-500:]


def test_user_add_with_a_one_time_link(rig, client_for) -> None:
    done = run("user", "add", "kim", "--role", "viewer", "--link", "https://campaign.example/console", "--db", rig.url)
    assert done.returncode == 0, done.stderr
    found = re.search(r"https://campaign\.example/console/welcome\?token=(\S+)", done.stdout)
    assert found, done.stdout
    from urllib.parse import unquote

    client = client_for()
    page = client.get(f"/welcome?token={found.group(1)}")
    client.post("/welcome", data={"csrf": csrf_of(page.text), "token": unquote(found.group(1)),
                                  "password": "kim-password-1", "again": "kim-password-1"})
    assert rig.accounts.verify("kim", "kim-password-1") is not None


def test_user_role_changes_a_role_and_checks_channels(rig) -> None:
    """Nobody removes and re-adds an account to promote it: `user role` changes it, audited."""
    done = run("user", "role", "tomo", "admin", "--by", "ines", "--db", rig.url)
    assert done.returncode == 0, done.stderr
    assert "tomo is now admin (was approver for embassy-tokyo)" in done.stdout
    assert rig.accounts.get("tomo").role == "admin"
    row = [r for r in rig.store.audit_rows("tomo") if r["action"] == "user-role"][-1]
    assert row["actor"] == "ines" and row["detail"] == "approver for embassy-tokyo -> admin"
    typo = run("user", "role", "tomo", "approver", "--channel", "embassy-tokio", "--db", rig.url)
    assert typo.returncode == 2 and "did you mean `embassy-tokyo`" in typo.stderr
    for args, why in ((("nobody", "viewer"), "no account named"), (("tomo", "boss"), "role must be one of")):
        refused = run("user", "role", *args, "--db", rig.url)
        assert refused.returncode == 2 and why in refused.stderr, refused.stderr
    assert rig.accounts.get("tomo").role == "admin"
