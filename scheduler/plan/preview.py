"""The plan as one static, self-contained HTML page: a calendar grid by ISO week, each post as
a card that looks like its platform, with a thumbnail of the rendered asset when it exists.

Everything is inlined (CSS, base64 JPEG thumbnails), so the page can be mailed to the
Chancellery or opened from a shared drive without a server.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, StrictUndefined, select_autoescape
from PIL import Image, UnidentifiedImageError

from assets.branding import stat_hash
from assets.photo import write_atomic
from assets.specs import SAFE_ZONES, VARIANT_PLACEMENTS
from campaign.calendar.models import Calendar, Channel
from campaign.languages import RIGHT_TO_LEFT, language_name
from campaign.platforms import PLATFORMS as PLATFORM_SPECS
from scheduler.platforms.bluesky.text import bluesky_display_link
from scheduler.platforms.text import find_urls
from campaign.secrets import scrub
from scheduler.plan.planner import Plan
from campaign.post import PlanIssue, PlannedPost
from scheduler.plan.template_errors import reported_as
from scheduler.plan.template_limits import BoundedSandbox, ConfinedLoader, render_bounded

PREVIEW_TEMPLATE = "preview.html.j2"
DEFAULT_TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
THUMB_SIZE = (640, 640)  # cards are up to ~400 CSS px wide, on phones at 2-3 device px each
PREVIEW_SECONDS = 60.0  # a year of posts renders in well under a second
PREVIEW_MAX_OUTPUT = 200_000_000  # characters; thumbnails and fonts are inlined

#: How each platform's posts look on a card (its row in campaign/platforms.py: colour, mark, name,
#: @handle), and what a platform without a row shows.
PLATFORM_LOOK = {name: {"name": spec.card_name or spec.label, "colour": spec.colour, "mark": spec.mark, "at": spec.at_handle}
                 for name, spec in PLATFORM_SPECS.items()}
_NO_LOOK = {"colour": "#444", "mark": "•", "at": False}

# How a feed crops a post's media before anyone taps it: (platform, variant) -> shown aspect
# (width / height), from each platform's `feed_crops` (Instagram and Facebook show a 9:16 Reel as
# 4:5 in the feed; X crops an image in the timeline to 16:9).
FEED_CROPS: dict[tuple[str, str], float] = {(name, variant): aspect for name, spec in PLATFORM_SPECS.items()
                                            for variant, aspect in spec.feed_crops}


def feed_crop(platform: str, variant: str) -> float | None:
    """The aspect the platform's feed shows the variant at, when it crops it (None: shown whole)."""
    return FEED_CROPS.get((platform, variant))


def account_label(channel: Channel | None, account: str) -> str:
    """What a reader sees as the account: the channel's `name`, else the account unless it is a raw id."""
    if channel is not None and channel.name:
        return channel.name
    if re.fullmatch(r"\d{6,}|urn:[\w:.-]+", account) and channel is not None:
        return channel.id  # a numeric id or a URN means nothing to a reader; the channel id at least does
    return account


@dataclass
class Card:
    post: PlannedPost
    look: dict[str, str]
    thumbnail: str | None  # data: URI
    rendered: bool
    rtl: bool
    local_label: str
    utc_label: str
    language_name: str
    segments: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, text, href)
    account_label: str = ""
    crop: float | None = None  # the feed's aspect, when it crops the media
    zones: list[dict[str, float]] = field(default_factory=list)  # safe zones, % of the full frame
    #: On the preview page each image is inlined once: a CSS class whose rule holds it (`image_css`,
    #: given with the first card that shows it); the card shows the class, not the data again.
    image_class: str | None = None
    image_css: str | None = None

    @property
    def frame(self) -> str:
        media = self.post.media
        return f"{media.width} / {media.height}" if media else "1 / 1"

    @property
    def shown(self) -> str:
        """CSS aspect-ratio of the media as the feed shows it."""
        return f"{self.crop:.4f}" if self.crop else self.frame


@dataclass
class Day:
    date: dt.date
    cards: list[Card] = field(default_factory=list)

    @property
    def weekend(self) -> bool:
        return self.date.weekday() >= 5


