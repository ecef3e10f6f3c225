"""YouTube: the publisher against the YouTube emulator (resumable upload, resume after a cut or a
kill, caption tracks, processing as a state, quota until midnight Pacific, Shorts, figures, check),
the emulator's contract on the wire, and the text rules. Google's own client judges the emulator
in test_youtube_google_client.py. Cost: about 2 s (two tiny generated clips, ~0.6 MB and ~40 kB)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import pytest
import requests

from campaign.post import MediaRef
from emulators import metrics
from scheduler.daemon.outgoing import captions_of
from scheduler.platforms.base import AuthError, OutgoingMedia, Pending, PermanentError, RateLimited, StepLedger, TransientError
from scheduler.platforms.registry import check_caption, collector_for, publisher_for
from scheduler.platforms.youtube.publisher import seconds_to_pacific_midnight
from scheduler.platforms.youtube.text import title_of
from assets.pipeline import caption_tracks
from campaign.errors import CalendarError
from testkit.assets import calendar_data, write_calendar, write_srt  # noqa: F401 - write_calendar: a fixture
import testkit.scheduler as scheduler_kit
from scheduler.daemon import DispatchConfig, Dispatcher
from scheduler.store import states, sync_plan
from testkit.stores import sqlite_store  # noqa: F401 - a fixture
from testkit.channels import ACCOUNTS, FAKE_TOKEN, Rig, channel, rig
from testkit.youtube import CAPTION, LOCALIZED, KiB, clip_post, clips, youtube  # noqa: F401 - clips, youtube: fixtures

def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---- publisher ----------------------------------------------------------------------------------------


def test_upload_with_captions_localizations_and_private_when_unaudited(youtube, clips) -> None:
    r = youtube()
    result = r.publisher.publish(clip_post(clips, captions=("en", "fr")))
    [video] = r.emulator.published
    assert result.remote_id == video["id"] and result.url == f"https://www.youtube.com/watch?v={video['id']}"
    assert video["text"] == CAPTION and video["title"] == "Why Belgium? Aiko Tanaka on research in Leuven"
    assert video["language"] == "en" and video["languages"] == ["en"]
    assert video["media"][0]["sha256"] == sha(clips["landscape"])
    assert video["privacy"] == "private" and result.extra["privacy"] == "private"  # no api.audited: sent private
    assert video["captions"] == ["en", "fr"]
    assert r.emulator.caption_text(video["id"], "fr") == clips["fr"].read_text(encoding="utf-8")
    total = clips["landscape"].stat().st_size
    assert total > 2 * 256 * KiB
    assert r.emulator.content_ranges[0] == f"bytes 0-{256 * KiB - 1}/{total}"  # 256 KiB chunks, in order
    assert r.emulator.quota_used() == 1600 + 2 * 400 + 2  # the upload, two captions, two processing checks


def test_one_video_carries_every_language_in_localizations(youtube, clips) -> None:
    r = youtube()
    r.publisher.publish(clip_post(clips, captions=("en", "fr"), localizations=LOCALIZED))
    [video] = r.emulator.published
    assert video["language"] == "en" and video["languages"] == ["en", "fr", "nl"] and r.emulator.sessions_started() == 1
    [item] = r.publisher.read("/youtube/v3/videos", what="the video", params={"part": "localizations", "id": video["id"]})["items"]
    sent = item["localizations"]  # as the emulator kept them from the upload session's resource
    assert sent["en"] == {"title": "Why Belgium? Aiko Tanaka on research in Leuven", "description": CAPTION}
    assert sent["fr"] == {"title": "Pourquoi la Belgique ? Aiko Tanaka et la recherche à Louvain", "description": LOCALIZED[0][1]}
    assert sent["nl"]["title"] == "Waarom België? Aiko Tanaka over onderzoek in Leuven"


def test_processing_is_a_state_on_a_durable_ledger(youtube, clips) -> None:
    r = youtube(inline_wait=0)
    r.emulator.inject("slow_processing", polls=3)
    saved: dict[str, str] = {}
    ledger = StepLedger(save=lambda k, v: saved.__setitem__(k, v) if v is not None else saved.pop(k, None), durable=True)
    with pytest.raises(Pending):
        r.publisher.publish(clip_post(clips), ledger)
    assert "video" in saved and "processed" not in saved
    for _ in range(5):
        try:
            result = r.publisher.publish(clip_post(clips), StepLedger(dict(saved), save=ledger._save, durable=True))
            break
        except Pending:
            continue
    assert result.remote_id == saved["video"] and saved["processed"] == "1"
    assert len(r.emulator.published) == 1 and r.emulator.sessions_started() == 1


def test_a_cut_chunk_resumes_at_the_byte_the_session_holds(youtube, clips) -> None:
    r = youtube(chunk_size=512 * KiB, chunk_retries=0)
    total = clips["landscape"].stat().st_size
    r.emulator.inject("cut_upload", on="chunk")  # the first 512 KiB chunk: 256 KiB of it arrive, then the line drops
    ledger = StepLedger()
    with pytest.raises(TransientError):
        r.publisher.publish(clip_post(clips), ledger)
    assert ledger.get("upload_session") and ledger.get("video") is None and not r.emulator.published
    # a restart: a new publisher with the ledger the store kept
    again = publisher_for(channel("youtube"), credentials=r.publisher.credentials, api_overrides=r.overrides, clock=r.clock,
                          chunk_size=512 * KiB)
    try:
        result = again.publish(clip_post(clips), StepLedger(ledger.steps()))
    finally:
        again.close()
    assert r.emulator.content_ranges == [f"bytes 0-{512 * KiB - 1}/{total}", f"bytes */{total}",
                                         f"bytes {256 * KiB}-{total - 1}/{total}"]
    [video] = r.emulator.published
    assert result.remote_id == video["id"] and r.emulator.sessions_started() == 1
    assert video["media"][0]["sha256"] == sha(clips["landscape"])


def test_a_cut_chunk_is_resumed_inside_one_publish(youtube, clips) -> None:
    r = youtube(chunk_size=512 * KiB, chunk_retries=2)
    total = clips["landscape"].stat().st_size
    r.emulator.inject("cut_upload", on="chunk")
    r.publisher.publish(clip_post(clips))
    assert r.emulator.content_ranges[1:3] == [f"bytes */{total}", f"bytes {256 * KiB}-{total - 1}/{total}"]
    assert len(r.emulator.published) == 1 and r.emulator.published[0]["media"][0]["sha256"] == sha(clips["landscape"])


class Killed(BaseException):
    """The daemon's process dies right after a step is stored."""


