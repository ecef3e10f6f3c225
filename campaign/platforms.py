"""The one table of platform media specs: variants to render and limits to check outputs against.

Figures from ../shared/media-specs.md (tags there say how sure each is). When a platform
changes its rules, this file is the one place to update: the renderer, the conformance
check, the planner and the emulators all read it.
"""

from __future__ import annotations

from dataclasses import dataclass

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


PLATFORMS: dict[str, PlatformSpec] = {
    "instagram": PlatformSpec(
        photo_variant="feed_4x5", clip_variant="story_9x16",
        image_formats=("jpeg",), image_max_bytes=8 * MB, image_max_pixels=None, image_aspect=(0.8, 1.91),
        video_max_bytes=300 * MB, video_min_seconds=3, video_max_seconds=15 * 60, video_max_fps=60, video_min_fps=23,
        video_max_width=1920, video_max_height=None, video_aspect=None, audio_max_rate=48000,
        text_limit=2200, max_hashtags=30, alt_text_limit=1000, max_images=10,
    ),
    "facebook": PlatformSpec(
        photo_variant="landscape_16x9", clip_variant="landscape_16x9",
        image_formats=("jpeg", "png"), image_max_bytes=10 * MB, image_max_pixels=None, image_aspect=None,
        video_max_bytes=10 * 1024 * MB, video_min_seconds=1, video_max_seconds=4 * 3600, video_max_fps=60, video_min_fps=1,
        video_max_width=None, video_max_height=None, video_aspect=None, audio_max_rate=48000,
        text_limit=63206, alt_text_limit=1000, max_images=10,
    ),
    "x": PlatformSpec(
        photo_variant="landscape_16x9", clip_variant="landscape_16x9",
        image_formats=("jpeg", "png", "webp"), image_max_bytes=5 * MB, image_max_pixels=None, image_aspect=None,
        # Conservative side of conflicting sources: 140 s and 1280x1024 for standard accounts.
        video_max_bytes=512 * MB, video_min_seconds=0.5, video_max_seconds=140, video_max_fps=60, video_min_fps=1,
        video_max_width=1280, video_max_height=1024, video_aspect=(1 / 3, 3.0), audio_max_rate=48000,
        text_limit=280, alt_text_limit=1000,
    ),
    "linkedin": PlatformSpec(
        photo_variant="linkedin_191", clip_variant="landscape_16x9",
        image_formats=("jpeg", "png", "gif"), image_max_bytes=36 * MB, image_max_pixels=36_152_320, image_aspect=None,
        video_max_bytes=500 * MB, video_min_seconds=3, video_max_seconds=30 * 60, video_max_fps=30, video_min_fps=1,
        video_max_width=1920, video_max_height=1920, video_aspect=(9 / 16, 16 / 9), audio_max_rate=48000,
        text_limit=3000, alt_text_limit=4086,
    ),
    "mastodon": PlatformSpec(
        photo_variant="landscape_16x9", clip_variant="landscape_16x9",
        image_formats=("jpeg", "png", "webp", "gif"), image_max_bytes=16 * MB, image_max_pixels=33_177_600, image_aspect=None,
        video_max_bytes=99 * MB, video_min_seconds=0, video_max_seconds=24 * 3600, video_max_fps=120, video_min_fps=1,
        video_max_width=None, video_max_height=None, video_aspect=None, audio_max_rate=48000,
        text_limit=500, alt_text_limit=1500,
    ),
    "bluesky": PlatformSpec(
        photo_variant="square_1x1", clip_variant="square_1x1",
        # The docs say 1 MB per image blob (the lexicon allows 2 MB since 2026): stay under 1 MB.
        image_formats=("jpeg", "png", "webp"), image_max_bytes=1_000_000, image_max_pixels=None, image_aspect=None,
        video_max_bytes=100 * MB, video_min_seconds=0, video_max_seconds=3 * 60, video_max_fps=60, video_min_fps=1,
        video_max_width=None, video_max_height=None, video_aspect=None, audio_max_rate=48000,
        text_limit=300, alt_text_limit=2000,
    ),
    "outbox": PlatformSpec(
        photo_variant="square_1x1", clip_variant="square_1x1",
        image_formats=("jpeg", "png"), image_max_bytes=50 * MB, image_max_pixels=None, image_aspect=None,
        video_max_bytes=1024 * MB, video_min_seconds=0, video_max_seconds=24 * 3600, video_max_fps=120, video_min_fps=1,
        video_max_width=None, video_max_height=None, video_aspect=None, audio_max_rate=48000,
        text_limit=100_000,
    ),
}

# Where people see it: feeds on phones are about 390 CSS px wide (a 16:9 image shows at 390x219).
# Stamped text is sized for that width, not for the file's pixels: at 390 px, the slogan's
# capital letters are at least 10 px tall, names, countries and subtitles at least 9 px.
FEED_WIDTH = 390
MIN_SLOGAN_CAP_PX = 10.0
MIN_TEXT_CAP_PX = 9.0


@dataclass(frozen=True)
class SafeZone:
    """Shares of a 9:16 frame an app draws its own interface over (buttons, captions, profile).

    Text and faces stay out of them. Meta's guidance as commonly cited (media-specs.md).
    """

    placement: str
    top: float
    bottom: float
    left: float = 0.0
    right: float = 0.0


SAFE_ZONES: dict[str, SafeZone] = {
    z.placement: z
    for z in (
        SafeZone("reels", top=0.14, bottom=0.35, left=0.06, right=0.06),  # Instagram and Facebook Reels
        SafeZone("stories", top=0.14, bottom=0.20),  # Instagram and Facebook Stories
    )
}

# Placements each variant is shown in full screen; one file serves all of them, so it keeps out of every zone.
VARIANT_PLACEMENTS: dict[str, tuple[str, ...]] = {"story_9x16": ("reels", "stories")}


def safe_insets(variant_name: str) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) shares of the frame no stamped element may enter, for every placement of the variant."""
    zones = [SAFE_ZONES[p] for p in VARIANT_PLACEMENTS.get(variant_name, ())]
    return (
        max((z.left for z in zones), default=0.0),
        max((z.top for z in zones), default=0.0),
        max((z.right for z in zones), default=0.0),
        max((z.bottom for z in zones), default=0.0),
    )


PHOTO_EXTENSION = "jpg"
CLIP_EXTENSION = "mp4"


def variant_for(platform: str, kind: str, override: str | None = None) -> Variant:
    """The variant a post on `platform` carries for a `photo` or a `clip` (a channel may override)."""
    spec = PLATFORMS[platform]
    return VARIANTS[override or (spec.photo_variant if kind == "photo" else spec.clip_variant)]


def output_name(testimonial_id: str, variant: str, language: str, kind: str) -> str:
    """Deterministic path of a rendered file, relative to the build folder."""
    extension = PHOTO_EXTENSION if kind == "photo" else CLIP_EXTENSION
    return f"{testimonial_id}/{variant}.{language}.{extension}"
