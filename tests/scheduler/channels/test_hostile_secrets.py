"""Secrets never leave: not through an echoing server, a log line, the store, `status` or a page.

The class of inputs covered: any text that can carry a configured credential or something
shaped like one towards an output: error bodies from servers that echo the request (in
`error`, `message`, as JSON or URL-encoded), exception and log messages nobody scrubbed,
errors stored by the daemon and printed by `status`, captions on the preview page, and a
calendar that holds tokens inside links (`?access_token=`), inside sentences (`Bearer ...`),
as `user:password@` in URLs, or a configured credential pasted into a quote. Also a secrets
file readable by others (warned about, as ssh does). The referee for the publishers is a
plain HTTP server written here that echoes every request back, byte for byte.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest
from testkit.channels import channel, make_post

from campaign.calendar import load_calendar
from campaign.errors import CalendarError
from scheduler.platforms.base import PublishError
from scheduler.platforms.credentials import Credentials
from scheduler.platforms.registry import credentials_for, publisher_for
from scheduler.daemon.logs import EventLog, configure

REPO = Path(__file__).resolve().parents[3]
SECRET = "hunter2-App-Pass/word+xyz"  # has characters that URL- and JSON-encoding change


class Echo(BaseHTTPRequestHandler):
    """Answers every request with an error whose fields hold the whole request (a careless server)."""

    def _echo(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        request = f"{self.command} {self.path} {dict(self.headers)} {body}"
        payload = json.dumps({"error": request, "message": request, "detail": request, "title": request,
                              "errors": [{"message": request}], "error_description": request,
                              "error_user_msg": request}).encode()
        status = 401 if "oauth" in self.path or "session" in self.path.lower() else 400
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _echo

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def echo_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("platform", ["bluesky", "x", "mastodon", "linkedin", "facebook", "instagram"])
def test_an_echoing_server_never_gets_the_secret_into_the_error(echo_server: str, platform: str) -> None:
    values = {"IDENTIFIER": "campaign.bsky.social", "PASSWORD": SECRET} if platform == "bluesky" else {"TOKEN": SECRET}
    publisher = publisher_for(channel(platform), credentials=Credentials(f"be-{platform}", platform, values),
                              api_overrides={"base_url": echo_server, "video_base_url": echo_server,
                                             "media_base_url": echo_server}, timeout=5.0)
    try:
        with pytest.raises(PublishError) as caught:
            publisher.publish(make_post(platform, None, language="ja"))
    finally:
        publisher.close()
    shown = str(caught.value) + repr(vars(caught.value))
    for form in (SECRET, "hunter2-App-Pass%2Fword%2Bxyz", "hunter2-App-Pass/word+xyz".replace("/", "\\/")):
        assert form not in shown, f"{platform}: {shown[:300]}"


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A channel whose app password comes from the environment, as in production."""
    monkeypatch.setenv("CAMPAIGN_BE_BLUESKY_PASSWORD", SECRET)
    monkeypatch.setenv("CAMPAIGN_BE_BLUESKY_IDENTIFIER", "campaign.bsky.social")
    monkeypatch.setenv("CAMPAIGN_SECRETS_FILE", str(tmp_path / "none.toml"))


def test_log_lines_are_scrubbed_whatever_writes_them(configured: None, monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    logger = configure(json_lines=True)
    EventLog(logger).event("failed", f"server said: {{\"error\": \"{SECRET}\"}}", detail=f"pw={SECRET}")
    logger.error("a library logged %s and %s", SECRET, "Bearer abcdefgh12345")
    try:
        raise RuntimeError(f"unexpected: {SECRET}")
    except RuntimeError:
        logger.exception("crash")
    out = stream.getvalue()
    assert SECRET not in out and "abcdefgh12345" not in out
    assert out.count("***") >= 4
    assert "campaign.bsky.social" in EventLog_line(logger)  # the public handle is not a secret


def EventLog_line(logger: logging.Logger) -> str:  # noqa: N802
    stream = io.StringIO()
    handler = logger.handlers[0]
    handler.setStream(stream)  # type: ignore[attr-defined]
    EventLog(logger).event("published", "to campaign.bsky.social")
    return stream.getvalue()


@pytest.mark.slow  # runs the CLI as a process
def test_stored_errors_and_status_never_hold_the_secret(configured: None, tmp_path: Path) -> None:
    from testkit.scheduler import START, make_post as stored_post
    from scheduler.store import Store, sync_plan
    from scheduler.store.status import build_status

    url = f"sqlite:///{tmp_path / 'campaign.db'}"
    store = Store(url)
    post = stored_post("echo", "be-bluesky", START, platform="bluesky")
    sync_plan(store, [post], START)
    claim = store.claim_next("w", START + dt.timedelta(minutes=1), lease_seconds=60)
    assert claim is not None
    store.record_outcome(claim, START + dt.timedelta(minutes=1), state="failed", outcome="permanent",
                         error_class="PermanentError", message=f'Bluesky said {{"error": "{SECRET}"}}')
    row = store.get(post.id)
    assert SECRET not in (row.last_error or "") and "***" in (row.last_error or "")
    assert SECRET not in json.dumps([dict(r) for r in store.attempt_rows()], default=str)
    assert SECRET not in json.dumps(build_status(store, START), default=str)
    store.close()
    result = subprocess.run([sys.executable, str(REPO / "run.py"), "status", "--db", url], capture_output=True, text=True,
                            timeout=120, env={**os.environ, "CAMPAIGN_CLOCK_START": START.isoformat()})
    assert result.returncode == 0, result.stderr
    assert SECRET not in result.stdout + result.stderr


def test_the_preview_page_never_shows_a_configured_secret(configured: None, tmp_path: Path) -> None:
    shutil.copytree(REPO / "templates", tmp_path / "templates")
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "brand").symlink_to(REPO / "assets" / "brand")
    shutil.copy(REPO / "calendar.yaml", tmp_path / "calendar.yaml")
    shared = tmp_path / "templates" / "captions" / "testimonial.j2"
    shared.write_text(shared.read_text(encoding="utf-8") + f"\nsupport: {SECRET}\n", encoding="utf-8")
    from scheduler.plan import plan_posts
    from scheduler.plan.preview import render_preview

    loaded = load_calendar(tmp_path / "calendar.yaml")
    page = render_preview(plan_posts(loaded, build_dir=tmp_path / "build"), loaded.calendar,
                          templates_dir=tmp_path / "templates", root=None)
    assert SECRET not in page and "support: ***" in page


