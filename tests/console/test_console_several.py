"""Issue 24, several consoles: two real `web` processes on two ports, on one PostgreSQL, as a
reverse proxy would spread a team over them. Sessions, CSRF tokens, the login limit and the
live poll live in the store, so each process honours what the other did."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from html import unescape

import pytest
import requests

from test_console_headers import try_login, web
from testkit.console import PASSWORDS, csrf_of, make_rig, waiting
from testkit.scheduler import drop_pg_schema, pg_schema

pytestmark = pytest.mark.slow  # starts two consoles as processes, on PostgreSQL

BEHIND_A_PROXY = ("--forwarded-allow-ips", "127.0.0.1")  # each scenario below is its own client address


@pytest.fixture
def pg_rig(tmp_path):  # type: ignore[no-untyped-def]
    url, schema = pg_schema()
    made = make_rig(tmp_path, f"{url}?options=-csearch_path%3D{schema}")
    yield made
    made.store.close()
    drop_pg_schema(schema)


def test_two_consoles_on_one_postgresql_share_sessions_csrf_limits_and_live_updates(pg_rig, tmp_path) -> None:
    rig = pg_rig
    with web(rig, tmp_path, *BEHIND_A_PROXY) as a, web(rig, tmp_path, *BEHIND_A_PROXY) as b:
        assert a != b
        # a login on one works on the other (the cookie is the browser's, whichever process answers)
        browser = requests.Session()
        browser.headers["X-Forwarded-For"] = "198.51.100.10"
        assert try_login(browser, a, "ada", PASSWORDS["ada"]).status_code == 303
        on_b = browser.get(b + "/", allow_redirects=False)
        assert on_b.status_code == 200 and "ada · admin" in on_b.text
        # a form from one, sent to the other: its CSRF token holds
        page = browser.get(a + "/").text
        csrf = csrf_of(page)
        since = unescape(re.search(r'/live\?since=([^"]+)"', page).group(1))
        post_id = waiting(rig.store, "embassy-tokyo")[0]
        done = browser.post(b + "/approve", data={"csrf": csrf, "post": post_id}, allow_redirects=False)
        assert done.status_code == 303 and rig.store.get(post_id).state == "approved"
        forged = browser.post(b + "/approve", data={"csrf": csrf[:-2] + "xx", "post": post_id}, allow_redirects=False)
        assert forged.status_code == 403
        # the live poll on the first shows what was done on the second
        live = browser.get(a + "/live?since=" + since)
        assert live.status_code == 200
        assert re.search(rf'id="state-{re.escape(post_id)}" hx-swap-oob="true" class="state s-approved"', live.text)

        # failed logins are counted across both: 3 on one and 2 on the other, then neither lets in
        guesser = requests.Session()
        guesser.headers["X-Forwarded-For"] = "198.51.100.20"
        codes = [try_login(guesser, server, "tomo", "not-the-password").status_code for server in (a, b, a, b, a)]
        assert codes == [401] * 5
        assert try_login(guesser, b, "tomo", PASSWORDS["tomo"]).status_code == 429
        assert try_login(guesser, a, "tomo", PASSWORDS["tomo"]).status_code == 429

        # and at the same moment: ten guesses spread over both get at most five answers in all
        def guess(server: str) -> int:
            session = requests.Session()
            session.headers["X-Forwarded-For"] = "198.51.100.30"
            return try_login(session, server, "vera", "not-the-password").status_code

        with ThreadPoolExecutor(10) as pool:
            codes = list(pool.map(guess, [a, b] * 5))
        assert sorted(set(codes)) <= [401, 429] and codes.count(401) <= 5, codes
        failed = [r for r in rig.store.audit_rows() if r["action"] == "login-failed" and r["target"] == "vera"]
        assert len(failed) == codes.count(401)

        # logging out on one ends the session on both
        csrf = csrf_of(browser.get(b + "/").text)
        assert browser.post(b + "/logout", data={"csrf": csrf}, allow_redirects=False).status_code == 303
        browser.cookies.set("eo_session", done.request.headers["Cookie"].split("eo_session=")[1].split(";")[0])
        assert browser.get(a + "/", allow_redirects=False).status_code == 303
