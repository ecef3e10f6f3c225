"""What the campaign knows of each platform, in one table low enough for everyone to read: the
variants to render and the media limits to check outputs against, the caption limit, whether it
can post text alone or fetches media by URL, and which API versions it still serves.

The calendar's validation, the asset pipeline and the planner read it; what the tool *does* with a
platform (publishing, figures, text rules, credentials) lives in `scheduler/platforms/<name>/`,
listed in `scheduler/platforms/registry.py`. Media figures from ../shared/media-specs.md (tags
there say how sure each is): when a platform changes its rules, its row here is the one place.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

from campaign.api_versions import graph_version_problem, linkedin_version_problem

MB = 1024 * 1024


@dataclass(frozen=True)
class Variant:
    """An output frame every platform that uses it accepts. Dimensions are even (yuv420p)."""

    name: str
    width: int
    height: int
    label: str

    @property
    def aspect(self) -> float:
        return self.width / self.height


VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant("feed_4x5", 1080, 1350, "Instagram feed 4:5"),
        Variant("story_9x16", 1080, 1920, "Story / Reel 9:16"),
        Variant("square_1x1", 1080, 1080, "Square 1:1"),
        Variant("landscape_16x9", 1280, 720, "Landscape 16:9 (X, Facebook, Mastodon)"),
        Variant("linkedin_191", 1200, 628, "LinkedIn 1.91:1"),
    )
}


@dataclass(frozen=True)
class PlatformSpec:
    """What a platform accepts. `None` means no limit we know of."""

    label: str  # how people name it ("LinkedIn")
    photo_variant: str
    clip_variant: str
    image_formats: tuple[str, ...]
    image_max_bytes: int
    image_max_pixels: int | None
    image_aspect: tuple[float, float] | None  # (min, max) width/height
    video_max_bytes: int
    video_min_seconds: float
    video_max_seconds: float
    video_max_fps: float
    video_min_fps: float
    video_max_width: int | None
    video_max_height: int | None
    video_aspect: tuple[float, float] | None
    audio_max_rate: int
    text_limit: int
    max_hashtags: int | None = None
    alt_text_limit: int | None = None
    max_images: int = 4
    #: Video codecs it accepts (None: any it can decode).
    video_codecs: tuple[str, ...] | None = None
    #: False when the platform refuses a post without media (Instagram).
    text_only: bool = True
    #: False when the platform takes no photo posts (YouTube: videos only); validate refuses a photo there.
    photos: bool = True
    #: True when the platform fetches media from a public URL (`api.media_base_url`) instead of an upload.
    media_by_url: bool = False
    #: ("error" | "warning", message) for a configured `api.version` the platform no longer serves.
    version_problem: Callable[[str, dt.date], tuple[str, str] | None] | None = None
    #: How the preview and the console show its posts: its colour (told apart from the others',
    #: tests/scheduler/plan/test_plan_preview_phone.py), a one-glyph mark, its name on a card.
    colour: str = "#444444"
    mark: str = "•"
    card_name: str | None = None  # else `label`
    #: True when its app shows the account as @handle.
    at_handle: bool = False
    #: How its feed crops a variant before anyone taps it: (variant, shown aspect width/height).
    feed_crops: tuple[tuple[str, float], ...] = ()
    #: True when one post carries every language of its channel (YouTube: one video, a title and a
    #: description per language in `localizations`): the planner makes one post per moment and
    #: channel, in the channel's first language, with the other languages' captions beside it.
    languages_in_one_post: bool = False


PLATFORMS: dict[str, PlatformSpec] = {
    "instagram": PlatformSpec(
        label="Instagram", photo_variant="feed_4x5", clip_variant="story_9x16",
        image_formats=("jpeg",), image_max_bytes=8 * MB, image_max_pixels=None, image_aspect=(0.8, 1.91),
        video_max_bytes=300 * MB, video_min_seconds=3, video_max_seconds=15 * 60, video_max_fps=60, video_min_fps=23,
        video_max_width=1920, video_max_height=None, video_aspect=None, audio_max_rate=48000,
        text_limit=2200, max_hashtags=30, alt_text_limit=1000, max_images=10,
        text_only=False, media_by_url=True, version_problem=graph_version_problem, video_codecs=("h264",),
        colour="#D62976", mark="◎", at_handle=True, feed_crops=(("story_9x16", 4 / 5),),
    ),
    "facebook": PlatformSpec(
        label="Facebook", photo_variant="landscape_16x9", clip_variant="landscape_16x9",
        image_formats=("jpeg", "png"), image_max_bytes=10 * MB, image_max_pixels=None, image_aspect=None,
        video_max_bytes=10 * 1024 * MB, video_min_seconds=1, video_max_seconds=4 * 3600, video_max_fps=60, video_min_fps=1,
        video_max_width=None, video_max_height=None, video_aspect=None, audio_max_rate=48000,
        text_limit=63206, alt_text_limit=1000, max_images=10, version_problem=graph_version_problem,
        colour="#1877F2", mark="f", feed_crops=(("story_9x16", 4 / 5),),
    ),
    "x": PlatformSpec(
        label="X", photo_variant="landscape_16x9", clip_variant="landscape_16x9",
        image_formats=("jpeg", "png", "webp"), image_max_bytes=5 * MB, image_max_pixels=None, image_aspect=None,
        # Conservative side of conflicting sources: 140 s and 1280x1024 for standard accounts.
        video_max_bytes=512 * MB, video_min_seconds=0.5, video_max_seconds=140, video_max_fps=60, video_min_fps=1,
        video_max_width=1280, video_max_height=1024, video_aspect=(1 / 3, 3.0), audio_max_rate=48000,
        text_limit=280, alt_text_limit=1000, video_codecs=("h264",),
        colour="#0F1419", mark="𝕏", at_handle=True, feed_crops=(("feed_4x5", 16 / 9), ("square_1x1", 16 / 9), ("story_9x16", 16 / 9)),
    ),
    "linkedin": PlatformSpec(
        label="LinkedIn", photo_variant="linkedin_191", clip_variant="landscape_16x9",
        image_formats=("jpeg", "png", "gif"), image_max_bytes=36 * MB, image_max_pixels=36_152_320, image_aspect=None,
        video_max_bytes=500 * MB, video_min_seconds=3, video_max_seconds=30 * 60, video_max_fps=30, video_min_fps=1,
        video_max_width=1920, video_max_height=1920, video_aspect=(9 / 16, 16 / 9), audio_max_rate=48000,
        text_limit=3000, alt_text_limit=4086, version_problem=linkedin_version_problem,
        colour="#004182", mark="in",
    ),
    "mastodon": PlatformSpec(
        label="Mastodon", photo_variant="landscape_16x9", clip_variant="landscape_16x9",
        image_formats=("jpeg", "png", "webp", "gif"), image_max_bytes=16 * MB, image_max_pixels=33_177_600, image_aspect=None,
        video_max_bytes=99 * MB, video_min_seconds=0, video_max_seconds=24 * 3600, video_max_fps=120, video_min_fps=1,
        video_max_width=None, video_max_height=None, video_aspect=None, audio_max_rate=48000,
        text_limit=500, alt_text_limit=1500,
        colour="#6364FF", mark="M",
    ),
    "bluesky": PlatformSpec(
        label="Bluesky", photo_variant="square_1x1", clip_variant="square_1x1",
        # The docs say 1 MB per image blob (the lexicon allows 2 MB since 2026): stay under 1 MB.
        image_formats=("jpeg", "png", "webp"), image_max_bytes=1_000_000, image_max_pixels=None, image_aspect=None,
        video_max_bytes=100 * MB, video_min_seconds=0, video_max_seconds=3 * 60, video_max_fps=60, video_min_fps=1,
        video_max_width=None, video_max_height=None, video_aspect=None, audio_max_rate=48000,
        text_limit=300, alt_text_limit=2000,
        colour="#00A3D9", mark="🦋",
    ),
    "youtube": PlatformSpec(
        # Videos only (no photo posts, no text alone). Landscape 16:9 by default; a channel with
        # `variants: {clip: story_9x16}` posts vertical clips, which YouTube shows as Shorts when
        # they last 3 minutes or less. Limits: 256 GB or 12 h per video (upload limits help page).
        label="YouTube", photo_variant="landscape_16x9", clip_variant="landscape_16x9",
        image_formats=(), image_max_bytes=0, image_max_pixels=None, image_aspect=None,
        video_max_bytes=256 * 1024 * MB, video_min_seconds=1, video_max_seconds=12 * 3600, video_max_fps=60, video_min_fps=1,
        video_max_width=None, video_max_height=None, video_aspect=None, audio_max_rate=48000,
        text_limit=5000, text_only=False, photos=False,  # the description: 5,000 bytes (scheduler/platforms/youtube/text.py)
        colour="#FF0033", mark="▶", languages_in_one_post=True,
    ),
    "threads": PlatformSpec(  # Meta's "Threads Posts" media specifications
        label="Threads", photo_variant="feed_4x5", clip_variant="story_9x16",
        image_formats=("jpeg", "png"), image_max_bytes=8 * MB, image_max_pixels=None, image_aspect=(0.1, 10.0),
        video_max_bytes=1024 * MB, video_min_seconds=0, video_max_seconds=5 * 60, video_max_fps=60, video_min_fps=23,
        video_max_width=1920, video_max_height=None, video_aspect=(0.01, 10.0), audio_max_rate=48000,
        text_limit=500, alt_text_limit=1000, max_images=20, video_codecs=("h264", "hevc"), media_by_url=True,
        colour="#00875A", mark="@", at_handle=True,  # Threads is black: a green of its own beside X's near-black
    ),
    "outbox": PlatformSpec(
        label="the outbox", photo_variant="square_1x1", clip_variant="square_1x1",
        image_formats=("jpeg", "png"), image_max_bytes=50 * MB, image_max_pixels=None, image_aspect=None,
        video_max_bytes=1024 * MB, video_min_seconds=0, video_max_seconds=24 * 3600, video_max_fps=120, video_min_fps=1,
        video_max_width=None, video_max_height=None, video_aspect=None, audio_max_rate=48000,
        text_limit=100_000,
        colour="#B54708", mark="✉", card_name="Press outbox",
    ),
}

def variant_for(platform: str, kind: str, override: str | None = None) -> Variant:
    """The variant a post on `platform` carries for a `photo` or a `clip` (a channel may override)."""
    spec = PLATFORMS[platform]
    return VARIANTS[override or (spec.photo_variant if kind == "photo" else spec.clip_variant)]