@dataclass
class Week:
    year: int
    number: int
    days: list[Day]

    @property
    def label(self) -> str:
        first, last = self.days[0].date, self.days[-1].date
        return f"{first:%-d %b} – {last:%-d %b %Y}"

    @property
    def count(self) -> int:
        return sum(len(d.cards) for d in self.days)

    @property
    def busy_days(self) -> list[Day]:
        """Days with posts, as a list (a phone shows one under the other; empty days take no room)."""
        return [d for d in self.days if d.cards]

    @property
    def quiet(self) -> str:
        """The days without posts, e.g. "Tue, Thu, Sun"."""
        return ", ".join(f"{d.date:%a}" for d in self.days if not d.cards)


_TAG = re.compile(r"(?:(?<=[\s\u2066\u2067\u2068\u200e\u200f])|^)#\w+")


def caption_segments(caption: str) -> list[tuple[str, str, str]]:
    """The caption as text, link and hashtag pieces, links shown short as the platforms do."""
    segments: list[tuple[str, str, str]] = []
    position = 0
    for start, end, url in find_urls(caption):
        segments.extend(_tags(caption[position:start]))
        segments.append(("link", bluesky_display_link(url), url))
        position = end
    segments.extend(_tags(caption[position:]))
    return segments


def _tags(text: str) -> list[tuple[str, str, str]]:
    pieces: list[tuple[str, str, str]] = []
    position = 0
    for match in _TAG.finditer(text):
        if match.start() > position:
            pieces.append(("text", text[position:match.start()], ""))
        pieces.append(("tag", match.group(0), ""))
        position = match.end()
    if position < len(text):
        pieces.append(("text", text[position:], ""))
    return pieces


def embedded_fonts(calendar: Calendar, root: Path, text: str, cache: Path | None = None) -> list[dict[str, str]]:
    """@font-face sources for the brand fonts, cut down to the characters on the page.

    The page must show Japanese and Arabic right on any machine (the test browser has no CJK
    font), but the JP font is 14 MB: a subset of the few hundred glyphs used is a few KB.
    Cutting it takes seconds (fontTools is pure Python): each subset is kept in `cache`, keyed
    by the font file's hash and the characters, so the next preview of the same text reuses it.
    """
    fonts = calendar.brand.fonts
    regular = DEFAULT_TEMPLATES.parent / "assets" / "brand" / "fonts" / "NotoSans-Regular.ttf"
    wanted = [("Brand Sans", "400", str(regular)), ("Brand Sans", "700", fonts.latin)]
    if fonts.arabic:
        wanted.append(("Brand Arabic", "400", fonts.arabic))
    if fonts.japanese:
        wanted.append(("Brand JP", "400", fonts.japanese))
    characters = {ord(c) for c in set(text) if not c.isspace()} | {0x20}  # set() first: 1.5 s less on 5,000 posts
    faces = []
    for family, weight, relative in wanted:
        path = root / relative
        if not path.is_file():
            continue
        try:
            data = _font_subset(path, characters, all_features=family == "Brand Arabic", cache=cache)
        except Exception:  # a broken font must not stop the preview: the browser falls back
            continue
        if data is None:
            continue
        kind = "opentype" if path.suffix.lower() == ".otf" else "truetype"
        data = base64.b64encode(data).decode("ascii")
        faces.append({"family": family, "weight": weight, "src": f"data:font/{path.suffix[1:]};base64,{data}", "format": kind})
    return faces


FONT_CACHE = ".cache/fonts"  # in the build folder: brand font subsets cut for earlier previews
FONT_SUBSET_VERSION = "1"  # part of the cache key: bump when the subsetting options change


def _font_subset(path: Path, characters: set[int], *, all_features: bool, cache: Path | None) -> bytes | None:
    """The font cut down to `characters` (None when it has none of them), from `cache` when cut before."""
    # fontTools costs 0.1-0.25 s of start-up (measured): imported only when font files are read
    from fontTools import subset
    from fontTools.ttLib import TTFont

    key = hashlib.sha256(json.dumps([FONT_SUBSET_VERSION, stat_hash(path), sorted(characters), all_features]).encode()).hexdigest()
    cached = cache / f"{key[:32]}{path.suffix}" if cache is not None else None
    if cached is not None and cached.is_file():
        return cached.read_bytes()
    font = TTFont(str(path), recalcBBoxes=False, recalcTimestamp=False)  # lazy: only the tables the subset needs
    used = characters & set(font.getBestCmap() or {})
    if len(used) <= 1:
        return None
    options = subset.Options()
    if all_features:
        options.layout_features = ["*"]  # Arabic joins and ligatures need their features
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=used)
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    data = buffer.getvalue()
    if cached is not None:
        try:
            write_atomic(cached, data)
        except OSError:
            pass  # a read-only build folder: the next preview cuts it again
    return data