@pytest.mark.parametrize("kill_after", ["upload_session", "video", "caption:en"])
def test_killed_between_steps_makes_no_second_video_or_track(youtube, clips, kill_after: str) -> None:
    r = youtube()
    saved: dict[str, str] = {}

    def save(name: str, value: str | None) -> None:
        if value is None:
            saved.pop(name, None)
            return
        saved[name] = value
        if name == kill_after:
            raise Killed(name)

    with pytest.raises(Killed):
        r.publisher.publish(clip_post(clips, captions=("en", "fr")), StepLedger(save=save))
    result = r.publisher.publish(clip_post(clips, captions=("en", "fr")), StepLedger(dict(saved)))
    [video] = r.emulator.published
    assert result.remote_id == video["id"] and r.emulator.sessions_started() == 1
    assert video["captions"] == ["en", "fr"]  # each language once (the emulator refuses a repeat with 409)


def test_quota_exceeded_waits_until_midnight_pacific(youtube, clips) -> None:
    r = youtube(daily_quota=1000)  # less than one upload
    with pytest.raises(RateLimited) as raised:
        r.publisher.publish(clip_post(clips))
    # START is 2027-03-01 09:00 UTC, 01:00 in Los Angeles (PST): the quota resets 23 h later
    assert raised.value.retry_after == pytest.approx(23 * 3600)
    assert raised.value.platform_code == "403/quotaExceeded"
    assert not r.emulator.published
    r.emulator.inject("quota_exhausted", reason="uploadLimitExceeded")
    with pytest.raises(RateLimited, match="upload limit"):
        r.publisher.publish(clip_post(clips))


def test_midnight_pacific_across_daylight_saving() -> None:
    # 2027-03-14: clocks go forward in Los Angeles; 2027-03-14 12:00 UTC is 05:00 PDT -> 19 h to midnight
    assert seconds_to_pacific_midnight(dt.datetime(2027, 3, 14, 12, 0, tzinfo=dt.timezone.utc)) == 19 * 3600
    assert seconds_to_pacific_midnight(dt.datetime(2027, 3, 13, 12, 0, tzinfo=dt.timezone.utc)) == 20 * 3600  # 04:00 PST


