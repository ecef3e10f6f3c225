"""Headers an attacker controls, judged by a real server (uvicorn, as `web` runs it) and a real
HTTP client (requests): Host, X-Forwarded-For, Origin and Referer."""

from __future__ import annotations

import pytest

import contextlib
import subprocess
import sys
from collections.abc import Iterator

import requests

from testkit.console import PASSWORDS, REPO, csrf_of, wait_until_serving, waiting
from test_console_cli import ENV, free_port

pytestmark = pytest.mark.slow  # starts the console as a process


@contextlib.contextmanager
def web(rig, tmp_path, *extra: str) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """`python run.py web` on a free port; yields its base URL."""
    port = free_port()
    log_path = tmp_path / f"web-{port}.log"
    with log_path.open("w") as log:
        server = subprocess.Popen([sys.executable, str(REPO / "run.py"), "web", "--db", rig.url, "--port", str(port),
                                   "--build", str(rig.build), *extra], env=ENV, cwd=REPO, stdout=log,
                                  stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_serving(base, server, log_path, timeout=60)
            yield base
        finally:
            server.terminate()
            server.wait(timeout=20)


def try_login(session: requests.Session, base: str, name: str, password: str, **headers: str) -> requests.Response:
    page = session.get(base + "/login", headers=headers)
    return session.post(base + "/login", data={"csrf": csrf_of(page.text), "name": name, "password": password,
                                               "next": "/"}, headers=headers, allow_redirects=False)


def test_x_forwarded_for_counts_only_when_the_proxy_is_named(rig, tmp_path) -> None:
    """Rotating X-Forwarded-For must not reset the per-address login limit, unless the
    operator said which proxy sets it (--forwarded-allow-ips)."""
    with web(rig, tmp_path) as base:
        session = requests.Session()
        codes = [try_login(session, base, f"guess{i}", "wrong-password-1",
                           **{"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(7)]
    assert codes[:5] == [401] * 5 and codes[5:] == [429, 429], codes
    addresses = {r["detail"] for r in rig.store.audit_rows() if r["action"] == "login-failed"}
    assert addresses == {"from 127.0.0.1"}
    with web(rig, tmp_path, "--forwarded-allow-ips", "127.0.0.1") as base:
        session = requests.Session()
        codes = [try_login(session, base, f"other{i}", "wrong-password-1",
                           **{"X-Forwarded-For": "198.51.100.7"}).status_code for i in range(6)]
        assert codes == [401] * 5 + [429], codes
        # another client behind the same proxy is not blocked by the first one's failures
        assert try_login(session, base, "ada", PASSWORDS["ada"], **{"X-Forwarded-For": "198.51.100.8"}).status_code == 303


def test_the_host_header_is_never_echoed_into_a_redirect(rig, tmp_path) -> None:
    with web(rig, tmp_path) as base:
        session = requests.Session()
        for path in ("/users/", "/", "/operations/", "/posts/x/", "/login/"):
            answer = session.get(base + path, headers={"Host": "evil.example"}, allow_redirects=False)
            assert "evil.example" not in answer.headers.get("location", ""), (path, answer.headers.get("location"))
            assert answer.status_code in (303, 404), (path, answer.status_code)


def test_a_post_from_another_site_is_refused_even_with_the_token(rig, tmp_path) -> None:
    with web(rig, tmp_path) as base:
        host = base.removeprefix("http://")
        session = requests.Session()
        assert try_login(session, base, "ada", PASSWORDS["ada"], Origin="http://evil.example").status_code == 403
        assert try_login(session, base, "ada", PASSWORDS["ada"], Origin=base).status_code == 303
        csrf = csrf_of(session.get(base + "/").text)
        post_id = waiting(rig.store, "embassy-tokyo")[0]
        for headers in ({"Origin": "http://evil.example"}, {"Origin": "null"},
                        {"Referer": "http://evil.example/page"}, {"Origin": f"http://{host}.evil.example"}):
            answer = session.post(base + "/approve", data={"csrf": csrf, "post": post_id}, headers=headers,
                                  allow_redirects=False)
            assert answer.status_code == 403, headers
        assert rig.store.get(post_id).state == "planned"
        # from the console's own page: as a browser sends it
        answer = session.post(base + "/approve", data={"csrf": csrf, "post": post_id},
                              headers={"Origin": base, "Referer": base + "/"}, allow_redirects=False)
        assert answer.status_code == 303 and rig.store.get(post_id).state == "approved"
        # behind a reverse proxy that passes the Host it was asked for (the README's nginx)
        other = waiting(rig.store, "embassy-tokyo")[0]
        answer = requests.post(base + "/approve", data={"csrf": csrf, "post": other},
                               headers={"Host": "campaign.example", "Origin": "https://campaign.example"},
                               cookies={"eo_session": session.cookies["eo_session"]}, allow_redirects=False)
        assert answer.status_code == 303 and rig.store.get(other).state == "approved"


def test_an_idle_connection_outlives_uvicorns_5_second_default(rig, tmp_path) -> None:
    """A reverse proxy keeps upstream connections open 60 s: the console must not close one after
    5 s idle (the proxy would send the next request, an approval perhaps, into a closed socket)."""
    import http.client
    import time
    from urllib.parse import urlsplit

    with web(rig, tmp_path) as base:
        connection = http.client.HTTPConnection(urlsplit(base).netloc, timeout=10)
        connection.request("GET", "/healthz")
        first = connection.getresponse()
        first.read()
        socket_used = connection.sock
        time.sleep(6)
        connection.request("GET", "/healthz")  # the same socket: http.client reconnects only when it has none
        again = connection.getresponse()
        assert again.status == 200 and connection.sock is socket_used
        connection.close()
