"""Who may edit and approve subtitles in the console (no browser needed): viewers may not, an
approver in the languages of their channels."""

from __future__ import annotations

from testkit.console import csrf_of, login
from testkit.subtitles import ENGLISH_DRAFT


def test_a_viewer_sees_the_page_but_may_not_approve(rig, client_for) -> None:  # type: ignore[no-untyped-def]
    (rig.inbox / "james-carter.mp4").write_bytes(b"")  # only its name matters here
    (rig.inbox / "james-carter.en.draft.srt").write_text(ENGLISH_DRAFT, encoding="utf-8")
    client = client_for()
    login(client, "vera")
    page = client.get("/subtitles/james-carter")
    assert page.status_code == 200 and "subtitles: draft" in page.text
    assert "Save and approve" not in page.text
    refused = client.post("/subtitles/james-carter/approve", data={"csrf": csrf_of(page.text), "language": "en"})
    assert refused.status_code == 403
    assert not (rig.inbox / "james-carter.en.srt").exists()


def test_an_approver_of_a_channel_posting_in_english_approves_english(rig, client_for) -> None:  # type: ignore[no-untyped-def]
    (rig.inbox / "james-carter.mp4").write_bytes(b"")
    (rig.inbox / "james-carter.en.draft.srt").write_text(ENGLISH_DRAFT, encoding="utf-8")
    client = client_for()
    login(client, "tomo")  # approver of embassy-tokyo, which posts in ja and en
    page = client.get("/subtitles/james-carter")
    answer = client.post("/subtitles/james-carter/approve", data={"csrf": csrf_of(page.text), "language": "en"},
                         follow_redirects=False)
    assert answer.status_code == 303  # embassy-tokyo posts in English: allowed
    assert (rig.inbox / "james-carter.en.srt").is_file()
    listing = client.get("/subtitles")
    assert "approved by tomo" in listing.text