THUMB_CACHE = ".cache/thumbs"  # in the build folder: thumbnails made for earlier previews, by file content
THUMB_VERSION = "2"  # part of the cache key: bump when the thumbnail's size, frame or quality change
THUMB_THREADS = 2  # ffmpeg and Pillow run outside the GIL: a clip's frame is cut while a photo shrinks


def thumbnail_data_uri(path: Path, kind: str, size: tuple[int, int] = THUMB_SIZE, cache: Path | None = None) -> str | None:
    """A small base64 JPEG of a rendered photo, or of a frame of a rendered clip (None if unreadable).

    With `cache` (a folder), the JPEG is kept there under the file's content hash: the next preview
    of the same build reads it instead of running ffmpeg again (0.3-0.7 s per clip).
    """
    cached = None
    if cache is not None:
        try:
            key = hashlib.sha256(json.dumps([THUMB_VERSION, stat_hash(path), kind, list(size)]).encode()).hexdigest()
        except OSError:
            return None
        cached = cache / f"{key[:32]}.jpg"
        if cached.is_file():
            return "data:image/jpeg;base64," + base64.b64encode(cached.read_bytes()).decode("ascii")
    try:
        if kind == "clip":
            image = Image.open(io.BytesIO(_clip_frame(path, size)))
        else:
            image = Image.open(path)
        image = image.convert("RGB")
        image.thumbnail(size)
    except (OSError, UnidentifiedImageError, subprocess.SubprocessError, ValueError):
        return None
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=72, optimize=True)
    if cached is not None:
        try:
            write_atomic(cached, buffer.getvalue())
        except OSError:
            pass  # a read-only build folder: the next preview makes it again
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def thumbnails(files: dict[Path, str], cache: Path | None = None, *,
               meanwhile: Callable[[], Any] | None = None) -> tuple[dict[Path, str | None], Any]:
    """`thumbnail_data_uri` of each file (path -> kind), THUMB_THREADS at a time, and what
    `meanwhile` returns: run on this thread while the thumbnails are made (ffmpeg and Pillow
    leave the interpreter free, so pure-Python work such as cutting fonts overlaps them)."""
    if not files:
        return {}, meanwhile() if meanwhile is not None else None
    with ThreadPoolExecutor(min(THUMB_THREADS, len(files)), thread_name_prefix="thumbs") as pool:
        made = {path: pool.submit(thumbnail_data_uri, path, kind, cache=cache) for path, kind in files.items()}
        other = meanwhile() if meanwhile is not None else None
        return {path: future.result() for path, future in made.items()}, other


def _clip_frame(path: Path, size: tuple[int, int] = THUMB_SIZE) -> bytes:
    """One frame from about a second into the clip (past fades), via the bundled ffmpeg, already
    shrunk to fit `size` (a BMP: no compression to spend time on; the caller makes the JPEG)."""
    # imageio_ffmpeg costs 0.1 s of start-up (measured): imported only when ffmpeg is run
    import imageio_ffmpeg

    fit = f"scale=w='min(iw,{size[0]})':h='min(ih,{size[1]})':force_original_aspect_ratio=decrease:flags=bicubic"
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-threads", "1", "-ss", "1", "-i", str(path),
               "-frames:v", "1", "-vf", fit, "-f", "image2pipe", "-vcodec", "bmp", "-"]
    result = subprocess.run(command, capture_output=True, timeout=60, check=False)
    if result.returncode != 0 or not result.stdout:
        # shorter than a second: take the first frame
        command[command.index("-ss") + 1] = "0"
        result = subprocess.run(command, capture_output=True, timeout=60, check=True)
    return result.stdout


