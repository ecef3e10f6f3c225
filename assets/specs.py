"""How stamped media must look where people see it: phone-feed sizes, the interface zones an app
draws over a full-screen frame, and the names of rendered files. The platforms' variants and media
limits are in campaign/platforms.py.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def output_name(testimonial_id: str, variant: str, language: str, kind: str) -> str:
    """Deterministic path of a rendered file, relative to the build folder."""
    extension = PHOTO_EXTENSION if kind == "photo" else CLIP_EXTENSION
    return f"{testimonial_id}/{variant}.{language}.{extension}"
