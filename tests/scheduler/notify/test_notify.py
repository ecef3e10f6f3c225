"""Notifications: digests judged by a real SMTP server on loopback (aiosmtpd) and a real local
HTTP server as the webhook; the calendar's `notifications:` section validated with its lines."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from email import message_from_bytes
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import update

from campaign.calendar.loader import LoadedCalendar, load_calendar
from campaign.clock import FakeClock
from campaign.errors import CalendarError
from scheduler.notify import Notice, Outbox
from scheduler.notify.job import NotifyJob
from scheduler.plan import plan_posts
from scheduler.store import Store, sync_plan
from scheduler.store.schema import posts

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

REPO = Path(__file__).resolve().parents[3]
START = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.timezone.utc)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Events:
    """What the daemon's EventLog would log, kept for the asserts."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict]] = []

    def event(self, event: str, message: str = "", **fields) -> None:  # type: ignore[no-untyped-def]
        self.seen.append((event, message, fields))

    def names(self) -> list[str]:
        return [e for e, _, _ in self.seen]


class Smtp:
    """aiosmtpd on loopback, with a login (the secrets file's username and password)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list = []
        self.controller = None
        self.start()

    def start(self) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        outer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def] # noqa: N802
                outer.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=email_policy)))
                return "250 OK"

        def authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
            ok = auth_data.login == b"campaign" and auth_data.password == b"smtp-secret-123"
            return AuthResult(success=ok)

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, authenticator=authenticator,
                                     auth_require_tls=False, auth_required=True)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


class Hook(BaseHTTPRequestHandler):
    answers: list[int] = []
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status = Hook.answers.pop(0) if Hook.answers else 200
        if status == 200:
            Hook.received.append(json.loads(body))
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
        pass


NOTIFY = """
notifications:
  every: 5m
  console: https://campaign.example/console
  email:
    host: 127.0.0.1
    port: {port}
    security: none
    sender: "Campaign <campaign@example.org>"
  recipients:
    - email: kenji@example.org
      name: Kenji
      approves: [embassy-tokyo]
    - email: ines@example.org
      failures: true
    - webhook: team-chat
      failures: true
"""


def calendar_with(tmp_path: Path, section: str) -> Path:
    text = (REPO / "calendar.yaml").read_text(encoding="utf-8")
    text = text.replace("  - id: embassy-tokyo\n", "  - id: embassy-tokyo\n    approval: true\n", 1)
    path = REPO / "calendar.yaml"  # checked as if it were the repository's file (its brand files, templates)
    return path, text + section


@pytest.fixture
def world(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    port = free_port()
    hook = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[notify-email]\nusername = "campaign"\npassword = "smtp-secret-123"\n\n'
                       f'[notify-team-chat]\nwebhook = "http://127.0.0.1:{hook.server_address[1]}/hooks/T0K3N-sl4ck-abcdef"\n')
    secrets.chmod(0o600)
    monkeypatch.setenv("CAMPAIGN_SECRETS_FILE", str(secrets))
    path, text = calendar_with(tmp_path, NOTIFY.format(port=port))
    loaded = load_calendar(path, today=START.date(), text=text)
    store = Store(f"sqlite:///{tmp_path / 'campaign.db'}")
    clock = FakeClock(START)
    sync_plan(store, plan_posts(loaded, build_dir=tmp_path / "build", today=START.date()), clock.now())
    smtp = Smtp(port)
    Hook.answers, Hook.received = [], []
    events = Events()
    job = NotifyJob(store, clock, lambda: loaded.calendar, events)
    yield store, clock, job, smtp, events, loaded
    smtp.stop()
    hook.shutdown()
    hook.server_close()
    store.close()


def tokyo_waiting(store: Store) -> list[str]:
    return [p.id for p in store.all_posts(state="planned") if p.channel_id == "embassy-tokyo"]


def test_one_digest_per_person_then_only_what_is_new(world) -> None:
    store, clock, job, smtp, events, _ = world
    waiting = tokyo_waiting(store)
    assert len(waiting) >= 2
    job.run_once()
    assert [to for to, _ in smtp.messages] == [["kenji@example.org"]]  # one message, not one per post
    message = smtp.messages[0][1]
    assert message["Subject"] == f"Embracing Openness: {len(waiting)} posts wait for your approval"
    assert message["From"] == "Campaign <campaign@example.org>"
    body = message.get_content()
    assert all(f"https://campaign.example/console/posts/{p}" in body for p in waiting)
    assert "BelgiumInJapan (x, ja)" in body and "https://campaign.example/console/?needs=me" in body
    assert Hook.received == []  # nothing failed: the failures webhook says nothing
    assert events.names() == ["digest_queued", "notified"]
    assert events.seen[1][2] == {"medium": "email", "to": "kenji@example.org"}
    # a failure and an "unknown, check" post: to those who get failures, within the next run
    with store.engine.begin() as conn:
        conn.execute(update(posts).where(posts.c.id == waiting[0]).values(state="failed", state_reason="HTTP 403 from X"))
        conn.execute(update(posts).where(posts.c.id == waiting[1]).values(state="unknown", state_reason="no answer"))
    clock.advance(30)
    job.run_once()
    assert [to for to, _ in smtp.messages][1:] == [["ines@example.org"]]
    assert "2 failed or to check" in smtp.messages[1][1]["Subject"] and "HTTP 403 from X" in smtp.messages[1][1].get_content()
    assert len(Hook.received) == 1 and "HTTP 403 from X" in Hook.received[0]["text"]
    assert Hook.received[0]["text"].startswith("*Embracing Openness: 2 failed or to check*")
    # nothing new: nothing sent, however often the job runs
    for _ in range(3):
        clock.advance(600)
        job.run_once()
    assert len(smtp.messages) == 2 and len(Hook.received) == 1


def test_a_failing_server_is_retried_with_backoff_and_the_rest_goes_on(world) -> None:
    store, clock, job, smtp, events, _ = world
    smtp.stop()
    Hook.answers = [500]
    broken = tokyo_waiting(store)[0]
    with store.engine.begin() as conn:
        conn.execute(update(posts).where(posts.c.id == broken).values(state="failed", state_reason="boom"))
    job.run_once()
    assert events.names().count("notify_failed") == 3  # kenji's and ines' emails, the webhook's 500
    assert "T0K3N" not in repr(events.seen) and "smtp-secret" not in repr(events.seen)  # the webhook URL is a secret
    rows = job.outbox.rows()
    assert [r["tries"] for r in rows] == [1, 1, 1] and all(r["sent_at"] is None for r in rows)
    clock.advance(20)  # before the backoff ends: no new try
    job.run_once()
    assert events.names().count("notify_failed") == 3
    clock.advance(15)  # 35 s after: the webhook answers now; SMTP is still down
    job.run_once()
    assert len(Hook.received) == 1 and events.names().count("notify_failed") == 5
    assert [(r["tries"], r["sent_at"] is not None) for r in job.outbox.rows()] == [(2, False), (2, False), (2, True)]
    smtp.start()
    clock.advance(60)  # the second backoff (1 min) ends
    job.run_once()
    assert sorted(to for to, _ in smtp.messages) == [["ines@example.org"], ["kenji@example.org"]]
    assert all(r["sent_at"] is not None for r in job.outbox.rows())


def test_other_parts_reuse_the_outbox_once_per_key(world) -> None:
    store, clock, job, smtp, events, loaded = world
    outbox = Outbox(store)
    for _ in range(2):  # e.g. a token-expiry warning made on every daemon pass: queued once
        queued = outbox.to_audience(loaded.calendar.notifications, "failures", "be-x: token expires in 7 days",
                                    "Renew it: python run.py check --channel be-x", now=clock.now(),
                                    key="token-expiry:be-x:2027-01-01")
    assert queued == 0
    assert outbox.enqueue(Notice("email", "kenji@example.org", "hello", "text", key="k1"), clock.now())
    job.deliver(loaded.calendar.notifications)
    subjects = sorted(m["Subject"] for _, m in smtp.messages)
    assert subjects == ["be-x: token expires in 7 days", "hello"]
    assert Hook.received[0]["text"].startswith("*be-x: token expires in 7 days*")


def test_the_notifications_section_is_checked_with_its_lines(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CAMPAIGN_SECRETS_FILE", str(tmp_path / "none.toml"))
    bad = """
