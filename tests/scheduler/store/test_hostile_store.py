"""Hostile and careless stores, and ids that do not exist: one line, a documented exit code.

The class of inputs covered: every way `--db` / `$CAMPAIGN_DB_URL` can point at something
that is not a usable store (a file that is not a database, a truncated one, a read-only
one, a folder that does not exist, a file that does not exist for a command that only
reads, a malformed URL, an unknown kind of database, a PostgreSQL database that does not
exist, a server that is not there), URLs carrying passwords, and ids the store does not
know (`approve --moment davos`, `pause --channel no-such`, `resume`, `resolve --post`),
plus malformed `CAMPAIGN_CLOCK_*` settings. Each command must answer with one line (what,
where, how to fix) and exit 3 (store) or 2 (wrong arguments), never a traceback, never
print a password, and never record a pause or approval of nothing.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from testkit.scheduler import PG_URL, START, make_post
from typer.testing import CliRunner

from application.cli import app
from scheduler.store import Store, sync_plan
from scheduler.store.problems import EXIT_STORE

runner = CliRunner()


@pytest.fixture(autouse=True)
def _elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands look for calendar.yaml in the working folder: run where there is none."""
    monkeypatch.chdir(tmp_path)


def cli(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    result = runner.invoke(app, list(args), env={"CAMPAIGN_DB_URL": "", "CAMPAIGN_CLOCK_START": "", **(env or {})})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.fixture
def filled(tmp_path: Path) -> str:
    """A store holding posts of moments europe-day and davos-2027 on be-x and embassy-tokyo."""
    url = f"sqlite:///{tmp_path / 'campaign.db'}"
    store = Store(url)
    sync_plan(store, [make_post("europe-day", "be-x", needs_approval=True),
                      make_post("davos-2027", "embassy-tokyo", needs_approval=True)], START)
    store.close()
    return url


def broken_sqlite(tmp_path: Path, how: str) -> str:
    path = tmp_path / "campaign.db"
    if how == "not a database":
        path.write_text("these are my notes, not a database\n" * 200)
    else:
        Store(f"sqlite:///{path}").close()
        size = path.stat().st_size
        with open(path, "r+b") as handle:
            handle.truncate(size // 2)
    return f"sqlite:///{path}"


@pytest.mark.parametrize("command", [("status",), ("approve", "--moment", "x"), ("pause", "--reason", "r"),
                                     ("resolve", "--post", "p", "--published")])
@pytest.mark.parametrize("how", ["not a database", "truncated"])
def test_corrupt_or_truncated_sqlite_is_one_line_exit_3(tmp_path: Path, command: tuple[str, ...], how: str) -> None:
    url = broken_sqlite(tmp_path, how)
    before = Path(url.removeprefix("sqlite:///")).read_bytes()
    result = cli(*command, "--db", url)
    assert result.exit_code == EXIT_STORE, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "not a readable SQLite database" in lines[0] and "restore it" in lines[0]
    assert "Traceback" not in result.output
    assert Path(url.removeprefix("sqlite:///")).read_bytes() == before, "the broken file was changed"


@pytest.mark.parametrize(("url", "words"), [
    ("sqlite:///{tmp}/no/such/folder/campaign.db", "folder does not exist"),
    ("not a url", "is not a database URL"),
    ("mongodb://db.example/campaign", "unknown database kind 'mongodb'"),
    ("mysql://campaign:pw@db.example/campaign", "unknown database kind 'mysql'"),  # no MySQLdb: a traceback before
    ("oracle://db.example/campaign", "unknown database kind 'oracle'"),
])
def test_bad_locations_are_one_line_exit_3(tmp_path: Path, url: str, words: str) -> None:
    result = cli("schedule", "--calendar", str(Path(__file__).resolve().parents[3] / "calendar.yaml"),
                 "--db", url.format(tmp=tmp_path))
    assert result.exit_code == EXIT_STORE, result.output
    assert words in result.output.strip().splitlines()[-1]
    assert "Traceback" not in result.output


def test_reading_commands_do_not_create_a_store_from_a_typo(tmp_path: Path) -> None:
    result = cli("status", "--db", f"sqlite:///{tmp_path / 'campain.db'}")
    assert result.exit_code == EXIT_STORE
    assert "no store at" in result.output and "schedule" in result.output
    assert not (tmp_path / "campain.db").exists()


@pytest.mark.parametrize("command", [("results",), ("user", "list"), ("user", "remove", "ines"),
                                     ("results-import", "export.csv")])
def test_results_and_accounts_refuse_a_store_that_is_not_there(tmp_path: Path, command: tuple[str, ...]) -> None:
    """The README: the other commands refuse a SQLite file that is not there (`results` and
    `user list` printed an empty answer, exit 0, and created the file)."""
    (tmp_path / "calendar.yaml").write_text((Path(__file__).resolve().parents[3] / "calendar.yaml").read_text())
    (tmp_path / "export.csv").write_text("utm_campaign,utm_source,utm_content,sessions\ndavos-2027,x,en,3\n")
    for name in ("assets", "templates"):
        (tmp_path / name).symlink_to(Path(__file__).resolve().parents[3] / name)
    result = cli(*command, "--db", f"sqlite:///{tmp_path / 'typo.db'}")
    assert result.exit_code == EXIT_STORE, result.output
    assert "no store at" in result.output and not (tmp_path / "typo.db").exists()


def test_user_add_may_make_the_first_account_before_schedule(tmp_path: Path) -> None:
    result = runner.invoke(app, ["user", "add", "ines", "--role", "admin", "--password-stdin", "--db",
                                 f"sqlite:///{tmp_path / 'new.db'}"], input="a long enough password\n",
                           env={"CAMPAIGN_DB_URL": ""})
    assert result.exit_code == 0, result.output
    assert (tmp_path / "new.db").exists()


def test_read_only_database_reads_but_refuses_writes_in_one_line(filled: str) -> None:
    read_only = f"sqlite:///file:{filled.removeprefix('sqlite:///')}?mode=ro&uri=true"
    assert cli("status", "--db", read_only).exit_code == 0
    result = cli("pause", "--reason", "crisis", "--db", read_only)
    assert result.exit_code == EXIT_STORE, result.output
    assert "read-only" in result.output and "write access" in result.output


def test_locked_database_is_named_as_locked(filled: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("scheduler.store.engine.BUSY_TIMEOUT_MS", 100)
    holder = sqlite3.connect(filled.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = cli("pause", "--reason", "crisis", "--db", filled)
    finally:
        holder.rollback()
        holder.close()
    assert result.exit_code == EXIT_STORE, result.output
    assert "locked by another process" in result.output


def test_a_command_on_a_locked_store_says_at_once_that_it_waits(filled: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """`status` on a locked SQLite file waited 34 s in silence before exit 3."""
    monkeypatch.setattr("scheduler.store.engine.BUSY_TIMEOUT_MS", 300)
    holder = sqlite3.connect(filled.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = cli("status", "--db", filled)
    finally:
        holder.rollback()
        holder.close()
    lines = result.output.strip().splitlines()
    assert result.exit_code == EXIT_STORE and len(lines) == 2, result.output
    assert "is locked by another process" in lines[0] and "waiting up to 0 s" in lines[0]
    assert "locked by another process" in lines[1]
    assert cli("status", "--db", filled).output.count("waiting") == 0  # not locked: nothing said


def _pg_reachable() -> None:
    import psycopg

    try:
        psycopg.connect(PG_URL.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3).close()
    except psycopg.OperationalError as error:
        if os.environ.get("CAMPAIGN_REQUIRE_PG"):
            pytest.fail(f"PostgreSQL is required here but unreachable: {error}")
        pytest.skip(f"PostgreSQL unreachable: {error}")


def test_postgres_database_that_does_not_exist_masks_the_password() -> None:
    _pg_reachable()
    base = PG_URL.rsplit("/", 1)[0].replace("postgres@", "postgres:Sup3rSecret@")
    result = cli("status", "--db", f"{base}/campaign_nope_i13")
    assert result.exit_code == EXIT_STORE, result.output
    line = result.output.strip()
    assert "PostgreSQL has no database 'campaign_nope_i13'" in line and "createdb" in line
    assert "Sup3rSecret" not in result.output and "postgres:***@" in line


def test_unreachable_server_is_one_line() -> None:
    result = cli("status", "--db", "postgresql+psycopg://u:pw@127.0.0.1:1/campaign")
    assert result.exit_code == EXIT_STORE
    assert "cannot reach the database server" in result.output and ":pw@" not in result.output


def test_schedule_prints_the_url_without_its_password() -> None:
    _pg_reachable()
    from testkit.scheduler import drop_pg_schema, pg_schema

    url, schema = pg_schema()
    try:
        store = Store(url.replace("postgres@", "postgres:Sup3rSecret@"), schema=schema)
        assert "Sup3rSecret" not in store.shown_url and "***" in store.shown_url
        store.close()
    finally:
        drop_pg_schema(schema)


@pytest.mark.parametrize(("args", "words"), [
    (("approve", "--moment", "davos"), "no moment `davos` in the store"),
    (("approve", "--channel", "embassy-tokio"), "did you mean `embassy-tokyo`"),
    (("approve", "--post", "europe-day-2027-be-x-fr"), "no post `europe-day-2027-be-x-fr`"),
    (("pause", "--channel", "no-such", "--reason", "test"), "no channel `no-such`"),
    (("resume", "--channel", "be-xx"), "did you mean `be-x`"),
    (("resolve", "--post", "nope", "--published"), "no post `nope`"),
])
def test_unknown_ids_exit_2_with_a_suggestion_and_change_nothing(filled: str, args: tuple[str, ...], words: str) -> None:
    store = Store(filled)
    audit_before = len(store.audit_rows())
    result = cli(*args, "--db", filled)
    assert result.exit_code == 2, result.output
    assert words in result.output
    assert len(store.audit_rows()) == audit_before and store.channel_states() == {}
    store.close()


def test_davos_suggests_the_moment_that_exists(filled: str) -> None:
    result = cli("approve", "--moment", "davos", "--db", filled)
    assert "did you mean `davos-2027`?" in result.output


def test_channels_of_the_calendar_are_known_before_anything_is_scheduled(filled: str) -> None:
    calendar = Path(__file__).resolve().parents[3] / "calendar.yaml"
    result = cli("pause", "--channel", "embassy-ottawa", "--reason", "storm", "--db", filled, "--calendar", str(calendar))
    assert result.exit_code == 0, result.output
    result = cli("pause", "--channel", "embassy-otawa", "--reason", "storm", "--db", filled, "--calendar", str(calendar))
    assert result.exit_code == 2 and f"or {calendar}" in result.output and "`embassy-ottawa`" in result.output


def test_known_ids_still_work(filled: str) -> None:
    result = cli("approve", "--moment", "davos-2027", "--db", filled)
    assert result.exit_code == 0 and "approved 1 post" in result.output
    assert cli("pause", "--channel", "be-x", "--reason", "crisis", "--db", filled).exit_code == 0


@pytest.mark.parametrize(("env", "words"), [
    ({"CAMPAIGN_CLOCK_START": "next tuesday"}, "CAMPAIGN_CLOCK_START='next tuesday' is not a date and time"),
    ({"CAMPAIGN_CLOCK_START": "2027-05-09T06:55:00+02:00", "CAMPAIGN_CLOCK_SPEED": "fast"}, "is not a positive number"),
    ({"CAMPAIGN_CLOCK_START": "2027-05-09T06:55:00+02:00", "CAMPAIGN_CLOCK_SPEED": "-5"}, "is not a positive number"),
    ({"CAMPAIGN_CLOCK_SPEED": "fast"}, "CAMPAIGN_CLOCK_SPEED='fast' is set without CAMPAIGN_CLOCK_START"),  # was ignored
    ({"CAMPAIGN_CLOCK_SPEED": "60"}, "needs the time it starts from"),
])
def test_malformed_clock_settings_are_one_line_exit_2(filled: str, env: dict[str, str], words: str) -> None:
    result = cli("status", "--db", filled, env=env)
    assert result.exit_code == 2, result.output
    assert words in result.output and "Traceback" not in result.output


def test_a_daemon_interval_that_would_spin_is_refused() -> None:
    result = cli("daemon", "--interval", "0")
    assert result.exit_code == 2 and "--interval" in result.output


def test_schedule_with_a_broken_caption_template_is_one_located_line(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[3]
    import shutil

    shutil.copytree(repo / "templates", tmp_path / "templates")
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "brand").symlink_to(repo / "assets" / "brand")
    shutil.copy(repo / "calendar.yaml", tmp_path / "calendar.yaml")
    (tmp_path / "templates" / "captions" / "testimonial.j2").write_text("{{ title }}\n{{ 1 / 0 }}\n", encoding="utf-8")
    result = cli("schedule", "--db", f"sqlite:///{tmp_path / 'campaign.db'}")
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines()[-1].startswith("templates/captions/testimonial.j2:2:")


def test_a_heartbeat_file_in_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    calendar = Path(__file__).resolve().parents[3] / "calendar.yaml"
    result = cli("daemon", "--once", "--calendar", str(calendar), "--db", f"sqlite:///{tmp_path / 'c.db'}",
                 "--heartbeat-file", str(tmp_path / "no" / "such" / "hb"))
    assert result.exit_code == 2 and "does not exist" in result.output


@pytest.mark.parametrize("password", ["o", "on", "p"])
def test_a_short_url_password_is_masked_where_it_stands_not_inside_words(password: str) -> None:
    from scheduler.store.problems import describe

    url = f"postgresql+psycopg://campaign:{password}@db.example:5432/campaign"
    line = describe(Exception(f"connection failed: connection to server at port 5432 refused; plugin said {password}"), url)
    assert "connection to server at port 5432 refused; plugin said ***" in line, line
    assert f":{password}@" not in line