def safe_zone_boxes(variant: str) -> list[dict[str, str | float]]:
    """The zones each full-screen placement of the variant covers (assets.specs.SAFE_ZONES),
    as CSS boxes in % of the full frame."""
    boxes: list[dict[str, str | float]] = []
    for placement in VARIANT_PLACEMENTS.get(variant, ()):
        zone = SAFE_ZONES[placement]
        for side, share, left, top, width, height in (
            ("top", zone.top, 0, 0, 100, zone.top * 100),
            ("bottom", zone.bottom, 0, 100 - zone.bottom * 100, 100, zone.bottom * 100),
            ("left", zone.left, 0, 0, zone.left * 100, 100),
            ("right", zone.right, 100 - zone.right * 100, 0, zone.right * 100, 100),
        ):
            if share:
                boxes.append({"placement": placement, "side": side, "left": round(left, 2), "top": round(top, 2),
                              "width": round(width, 2), "height": round(height, 2)})
    return boxes


def make_card(post: PlannedPost, *, thumbnail: str | None, rendered: bool, channel: Any = None) -> Card:
    """One post as the card template shows it (`thumbnail`: a data: URI or a URL); the preview and
    the console both build their cards here."""
    local = post.local_time
    variant = post.media.variant if post.media else ""
    return Card(
        post=post,
        look=PLATFORM_LOOK.get(post.platform, {"name": post.platform, **_NO_LOOK}),
        thumbnail=thumbnail,
        rendered=rendered,
        rtl=post.language in RIGHT_TO_LEFT,
        local_label=f"{local:%a %-d %b %H:%M} {local.tzname()} · {local.tzinfo}",
        utc_label=f"{post.scheduled_at.astimezone(dt.timezone.utc):%a %-d %b %H:%M} UTC",
        language_name=language_name(post.language),
        segments=caption_segments(post.caption),
        account_label=account_label(channel, post.account),
        crop=feed_crop(post.platform, variant),
        zones=safe_zone_boxes(variant),
    )


def rendered_flags(plan: Plan) -> list[bool]:
    """`plan.is_rendered` of each post, each file looked at once (thousands of posts share a few dozen files)."""
    seen: dict[str, bool] = {}
    flags = []
    for post in plan.posts:
        media = post.media.path if post.media else ""
        if media not in seen:
            seen[media] = plan.is_rendered(post)
        flags.append(seen[media])
    return flags


def build_weeks(plan: Plan, calendar: Calendar, *, meanwhile: Callable[[], Any] | None = None) -> tuple[list[Week], Any]:
    """Posts grouped by ISO week and day of the campaign's time zone (weeks without posts left out),
    and what `meanwhile` returns (run while the thumbnails are made: see `thumbnails`)."""
    zone = ZoneInfo(calendar.campaign.timezone)
    channels = {c.id: c for c in calendar.channels}
    thumbs: dict[Path, str | None] = {}  # file -> its CSS class (None: unreadable)
    by_day: dict[dt.date, list[Card]] = {}
    # Each file's thumbnail once, made up front (cached in the build folder, two at a time)
    flags = rendered_flags(plan)
    uris, other = thumbnails({plan.build_dir / post.media.path: post.media.kind for post, rendered in zip(plan.posts, flags)
                              if post.media and rendered}, cache=plan.build_dir / THUMB_CACHE, meanwhile=meanwhile)
    for post, rendered in zip(plan.posts, flags):  # a rule styles every element of the page, wherever it stands
        card = make_card(post, thumbnail=None, rendered=rendered, channel=channels.get(post.channel_id))
        if rendered and post.media:
            path = plan.build_dir / post.media.path
            if path not in thumbs:
                uri = uris[path]
                thumbs[path] = f"i{len(thumbs)}" if uri else None
                if uri:
                    card.image_css = f".media .{thumbs[path]} {{ background-image: url({uri}); }}"
            card.image_class = thumbs[path]
        by_day.setdefault(post.scheduled_at.astimezone(zone).date(), []).append(card)
    weeks: dict[tuple[int, int], Week] = {}
    for day in sorted(by_day):
        year, number, weekday = day.isocalendar()
        if (year, number) not in weeks:
            monday = day - dt.timedelta(days=weekday - 1)
            weeks[(year, number)] = Week(year, number, [Day(monday + dt.timedelta(days=i)) for i in range(7)])
        weeks[(year, number)].days[weekday - 1].cards.extend(by_day[day])
    return [weeks[key] for key in sorted(weeks)], other