def calendar_with(tmp_path: Path, old: str, new: str) -> Path:
    text = (REPO / "calendar.yaml").read_text(encoding="utf-8")
    assert old in text
    (tmp_path / "assets").mkdir(exist_ok=True)
    if not (tmp_path / "assets" / "brand").exists():
        (tmp_path / "assets" / "brand").symlink_to(REPO / "assets" / "brand")
    if not (tmp_path / "templates").exists():
        (tmp_path / "templates").symlink_to(REPO / "templates")
    (tmp_path / "calendar.yaml").write_text(text.replace(old, new, 1), encoding="utf-8")
    return tmp_path / "calendar.yaml"


@pytest.mark.parametrize(("new", "words"), [
    ("link: https://www.belgium.be/en?utm_source=x&access_token=EAAGm0PX4ZCpsBAKZA", "a token in a link parameter"),
    ("link: https://editor:Pa55word@intranet.belgium.be/news", "a user:password in a URL"),
    ('title: "For the API team: Bearer sk_live_abcdef1234567890 works"', "a bearer token"),
])
def test_validate_finds_tokens_inside_links_and_sentences(tmp_path: Path, new: str, words: str) -> None:
    text = (REPO / "calendar.yaml").read_text(encoding="utf-8")
    key = new.split(":", 1)[0] + ": "
    old = next(line.strip() for line in text.splitlines() if line.strip().startswith(key))
    path = calendar_with(tmp_path, old, new)
    with pytest.raises(CalendarError) as caught:
        load_calendar(path)
    messages = [str(p) for p in caught.value.problems]
    assert any(words in m and "credentials never live in the calendar" in m for m in messages), messages


def test_validate_finds_a_configured_credential_pasted_into_a_quote(configured: None, tmp_path: Path) -> None:
    text = (REPO / "calendar.yaml").read_text(encoding="utf-8")
    quote_line = next(line for line in text.splitlines() if line.strip().startswith("en: ") and "quote" not in line)
    path = calendar_with(tmp_path, quote_line, quote_line.rstrip('"') + f' {SECRET}"' if quote_line.endswith('"') else quote_line + f" {SECRET}")
    with pytest.raises(CalendarError) as caught:
        load_calendar(path)
    assert any("one of the configured credentials" in str(p) for p in caught.value.problems)
    assert not any(SECRET in str(p) for p in caught.value.problems)


@pytest.mark.slow  # runs the CLI as a process
@pytest.mark.parametrize(("mode", "warned"), [(0o644, True), (0o640, True), (0o600, False)])
def test_a_secrets_file_readable_by_others_is_warned_about(tmp_path: Path, mode: int, warned: bool,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[be-x]\ntoken = "{SECRET}"\n', encoding="utf-8")
    secrets.chmod(mode)
    result = subprocess.run([sys.executable, str(REPO / "run.py"), "validate"], cwd=REPO, capture_output=True, text=True,
                            timeout=120, env={**os.environ, "CAMPAIGN_SECRETS_FILE": str(secrets)})
    assert result.returncode == 0, result.stderr
    assert ("chmod 600" in result.stderr) is warned
    with caplog.at_level(logging.WARNING, logger="campaign.daemon"):
        credentials_for("be-x", "x", env={}, secrets_file=secrets)
    assert any("can be read by other users" in r.getMessage() for r in caplog.records) is warned


def test_scrub_keeps_ordinary_text_and_masks_token_shapes() -> None:
    from campaign.secrets import scrub

    assert scrub("https://x.be/?monkey=banana&utm_key=z @belgium@mastodon.example https://a.be:8080/p@x") == \
        "https://x.be/?monkey=banana&utm_key=z @belgium@mastodon.example https://a.be:8080/p@x"
    assert scrub("https://x.be/?key=abc123 postgresql://u:pw1234@h/db Bearer abc.def eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.sig") == \
        "https://x.be/?key=*** postgresql://u:***@h/db Bearer *** ***"
