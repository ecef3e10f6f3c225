"""The console under load (issue 23: with 50 people loading the calendar, /healthz took 0.45 s and
/live 0.70 s at p95). People of one account asking for the same calendar at once share one render,
never one that began before they asked; the health check answers on the event loop from the
store watch's reading."""

from __future__ import annotations

import asyncio
import html
import re
import threading
import time

import httpx

from testkit.console import PASSWORDS, csrf_of, waiting


async def _logged_in(transport: httpx.ASGITransport, name: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1")
    page = await client.get("/login")
    await client.post("/login", data={"csrf": csrf_of(page.text), "name": name, "password": PASSWORDS[name], "next": "/"})
    return client


def test_one_render_serves_who_asked_before_it_began_and_never_an_older_page(app, rig, monkeypatch) -> None:
    import console.views as views

    slow = views.post_views
    read = threading.Event()

    def post_views(*args, **kwargs):  # type: ignore[no-untyped-def]
        found = slow(*args, **kwargs)
        read.set()
        time.sleep(0.8)  # a big store: the rest of the page takes its time
        return found

    monkeypatch.setattr(views, "post_views", post_views)
    console = app.state.console
    post_id = waiting(rig.store, "embassy-tokyo")[0]

    async def scenario() -> tuple[str, list[str], list[str]]:
        transport = httpx.ASGITransport(app=app)
        first, *others = [await _logged_in(transport, "ada") for _ in range(4)]  # four sessions of one account
        try:
            before = console.pages.renders
            early = asyncio.ensure_future(first.get("/"))
            assert await asyncio.to_thread(read.wait, 30)  # its render has read the posts
            rig.store.approve(by="ada", now=rig.clock.now(), post_id=post_id)
            late = await asyncio.gather(*(other.get("/") for other in others))
            assert console.pages.renders - before == 2, console.pages.renders - before  # not 4
            tokens = [re.search(r'name="csrf" value="([^"]+)"', page.text).group(1) for page in late]  # type: ignore[union-attr]
            sessions = [re.search(r'name="csrf" value="([^"]+)"', (await o.get("/operations")).text).group(1)  # type: ignore[union-attr]
                        for o in others]
            return (await early).text, [page.text for page in late], [str(t == s) for t, s in zip(tokens, sessions)]
        finally:
            for client in (first, *others):
                await client.aclose()

    early, late, own_tokens = asyncio.run(scenario())
    assert own_tokens == ["True"] * 3  # each page carries its own session's CSRF token
    assert "csrf-slot" not in early + "".join(late)

    def state_of(page: str) -> str:
        return re.search(rf'id="state-{re.escape(post_id)}"[^>]*>([^<]+)<', page).group(1)  # type: ignore[union-attr]

    assert state_of(early) == "waits for approval"  # began before the approval
    assert {state_of(page) for page in late} == {"approved"}  # asked after it: never the older page


def test_the_health_check_answers_from_the_watch_without_a_worker_thread(app, client_for, monkeypatch) -> None:
    import console.app

    client = client_for()
    assert client.get("/healthz").text.startswith("ok")  # the first probe asks the store and starts the watch
    watch = app.state.console.watch
    deadline = time.monotonic() + 10
    while watch.latest() is None and time.monotonic() < deadline:
        time.sleep(0.05)

    def no_thread(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the health check waited for a worker thread")

    monkeypatch.setattr(console.app, "_health", no_thread)
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.text.startswith("ok") and len(answer.text) < 20

    def broken() -> None:
        raise OSError("disk gone")

    watch.ping = broken
    deadline = time.monotonic() + 10
    while client.get("/healthz").status_code != 503 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert client.get("/healthz").text == "store unreachable"


def test_the_live_poll_counts_from_the_index_also_in_a_store_made_before_it(tmp_path) -> None:
    """Every poll counts the posts per state changed at its mark; a schedule writes every post at
    one instant, so that count read 10,000 rows. SQLite's own query plan is the referee."""
    import sqlite3

    from scheduler.store import Store

    path = tmp_path / "old.db"
    Store(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as old:  # a store made before the index existed
        old.execute("DROP INDEX ix_posts_updated_state")
    store = Store(f"sqlite:///{path}")  # opening it adds the index
    try:
        with store.engine.begin() as conn:
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN SELECT state, count(*) FROM posts "
                                        "WHERE updated_at = '2027-01-01 00:00:00.000000' GROUP BY state").all()
    finally:
        store.close()
    assert "COVERING INDEX ix_posts_updated_state" in str(plan), plan


def test_the_calendar_filters_offer_a_channel_scheduled_since_the_last_page(client_for, rig) -> None:
    """The filters' choices are kept between pages (three DISTINCTs over the store each time took
    a fifth of the calendar page): a post of a new channel still shows in them at once."""
    from scheduler.store import sync_plan
    from testkit.console import login
    from testkit.scheduler import make_post

    client = client_for()
    login(client, "vera")
    assert "be-newsroom" not in client.get("/").text
    sync_plan(rig.store, [make_post("press-day", "be-newsroom", rig.clock.now())], rig.clock.now())
    assert '<option value="be-newsroom"' in client.get("/").text


def test_a_page_leaves_nothing_for_the_garbage_collector(client_for, rig) -> None:
    """Jinja's contexts and their macros refer to each other: each calendar page left its posts,
    cards and rows in a garbage cycle (~2,200 objects), which only the collector's passes freed
    (with 50 people loading the calendar, a full pass every second or so, every thread stopped).
    Now they go by reference counting as the page is made: none is left once it is sent."""
    import gc

    from console.views import PostView
    from testkit.console import login

    client = client_for()
    login(client, "ada")
    post_id = waiting(rig.store, "embassy-tokyo")[0]

    def left() -> int:
        return sum(isinstance(o, PostView) for o in gc.get_objects())

    gc.collect()
    gc.disable()
    try:
        for path in ("/", "/?channel=embassy-tokyo&view=list", f"/posts/{post_id}"):
            assert client.get(path).status_code == 200
            assert left() == 0, path
    finally:
        gc.enable()


def test_the_pages_and_the_live_poll_read_while_a_writer_holds_the_store(client_for, rig) -> None:
    """Reads take no write lock: every transaction began IMMEDIATE, so each page and poll waited
    for every other read and write in turn, in SQLite's busy handler's sleeps (a 3 ms poll took
    30-90 ms under 50 clients). SQLite is the referee: another connection holds the write lock
    (as a daemon's claim does), and the calendar, a post and the live poll still answer."""
    import sqlite3
    from concurrent.futures import ThreadPoolExecutor

    from scheduler.store.engine import sqlite_file
    from testkit.console import login

    client = client_for()
    login(client, "ada")
    since = html.unescape(re.search(r'/live\?since=([^"]+)"', client.get("/").text).group(1))
    post_id = waiting(rig.store, "embassy-tokyo")[0]
    writer = sqlite3.connect(sqlite_file(rig.url), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        with ThreadPoolExecutor(1) as pool:
            for path in ("/", f"/posts/{post_id}", "/live?since=" + since, "/healthz"):
                answer = pool.submit(client.get, path).result(timeout=15)  # the busy timeout is 30 s
                assert answer.status_code == 200, path
    finally:
        writer.rollback()
        writer.close()
