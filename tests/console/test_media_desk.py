"""The desk's forms without JavaScript, and what a designer may and may not do."""

from __future__ import annotations

from pathlib import Path

import pytest

from testkit.console import csrf_of, login
from testkit.desk import DESIGNER, SAMPLES, add_designer, broken_jpeg, media_calendar


@pytest.fixture
def desk(rig, tmp_path):  # type: ignore[no-untyped-def]
    """A client logged in as a designer, on a calendar with media approval; renders recorded, not run."""
    from starlette.testclient import TestClient

    from console.app import ConsoleConfig
    from console.server import create_app

    add_designer(rig)
    app = create_app(ConsoleConfig(db=rig.url, calendar=media_calendar(tmp_path / "campaign"), build=rig.build,
                                   inbox=rig.inbox), clock=rig.clock, store=rig.store)
    asked: list[list[str]] = []
    app.state.console.desk.renders.request = lambda forget=(): asked.append(list(forget))
    client = TestClient(app, base_url="http://127.0.0.1")
    login(client, DESIGNER[0], DESIGNER[1])
    yield client, app, asked
    client.close()


def csrf(client) -> str:  # type: ignore[no-untyped-def]
    return csrf_of(client.get("/media").text)


def test_the_form_uploads_several_files_without_javascript(desk, rig, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    client, _, asked = desk
    bad = broken_jpeg(tmp_path / "priya-sharma.jpg")
    with (SAMPLES / "lukas-weber.jpg").open("rb") as good, bad.open("rb") as broken:
        answer = client.post("/media/upload", data={"csrf": csrf(client)},
                             files=[("file", ("lukas-weber.jpg", good, "image/jpeg")), ("file", ("priya-sharma.jpg", broken, "image/jpeg"))])
    assert answer.status_code == 200  # back on the desk, with what happened to each file
    flash = answer.text
    assert "lukas-weber.jpg: in the inbox as lukas-weber&#39;s photo" in flash
    assert "priya-sharma.jpg: refused" in flash and "damaged or truncated" in flash
    assert (rig.inbox / "lukas-weber.jpg").is_file() and (rig.inbox / "rejected" / "priya-sharma.jpg").is_file()
    assert asked == [[]]
    assert "priya-sharma.jpg" in client.get("/media").text  # listed among the rejected files, with the reason


@pytest.mark.slow  # renders a photo's variants (~4 s)
def test_a_rejected_file_is_retried_after_a_fix_or_deleted_with_an_audit_row(desk, rig) -> None:  # type: ignore[no-untyped-def]
    client, _, asked = desk
    rejected = rig.inbox / "rejected"
    rejected.mkdir()
    (rejected / "lukas-weber.jpg").write_bytes((SAMPLES / "lukas-weber.jpg").read_bytes())  # refused once (since fixed)
    (rejected / "lukas-weber.jpg.why.txt").write_text("lukas-weber.jpg was not rendered:\nsomething then\n")
    (rejected / "holiday.jpg").write_bytes(b"x")
    (rejected / "holiday.jpg.why.txt").write_text("holiday.jpg was not rendered:\nmatches no testimonial\n")
    token = csrf(client)
    retried = client.post("/media/rejected/retry", data={"csrf": token, "file": "lukas-weber.jpg"})
    assert "lukas-weber.jpg: in the inbox" in retried.text
    assert (rig.inbox / "lukas-weber.jpg").is_file() and not (rejected / "lukas-weber.jpg.why.txt").exists()
    deleted = client.post("/media/rejected/delete", data={"csrf": token, "file": "holiday.jpg"})
    assert "deleted rejected/holiday.jpg" in deleted.text and not (rejected / "holiday.jpg").exists()
    audit = [(r["actor"], r["action"], r["target"]) for r in rig.store.audit_rows()]
    assert ("dora", "media-delete-rejected", "holiday.jpg") in audit and ("dora", "media-retry", "lukas-weber.jpg") in audit
    assert client.post("/media/rejected/delete", data={"csrf": token, "file": "../calendar.yaml"}).text.count("Not done") == 1


def test_one_variant_renders_again_on_request(desk, rig) -> None:  # type: ignore[no-untyped-def]
    client, _, asked = desk
    answer = client.post("/media/render", data={"csrf": csrf(client), "output": "lukas-weber/feed_4x5.en.jpg"})
    assert "renders again" in answer.text and asked == [["lukas-weber/feed_4x5.en.jpg"]]
    unknown = client.post("/media/render", data={"csrf": csrf(client), "output": "../../etc/passwd"})
    assert "Not done" in unknown.text and len(asked) == 1


def test_a_designer_approves_media_but_not_posts(desk, rig) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = desk
    token = csrf(client)
    waiting = next(p for p in rig.store.all_posts(state="planned"))
    refused = client.post("/approve", data={"csrf": token, "post": waiting.id})
    assert refused.status_code == 403 and rig.store.get(waiting.id).state == "planned"
    not_yet = client.post("/media/approve", data={"csrf": token, "testimonial": "lukas-weber", "kind": "photo"})
    assert "upload it before approving it" in not_yet.text
    (rig.inbox / "lukas-weber.jpg").write_bytes((SAMPLES / "lukas-weber.jpg").read_bytes())
    done = client.post("/media/approve", data={"csrf": token, "testimonial": "lukas-weber", "kind": "photo"})
    assert "approved lukas-weber&#39;s photo" in done.text
    page = client.get("/media/t/lukas-weber").text
    assert "approved by dora" in page
    # A new file takes the approval back.
    with (SAMPLES / "priya-sharma.jpg").open("rb") as other:
        client.post("/media/upload", data={"csrf": token}, files=[("file", ("lukas-weber.jpg", other, "image/jpeg"))])
    from scheduler.store.media_approvals import MediaApprovals

    assert MediaApprovals(rig.store.engine).get("lukas-weber", "photo") is None
    assert "not approved" in client.get("/media/t/lukas-weber").text


def test_a_viewer_sees_the_desk_but_uploads_nothing(rig, desk) -> None:  # type: ignore[no-untyped-def]
    from starlette.testclient import TestClient

    _, app, _ = desk
    with TestClient(app, base_url="http://127.0.0.1") as viewer:
        login(viewer, "vera")
        page = viewer.get("/media")
        assert page.status_code == 200 and 'id="drop"' not in page.text
        with (SAMPLES / "lukas-weber.jpg").open("rb") as photo:
            refused = viewer.post("/media/upload", data={"csrf": csrf_of(page.text)}, files=[("file", ("lukas-weber.jpg", photo))])
        assert refused.status_code == 403 and not (rig.inbox / "lukas-weber.jpg").exists()
        assert viewer.get("/media/raw/inbox/..%2Fcampaign.db").status_code == 404
        assert viewer.get("/media/build/../campaign.db").status_code == 404


def test_designers_change_only_testimonials_files_in_the_calendar(rig, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from scheduler.actions import NotAllowed
    from scheduler.edits import Change, Editor, check_allowed

    path = media_calendar(tmp_path / "campaign")
    from campaign.calendar.writer import Draft

    before = Draft.open(path).get(())
    lukas = next(t for t in before["testimonials"] if t["id"] == "lukas-weber")
    dora = Editor("dora", "designer")
    check_allowed(dora, before, [Change("testimonials", "lukas-weber", {**lukas, "clip": "lukas-weber.mp4"})])
    with pytest.raises(NotAllowed, match="photo, clip and subtitles files only"):
        check_allowed(dora, before, [Change("testimonials", "lukas-weber", {**lukas, "name": "Someone Else"})])
    with pytest.raises(NotAllowed, match="designers assign files"):
        check_allowed(dora, before, [Change("moments", "europe-day", {"id": "europe-day"})])