def render_preview(plan: Plan, calendar: Calendar, *, templates_dir: Path | None = None, root: Path | None = None,
                   generated: dt.datetime | None = None, source: str = "calendar.yaml",
                   subtitles: list[str] | None = None) -> str:
    """The HTML page. `templates_dir` holds preview.html.j2 (the calendar's, else the tool's);
    raises `TemplateError` (`file:LINE:`) when that template is broken or breaks the sandbox."""
    folders = [str(p) for p in (templates_dir, DEFAULT_TEMPLATES) if p is not None and (p / PREVIEW_TEMPLATE).is_file()]
    # A calendar folder's preview.html.j2 is someone else's code: sandboxed and bounded like captions.
    # The tool's own is not (a sandbox checks every attribute read: seconds on a page of thousands of cards).
    own = _own_templates(templates_dir)
    env = (Environment if own else BoundedSandbox)(
        loader=ConfinedLoader(folders), autoescape=select_autoescape(["html", "j2"], default=True),
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    source_file = next(Path(folder) / PREVIEW_TEMPLATE for folder in folders)
    shown = str(source_file if templates_dir is None or not str(source_file).startswith(str(templates_dir))
                else Path(templates_dir.name) / PREVIEW_TEMPLATE)
    platforms = sorted({p.platform for p in plan.posts})
    page_text = "".join(p.caption + p.account + p.channel_id + p.moment_id + "".join(p.warnings) for p in plan.posts)
    page_text += "".join(i.message for i in plan.issues) + calendar.campaign.name + "".join(calendar.campaign.baseline.values())
    page_text += "0123456789:·–—…/()@✓✋ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.,'\"“”"

    def cut_fonts() -> list[dict[str, str]]:
        return embedded_fonts(calendar, root, page_text, cache=plan.build_dir / FONT_CACHE) if root is not None else []

    # The fonts are cut (pure Python, seconds when not cached) while the thumbnails are made (ffmpeg, Pillow)
    weeks, fonts = build_weeks(plan, calendar, meanwhile=cut_fonts)
    variables = dict(
        fonts=fonts,
        campaign=calendar.campaign,
        weeks=weeks,
        posts=plan.posts,
        issues=plan.issues,
        errors=[i for i in plan.issues if i.severity == "error"],
        looks={p: PLATFORM_LOOK.get(p, {"name": p, **_NO_LOOK}) for p in platforms},
        channels=sorted({p.channel_id for p in plan.posts}),
        languages=sorted({p.language for p in plan.posts}),
        rendered=sum(rendered_flags(plan)),
        with_warnings=sum(1 for p in plan.posts if p.warnings),
        generated=generated,
        source=source,
        subtitles=subtitles or [],  # per clip and language: approved / draft / missing (scheduler.plan.subtitle_view)
    )
    with reported_as(shown, str(source_file), variables=tuple(variables), folder=folders[0]):
        template = env.get_template(PREVIEW_TEMPLATE)
        if own:  # the tool's own page: no line-by-line watch either
            page = template.render(variables)
        else:
            page = render_bounded(template, variables, seconds=PREVIEW_SECONDS, max_output=PREVIEW_MAX_OUTPUT)
    return scrub(page, shapes=False)  # a page is mailed around: no configured secret ever reaches it


def _own_templates(templates_dir: Path | None) -> bool:
    """True when the page would be drawn by the tool's own templates (a calendar folder may hold the
    same files, copied): the time and size bounds watch every line of a template written elsewhere,
    which costs milliseconds per card on a page of thousands."""
    if templates_dir is None:
        return True
    for own in DEFAULT_TEMPLATES.iterdir():
        theirs = templates_dir / own.name
        if own.is_file() and theirs.is_file() and theirs.resolve() != own.resolve() and theirs.read_bytes() != own.read_bytes():
            return False
    return True


def issue_label(issue: PlanIssue) -> str:
    where = " · ".join(x for x in (issue.moment_id, issue.channel_id, issue.language) if x)
    return f"{where}: {issue.message}"