def test_vertical_clip_of_3_minutes_or_less_is_a_short(youtube, clips) -> None:
    r = youtube()
    result = r.publisher.publish(clip_post(clips, kind="vertical", post_id="p.short"))
    assert result.url == f"https://www.youtube.com/shorts/{result.remote_id}" and result.extra["short"] == "1"
    assert r.emulator.published[0]["short"] is True  # the emulator classifies on its own, from the bytes
    landscape = r.publisher.publish(clip_post(clips, post_id="p.long", text=CAPTION + " 2"))
    assert "watch?v=" in landscape.url and r.emulator.published[1]["short"] is False


def test_a_photo_is_refused_before_any_call(youtube, clips, media_dir) -> None:
    r = youtube()
    photo = OutgoingMedia(media_dir / "aiko-tanaka" / "photo.ja.jpg", "photo", "image/jpeg", "", 320, 240)
    post = dataclasses.replace(clip_post(clips), media=(photo,))
    with pytest.raises(Exception, match="one video per post"):
        r.publisher.publish(post)
    assert not r.emulator.requests


def test_expired_token_is_an_auth_error(youtube, clips) -> None:
    r = youtube()
    r.emulator.inject("expired_token")
    with pytest.raises(AuthError, match="expired"):
        r.publisher.publish(clip_post(clips))


def test_figures_grow_with_age(youtube, clips) -> None:
    r = youtube()
    result = r.publisher.publish(clip_post(clips))
    collect = collector_for("youtube")
    r.clock.advance(dt.timedelta(hours=1))
    early = collect(r.publisher, result.remote_id, "clip")
    r.clock.advance(dt.timedelta(days=7))
    late = collect(r.publisher, result.remote_id, "clip")
    assert late.video_views > early.video_views > 0 and late.likes >= early.likes and late.replies is not None
    assert late.impressions == late.video_views and late.reach is None  # views are its impressions; no reach
    age = (r.clock.now() - dt.datetime.fromisoformat(r.emulator.published[0]["received_at"])).total_seconds()
    assert late.video_views == metrics.figure(r.emulator, result.remote_id, "video_views", age)
    assert late.raw["statistics"]["viewCount"] == str(late.video_views)


def test_check_says_an_unaudited_project_posts_private(youtube) -> None:
    r = youtube()
    [note] = r.publisher.check()
    assert note.note and not note.blocking and "private" in note.message and "audited: true" in note.message
    r.publisher.api["audited"] = True
    assert r.publisher.check() == []
    wrong = youtube()
    wrong.publisher.account = "@someone-else"
    [problem] = [p for p in wrong.publisher.check() if not p.note]
    assert problem.blocking and "@someone-else" in problem.message


def test_audited_channel_uploads_public(youtube, clips) -> None:
    r = youtube(audited=True)
    r.publisher.api["audited"] = True
    result = r.publisher.publish(clip_post(clips))
    assert result.extra["privacy"] == "public" and r.emulator.published[0]["privacy"] == "public"


# ---- text rules -------------------------------------------------------------------------------------------


def test_text_rules() -> None:
    assert check_caption("youtube", "fine") == []
    long_ja = "ベ" * 1700  # 5,100 bytes in UTF-8
    assert any("5000 bytes" in p for p in check_caption("youtube", long_ja))
    assert any("<" in p and "refuses" in p for p in check_caption("youtube", "a <b> c"))
    title = title_of("x" * 150 + "\nrest")
    assert len(title) == 100 and title.endswith("…")
    assert title_of("\n  First line  \nsecond") == "First line"
    assert title_of("👩‍👩‍👧" * 40).endswith("…") and len(title_of("👩‍👩‍👧" * 40)) <= 100  # whole clusters only


# ---- the emulator's contract, on the wire -------------------------------------------------------------------


def _session(r: Rig, total: int, **resource: Any) -> str:
    body = {"snippet": {"title": "A title", "description": "text"}, "status": {"privacyStatus": "public"}, **resource}
    answer = requests.post(r.emulator.base_url + "/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status",
                           json=body, headers={"Authorization": f"Bearer {FAKE_TOKEN}", "X-Upload-Content-Length": str(total)},
                           timeout=5)
    assert answer.status_code == 200, answer.text
    return answer.headers["Location"]


