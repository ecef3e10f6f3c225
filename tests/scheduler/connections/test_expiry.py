"""Where renewal is impossible (an ordinary LinkedIn app: 60 days, no refresh token), the admins
are told 14, 7 and 1 days ahead, each once; `check` and `status` lines say when the access token
expires, whether it renews itself and the day the channel stops."""

from __future__ import annotations

import datetime as dt
import logging
from types import SimpleNamespace

from campaign.calendar.loader import load_calendar
from scheduler.connections.connect import overview, stored_row
from scheduler.connections.expiry import ExpiryWarnings
from scheduler.daemon.logs import EventLog
from scheduler.notify.outbox import Outbox
from scheduler.platforms.credentials import Credentials
from scheduler.platforms.registry import PLATFORMS
from testkit.assets import REPO
from testkit.channels import ACCOUNTS
from testkit.connections import START, connect, token_rig

ADMINS = SimpleNamespace(recipients=[SimpleNamespace(failures=True, email="admin@example.org", webhook=None, key="admin",
                                                     approves=[])], email=None)


def test_a_linkedin_channel_without_refresh_is_announced_14_7_and_1_days_ahead_once_each(tmp_path, caplog):
    rig = token_rig(tmp_path, "linkedin", account=ACCOUNTS["linkedin"])
    try:
        connect(rig.vault, rig.emulator, "be-linkedin", rig.emulator.account, START)
        outbox = Outbox(rig.store)
        warnings = ExpiryWarnings(rig.vault, rig.clock, lambda: SimpleNamespace(notifications=ADMINS),
                                  EventLog(logging.getLogger("test.expiry")), outbox)
        row = stored_row(rig.vault.get("be-linkedin", tokens=False))
        end = START + dt.timedelta(days=60)
        assert row.stops_at == end and not row.renews
        assert row.line() == ("be-linkedin (connected): access token until 2027-06-30 06:00 UTC, does not renew itself "
                              "(no refresh token); the channel stops on 2027-06-30 unless connected again")
        said = []
        for day in range(0, 61):
            rig.clock.set(START + dt.timedelta(days=day, hours=1))
            said += warnings.run_once()
            said += warnings.run_once()  # the job runs every 30 s: each warning once
        assert said == [("be-linkedin", 14), ("be-linkedin", 7), ("be-linkedin", 1)]
        notices = outbox.rows()
        assert [n["subject"] for n in notices] == ["be-linkedin: connect it again within 14 days",
                                                   "be-linkedin: connect it again within 7 days",
                                                   "be-linkedin: connect it again within 1 day"]
        assert all("2027-06-30 06:00 UTC" in n["body"] and n["target"] == "admin@example.org" for n in notices)
    finally:
        rig.close()


def test_an_x_channel_renews_for_good_and_is_never_announced(tmp_path):
    rig = token_rig(tmp_path)
    try:
        connect(rig.vault, rig.emulator, "be-x", "belgium", START)
        row = stored_row(rig.vault.get("be-x", tokens=False))
        assert row.stops_at is None and row.renews
        assert row.line() == ("be-x (connected): access token until 2027-05-01 08:00 UTC, renews itself "
                              "(single-use refresh tokens)")
        rig.clock.set(START + dt.timedelta(days=300))
        assert ExpiryWarnings(rig.vault, rig.clock, lambda: None).run_once() == []
    finally:
        rig.close()


def test_status_prints_each_connected_channel_and_never_its_tokens(tmp_path, monkeypatch):
    import json

    from typer.testing import CliRunner

    from application.cli import app
    from scheduler.connections.vault import Vault
    from scheduler.store import Store, sync_plan
    from testkit.scheduler import make_post

    rig = token_rig(tmp_path)
    try:
        connect(rig.vault, rig.emulator, "be-x", "belgium", START)
        sync_plan(rig.store, [make_post("one", at=START + dt.timedelta(days=1))], START)
        token = rig.vault.get("be-x").access_token
    finally:
        rig.close()
    monkeypatch.setenv("CAMPAIGN_CLOCK_START", START.isoformat())  # a rehearsal store on the campaign clock
    url = f"sqlite:///{tmp_path / 'campaign.db'}"
    text = CliRunner().invoke(app, ["status", "--db", url])
    assert text.exit_code == 0, text.output
    assert "Connections (tokens in the store):\n  be-x (connected): access token until 2027-05-01 08:00 UTC, renews itself" \
        in text.stdout and token not in text.stdout
    as_json = json.loads(CliRunner().invoke(app, ["status", "--db", url, "--json"]).stdout)
    assert as_json["connections"][0]["channel"] == "be-x" and as_json["connections"][0]["renews_itself"] is True
    assert Vault(Store(url), create=False).all()[0].channel_id == "be-x"


def test_a_youtube_channel_whose_google_app_is_in_testing_stops_7_days_after_connecting(tmp_path):
    """Google ends a refresh token 7 days after it is issued while the app is in "Testing": with
    `api: {oauth_app: testing}` the stored end is the connection + 7 days, renewals keep it, the
    lines say the day, the admins are told 7 and 1 days ahead; without the setting it renews for good."""
    rig = token_rig(tmp_path, "youtube", account=ACCOUNTS["youtube"])
    try:
        connect(rig.vault, rig.emulator, "be-youtube", rig.emulator.account, START, api={"oauth_app": "testing"})
        connect(rig.vault, rig.emulator, "be-youtube-live", rig.emulator.account, START, api={"oauth_app": "production"})
        end = START + dt.timedelta(days=7)
        row = stored_row(rig.vault.get("be-youtube", tokens=False))
        assert row.stops_at == end and row.renews
        assert row.line() == ("be-youtube (connected): access token until 2027-05-01 07:00 UTC, renews itself "
                              "(refresh token); the channel stops on 2027-05-08 unless connected again")
        assert stored_row(rig.vault.get("be-youtube-live", tokens=False)).stops_at is None
        renewer = rig.renewer()
        warnings = ExpiryWarnings(rig.vault, rig.clock, lambda: None)
        said = []
        for day in range(0, 9):
            rig.clock.set(START + dt.timedelta(days=day, hours=1))
            assert renewer.run_once() == {"be-youtube": "renewed", "be-youtube-live": "renewed"}
            said += warnings.run_once()
        assert rig.vault.get("be-youtube", tokens=False).refresh_expires_at == end  # a renewal does not extend it
        assert said == [("be-youtube", 7), ("be-youtube", 1)]
    finally:
        rig.close()


def test_every_channel_without_oauth_says_why_its_credentials_do_not_expire():
    """`check` printed "be-facebook (pasted token): does not expire ()": a platform whose accounts
    are not connected with OAuth must say what kind of credential it keeps, and the line never
    shows an empty reason."""
    for row in PLATFORMS.values():
        if row.has_account and row.oauth is None:
            assert row.credential_note, f"{row.name}: no credential_note in its registry row"
    calendar = load_calendar(REPO / "calendar.yaml").calendar
    rows = overview(calendar, None, lambda cid: Credentials(cid, "any", {"TOKEN": "t", "IDENTIFIER": "h"}))
    lines = [r.line() for r in rows]
    assert lines and not [line for line in lines if "()" in line], lines
    assert any("Page access token" in line for line in lines if line.startswith("be-facebook"))