notifications:
  every: 30s
  recipients:
    - email: kenji@example.org
      webhook: team-chat
    - email: not-an-address
      approves: [embassy-tokio]
    - email: ines@example.org
      approves: [be-x]
      failures: true
    - webhook: team-chat
      failures: true
"""
    path, text = calendar_with(tmp_path, bad)
    start = text.count("\n", 0, text.index("notifications:")) + 1
    with pytest.raises(CalendarError) as raised:
        load_calendar(path, today=START.date(), text=text)
    found = {(p.line - start, p.where): p.message for p in raised.value.problems}
    assert all(str(p).startswith(f"{path}:{p.line}: notifications.") for p in raised.value.problems)
    assert "is not a duration" in found[(1, "notifications.every")]
    assert "either `email:` or `webhook:`" in found[(3, "notifications.recipients[0]")]
    assert found[(5, "notifications.recipients[1].email")] == ("'not-an-address' is not an email address — "
                                                                "write it like name@example.org")
    assert len(found) == 3
    fixed = bad.replace("every: 30s", "every: 2m").replace("      webhook: team-chat\n    - email: not", "    - email: not")
    fixed = fixed.replace("not-an-address", "mika@example.org")
    path, text = calendar_with(tmp_path, fixed)
    with pytest.raises(CalendarError) as raised:
        load_calendar(path, today=START.date(), text=text)
    problems = {p.message for p in raised.value.problems}
    assert any("unknown channel `embassy-tokio` — did you mean `embassy-tokyo`?" in m for m in problems), problems
    assert any("an email needs an SMTP server" in m for m in problems), problems
    server = "  email: {host: smtp.example.org, sender: campaign@example.org}\n"
    path, text = calendar_with(tmp_path, fixed.replace("embassy-tokio", "embassy-tokyo").replace("  recipients:", server + "  recipients:"))
    loaded = load_calendar(path, today=START.date(), text=text)
    warnings = "\n".join(str(w) for w in loaded.warnings)
    assert "`be-x` needs no approval" in warnings
    assert "no URL for webhook `team-chat`: set CAMPAIGN_NOTIFY_TEAM_CHAT_WEBHOOK" in warnings
    assert isinstance(loaded, LoadedCalendar) and loaded.calendar.notifications.every == dt.timedelta(minutes=2)