def test_emulator_contract(youtube, clips) -> None:
    r = youtube()
    data = clips["landscape"].read_bytes()
    total = len(data)
    auth = {"Authorization": f"Bearer {FAKE_TOKEN}"}
    bad = requests.post(r.emulator.base_url + "/upload/youtube/v3/videos?uploadType=resumable&part=snippet",
                        json={"snippet": {"title": "t" * 101}}, headers=auth, timeout=5)
    assert bad.status_code == 400 and bad.json()["error"]["errors"][0]["reason"] == "invalidTitle"
    location = _session(r, total)
    query = requests.put(location, headers={**auth, "Content-Range": f"bytes */{total}"}, timeout=5, allow_redirects=False)
    assert query.status_code == 308 and "Range" not in query.headers  # nothing arrived yet
    odd = requests.put(location, data=data[:1000], headers={**auth, "Content-Range": f"bytes 0-999/{total}"}, timeout=5)
    assert odd.status_code == 400 and odd.json()["error"]["errors"][0]["reason"] == "invalidChunkSize"
    first = requests.put(location, data=data[:256 * KiB], headers={**auth, "Content-Range": f"bytes 0-{256 * KiB - 1}/{total}"},
                         timeout=5, allow_redirects=False)
    assert first.status_code == 308 and first.headers["Range"] == f"bytes=0-{256 * KiB - 1}"
    gap = requests.put(location, data=data[300 * KiB:], headers={**auth, "Content-Range": f"bytes {300 * KiB}-{total - 1}/{total}"},
                       timeout=5)
    assert gap.status_code == 400 and "bytes */TOTAL" in gap.json()["error"]["message"]
    last = requests.put(location, data=data[256 * KiB:], headers={**auth, "Content-Range": f"bytes {256 * KiB}-{total - 1}/{total}"},
                        timeout=5)
    assert last.status_code == 200 and last.json()["status"]["uploadStatus"] == "uploaded"
    again = requests.put(location, headers={**auth, "Content-Range": f"bytes */{total}"}, timeout=5)
    assert again.status_code == 200 and again.json()["id"] == last.json()["id"]  # a complete session answers its video
    assert len(r.emulator.published) == 1 and r.emulator.published[0]["privacy"] == "private"  # unaudited: locked private
    listed = requests.get(r.emulator.base_url + "/youtube/v3/videos", params={"part": "status,processingDetails",
                                                                                 "id": last.json()["id"]}, headers=auth, timeout=5)
    assert listed.json()["items"][0]["processingDetails"]["processingStatus"] == "processing"
    unknown = requests.get(r.emulator.base_url + "/youtube/v3/videos", params={"part": "status", "id": "x"},
                           headers={"Authorization": "Bearer nope"}, timeout=5)
    error = unknown.json()["error"]
    assert unknown.status_code == 401 and error["code"] == 401 and error["errors"][0] == {
        "message": error["message"], "domain": "global", "reason": "authError"}


def test_emulator_quota_resets_at_midnight_pacific(youtube, clips) -> None:
    r = youtube(daily_quota=2000)
    _session(r, 10)
    assert r.emulator.quota_used() == 1600
    over = requests.post(r.emulator.base_url + "/upload/youtube/v3/videos?uploadType=resumable&part=snippet",
                         json={"snippet": {"title": "t"}}, headers={"Authorization": f"Bearer {FAKE_TOKEN}"}, timeout=5)
    assert over.status_code == 403
    assert over.json()["error"]["errors"][0]["reason"] == "quotaExceeded" and over.json()["error"]["errors"][0]["domain"] == "youtube.quota"
    r.clock.advance(dt.timedelta(hours=22, minutes=59))  # 23:59 in Los Angeles
    assert r.emulator.quota_used() == 1600
    r.clock.advance(dt.timedelta(minutes=2))
    assert r.emulator.quota_used() == 0
    _session(r, 10)


# ---- the calendar ------------------------------------------------------------------------------------------


def test_validate_refuses_a_photo_for_youtube(write_calendar) -> None:
    data = calendar_data()
    data["channels"].append({"id": "yt", "platform": "youtube", "account": "@belgium", "languages": ["en"],
                             "timezone": "Europe/Brussels", "slots": ["09:00"]})
    data["moments"][1]["channels"].append("yt")  # clips: fine
    write_calendar(data)  # loads: no error
    data["moments"][0]["channels"].append("yt")  # ana's photo
    with pytest.raises(CalendarError) as raised:
        write_calendar(data)
    assert any("YouTube takes no photo posts" in str(p) and "`yt`" in str(p) for p in raised.value.problems)


