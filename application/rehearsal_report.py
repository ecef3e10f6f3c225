"""What a rehearsal produced, per channel and language, checked against what the platforms received.

Pure functions: the posts come from the store, the received records from the emulators
and the outbox; the report says where each post went, what was late, held or failed and
why, and lists every disagreement between the store and the platforms (there should be none).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from application.rehearsal import Received, RehearsalResult, links_seen
from campaign.calendar.models import Calendar
from scheduler.platforms.registry import platform_of
from scheduler.store import StoredPost, states

LATE_AFTER = dt.timedelta(minutes=5)  # published this long after its slot counts as late
HELD = (states.PLANNED, states.UNKNOWN, states.HELD)  # waiting for a person: approval, "unknown, check", a plan error


@dataclass
class ChannelLine:
    channel: str
    platform: str
    account: str
    language: str
    timezone: str
    planned: int = 0
    published: int = 0
    late: int = 0
    held: int = 0  # in HELD
    failed: int = 0  # anything else that did not go out: failed, missed, cancelled
    example_url: str | None = None


@dataclass
class PostLine:
    id: str
    channel: str
    language: str
    state: str
    local_time: str  # the slot, in the channel's time zone
    published_local: str | None
    late_minutes: float | None
    asset: str | None
    url: str | None
    why: str | None


@dataclass
class RehearsalReport:
    lines: list[ChannelLine]
    posts: list[PostLine]
    mismatches: list[str]
    campaign_from: str
    campaign_to: str
    real_seconds: float
    approved: int
    leaps: int
    paths: dict[str, str] = field(default_factory=dict)
    emulators: dict[str, str] = field(default_factory=dict)  # platform -> emulator base URL during the run
    #: Posts the plan could not make at all (no slot, no usable testimonial): they never reached the store.
    unplanned: list[str] = field(default_factory=list)

    @property
    def late(self) -> list[PostLine]:
        return [p for p in self.posts if p.late_minutes is not None and p.late_minutes > LATE_AFTER.total_seconds() / 60]

    @property
    def held(self) -> list[PostLine]:
        return [p for p in self.posts if p.state in HELD]

    @property
    def failed(self) -> list[PostLine]:
        return [p for p in self.posts if p.state not in HELD + (states.PUBLISHED,)]

    @property
    def ok(self) -> bool:
        return not self.mismatches and not self.unplanned and all(p.state == states.PUBLISHED for p in self.posts)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, **asdict(self), "late": [asdict(p) for p in self.late]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    def to_markdown(self) -> str:
        out = ["# Rehearsal report\n",
               f"Campaign time {self.campaign_from} → {self.campaign_to}, rehearsed in {self.real_seconds:.0f} s "
               f"({self.leaps} quiet stretches skipped). Store and platforms agree: "
               f"{'yes' if not self.mismatches else 'NO — see below'}.\n",
               "| channel | platform | account | language | planned | published | late | held | failed |",
               "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"]
        for line in self.lines:
            out.append(f"| {line.channel} | {line.platform} | {line.account} | {line.language} | {line.planned} | "
                       f"{line.published} | {line.late} | {line.held} | {line.failed} |")
        out += ["", "## Every post", "", "| post | state | slot (local) | published (local) | asset | where it went |",
                "| --- | --- | --- | --- | --- | --- |"]
        for post in self.posts:
            where = post.url or (post.why or "")
            out.append(f"| {post.id} | {post.state} | {post.local_time} | {post.published_local or ''} | "
                       f"{post.asset or 'text only'} | {where} |")
        for title, items in (("Late", self.late), ("Held", self.held), ("Failed or missed", self.failed)):
            if items:
                out += ["", f"## {title}", ""] + [f"- {p.id}: {p.why or p.state}" for p in items]
        if self.unplanned:
            out += ["", "## Could not be planned", ""] + [f"- {m}" for m in self.unplanned]
        if self.mismatches:
            out += ["", "## Store and platforms disagree", ""] + [f"- {m}" for m in self.mismatches]
        if self.emulators:
            out += ["", "## Emulators (during the rehearsal)", ""] + [f"- {k}: {v}" for k, v in sorted(self.emulators.items())]
        if self.paths:
            out += ["", "## Files", ""] + [f"- {name}: {path}" for name, path in self.paths.items()]
        return "\n".join(out) + "\n"


def build_report(result: RehearsalResult, calendar: Calendar, paths: dict[str, str] | None = None,
                 build_dir: Path | None = None) -> RehearsalReport:
    lines: dict[tuple[str, str], ChannelLine] = {}
    post_lines: list[PostLine] = []
    for post in sorted(result.posts, key=lambda p: (p.scheduled_at, p.id)):
        channel = calendar.channel(post.channel_id)
        zone = ZoneInfo(channel.timezone)
        line = lines.setdefault((post.channel_id, post.language), ChannelLine(
            post.channel_id, post.platform, post.account, post.language, channel.timezone))
        line.planned += 1
        late = None
        if post.state == states.PUBLISHED and post.published_at is not None:
            line.published += 1
            line.example_url = line.example_url or post.remote_url
            late = max(0.0, (post.published_at - post.scheduled_at).total_seconds() / 60)
            if late > LATE_AFTER.total_seconds() / 60:
                line.late += 1
        elif post.state in HELD:
            line.held += 1
        else:
            line.failed += 1
        post_lines.append(PostLine(
            id=post.id, channel=post.channel_id, language=post.language, state=post.state,
            local_time=_local(post.scheduled_at, zone), published_local=_local(post.published_at, zone),
            late_minutes=None if late is None else round(late, 1),
            asset=post.media.path if post.media else None, url=post.remote_url,
            why=None if post.state == states.PUBLISHED else (post.state_reason or post.last_error or _why(post.state))))
    return RehearsalReport(
        lines=[lines[k] for k in sorted(lines)], posts=post_lines, mismatches=compare(result.posts, result.received, build_dir),
        campaign_from=_local(result.started, ZoneInfo(calendar.campaign.timezone)) or "",
        campaign_to=_local(result.finished, ZoneInfo(calendar.campaign.timezone)) or "",
        real_seconds=result.real_seconds, approved=result.approved, leaps=len(result.leaps), paths=dict(paths or {}),
        emulators=dict(result.emulator_urls))


def compare(posts: list[StoredPost], received: list[Received], build_dir: Path | None = None) -> list[str]:
    """Every published post arrived exactly once, on its own account, as a reader would see
    the planned post: its full text, every link leading where the plan says (on Bluesky the
    link facets: the bytes they cover and their targets), its language, its alt text, and its
    rendered file (same bytes, dimensions and aspect ratio); nothing arrived that the store
    does not know as published."""
    problems: list[str] = []
    by_key: dict[tuple[str, str], list[Received]] = defaultdict(list)
    for item in received:
        by_key[(item.channel_id, item.remote_id)].append(item)
    expected: set[tuple[str, str]] = set()
    for post in posts:
        if post.state != states.PUBLISHED:
            continue
        key = (post.channel_id, post.remote_id or "")
        expected.add(key)
        got = by_key.get(key, [])
        if len(got) != 1:
            problems.append(f"{post.id}: the store says published as {post.remote_id}, "
                            f"{post.platform} received it {len(got)} times")
            continue
        item = got[0]
        if item.account != post.account:
            problems.append(f"{post.id}: went to account {item.account}, not {post.account}")
        if item.text != post.caption:
            problems.append(f"{post.id}: {post.platform} shows different text than the store planned")
        problems += _reader_problems(post, item)
        if len(item.media) != (1 if post.media else 0):
            problems.append(f"{post.id}: {post.platform} received {len(item.media)} media files, "
                            f"expected {1 if post.media else 0}")
        elif post.media:
            problems += _media_problems(post, item.media[0], build_dir)
    for key, items in by_key.items():
        if key not in expected:
            problems.append(f"{items[0].platform} account {items[0].account} received {items[0].remote_id} "
                            f"{len(items)} time(s), but no post is recorded as published with that id")
    return problems


def _reader_problems(post: StoredPost, item: Received) -> list[str]:
    """Language, alt text and links of one received post against its plan."""
    problems = []
    where = f"{post.id}: {post.platform}"
    if item.language is not None and item.language != post.language:
        problems.append(f"{where} was told the post is in {item.language!r}, the plan says {post.language!r}")
    if post.media is not None and item.alt_texts is not None:
        expected_alt = [post.media.alt_text] if post.media.alt_text else []
        if item.alt_texts != expected_alt and (item.alt_texts or post.media.kind == "photo"
                                                or platform_of(post.platform).publisher.sends_clip_alt_text):
            problems.append(f"{where} shows alt text {item.alt_texts!r}, the plan says {expected_alt!r}")
    for shown, target in item.links:
        if not _leads_where_it_says(shown, target):
            problems.append(f"{where} shows the link text {shown!r} leading to {target!r}")
    planned = {post.link} if post.link and _host(post.link) in post.caption else set()
    planned |= {target for target in _urls_in(post.caption)}
    followed = {target for _, target in item.links}
    for target in sorted(planned - followed):
        problems.append(f"{where} shows no link to {target} (a reader sees the text but cannot follow it)")
    for target in sorted(followed - planned):
        problems.append(f"{where} links to {target}, which the plan does not")
    return problems


def _host(url: str) -> str:
    host = urlsplit(url).hostname or url
    return host.removeprefix("www.")


def _urls_in(text: str) -> list[str]:
    return [target for _, target in links_seen(text, None)]


def _leads_where_it_says(shown: str, target: str) -> bool:
    """The visible text is the target, or its start without the scheme and "www." (ending in "…")."""
    if shown == target:
        return True
    bare = target.split("://", 1)[-1].removeprefix("www.")
    stem = shown.removesuffix("…").removesuffix("...")
    return bool(stem) and bare.startswith(stem)


def _media_problems(post: StoredPost, media: dict[str, Any], build_dir: Path | None) -> list[str]:
    assert post.media is not None
    problems = []
    size = (media.get("width"), media.get("height"))
    if None not in size and size != (post.media.width, post.media.height):
        problems.append(f"{post.id}: {post.platform} received a {size[0]}x{size[1]} file, "
                        f"the plan says {post.media.path} ({post.media.width}x{post.media.height})")
    ratio = media.get("aspect_ratio")
    if isinstance(ratio, dict) and ratio.get("width") and ratio.get("height"):
        if abs(ratio["width"] / ratio["height"] - post.media.width / post.media.height) > 0.01:
            problems.append(f"{post.id}: {post.platform} shows it at {ratio['width']}:{ratio['height']}, "
                            f"the file is {post.media.width}x{post.media.height}")
    elif platform_of(post.platform).publisher.sends_aspect_ratio:
        problems.append(f"{post.id}: {post.platform} received no aspect ratio (feeds would crop or letterbox it)")
    rendered = build_dir / post.media.path if build_dir is not None else None
    if rendered is not None and rendered.is_file():
        if media.get("bytes") is not None and rendered.stat().st_size != media["bytes"]:
            problems.append(f"{post.id}: {post.platform} received {media['bytes']} bytes, "
                            f"{post.media.path} has {rendered.stat().st_size}")
        elif media.get("sha256") and media["sha256"] != hashlib.sha256(rendered.read_bytes()).hexdigest():
            problems.append(f"{post.id}: {post.platform} received other bytes than {post.media.path}")
    return problems


def _local(moment: dt.datetime | None, zone: ZoneInfo) -> str | None:
    return None if moment is None else moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _why(state: str) -> str:
    return {states.PLANNED: "waiting for approval (python run.py approve)",
            states.UNKNOWN: "unknown, check the platform"}.get(state, state)