def test_approved_subtitles_reach_the_publisher_beside_the_clip(write_calendar, tmp_path: Path) -> None:
    """The render keeps each checked subtitle file beside the clip's variants; the daemon hands them
    to the publisher as caption tracks; a file that leaves the inbox (back to draft) leaves the build."""
    calendar = write_calendar(calendar_data()).calendar
    inbox, build = tmp_path / "in", tmp_path / "build"
    inbox.mkdir()
    srt = write_srt(inbox / "ben.en.srt", "Hello")
    caption_tracks(calendar, {"ben.en.srt": srt}, {"ben.en.srt"}, build)
    [(language, path)] = captions_of(build, "ben")
    assert language == "en" and path.read_text(encoding="utf-8") == srt.read_text(encoding="utf-8")
    caption_tracks(calendar, {}, {"ben.en.srt"}, build)  # approval withdrawn: the file left the inbox
    assert captions_of(build, "ben") == ()


# ---- the daemon ------------------------------------------------------------------------------------------------


def test_the_daemon_pauses_the_channel_until_midnight_pacific_then_publishes(youtube, clips, sqlite_store, tmp_path) -> None:
    """The dispatcher with the real publisher: a quota error holds the channel until YouTube resets
    the quota (midnight in Los Angeles, on the injected clock); then the video, its caption tracks
    and its other languages' titles and descriptions go out once, from the build folder and the store."""
    build = tmp_path / "build"
    (build / "ben" / "captions").mkdir(parents=True)
    (build / "ben" / "landscape_16x9.en.mp4").write_bytes(clips["landscape"].read_bytes())
    (build / "ben" / "captions" / "en.srt").write_bytes(clips["en"].read_bytes())
    at = scheduler_kit.START  # 2027-05-01 06:00 UTC: 23:00 the day before in Los Angeles (PDT)
    media = MediaRef("ben", "clip", "landscape_16x9", "en", "ben/landscape_16x9.en.mp4", "Ben Okafor speaks", 256, 144)
    post = dataclasses.replace(scheduler_kit.make_post("clip-day", "be-youtube", at, platform="youtube", caption=CAPTION),
                               account=ACCOUNTS["youtube"], media=media, localizations=LOCALIZED)
    sync_plan(sqlite_store, [post], at)
    r = youtube()
    r.clock.set(at)
    r.emulator.inject("quota_exhausted")
    dispatcher = Dispatcher(sqlite_store, r.clock, lambda _channel: r.publisher, worker="test:0:a",
                            config=DispatchConfig(build_dir=build))
    dispatcher.run_once()
    row = sqlite_store.get(post.id)
    midnight = dt.datetime(2027, 5, 1, 7, 0, tzinfo=dt.timezone.utc)
    assert row.state == states.RETRY_WAIT and row.next_attempt_at == midnight and "midnight Pacific" in row.last_error
    r.clock.set(midnight - dt.timedelta(seconds=1))
    assert dispatcher.run_once().published == [] and not r.emulator.published
    r.clock.set(midnight)
    for _ in range(3):  # processing: a later pass finishes it
        dispatcher.run_once()
        if sqlite_store.get(post.id).state == states.PUBLISHED:
            break
        r.clock.advance(60)
    row = sqlite_store.get(post.id)
    [video] = r.emulator.published
    assert row.state == states.PUBLISHED and row.remote_id == video["id"] and video["captions"] == ["en"]
    assert video["languages"] == ["en", "fr", "nl"]  # the store's localizations reach the wire


def test_refused_bytes_leave_no_session_and_nothing_in_doubt(youtube, clips, tmp_path: Path) -> None:
    r = youtube()
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00" * 1000)  # not an MP4: refused once every byte is in
    post = clip_post({**clips, "landscape": broken})
    ledger = StepLedger()
    with pytest.raises(PermanentError, match="HTTP 400"):
        r.publisher.publish(post, ledger)
    assert ledger.get("upload_session") is None and ledger.create_sent_at is None  # nothing to resume, no post in doubt
    assert not r.emulator.published
