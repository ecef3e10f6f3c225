"""Which files the calendar needs rendered: one pure function shared by the pipeline, planner and demo.

The planner attaches `build/<testimonial>/<variant>.<lang>.<ext>` to each post; the pipeline
renders exactly those files. Both derive them from the same calendar rules
(`campaign.calendar.usage`), so a post never points at a file nobody renders.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from campaign.platforms import VARIANTS, Variant, variant_for
from assets.specs import output_name
from campaign.calendar.models import Calendar
from campaign.calendar.usage import media_kind, moment_channels, moment_languages


@dataclass(frozen=True, order=True)
class RenderJob:
    """One output file: which source, which frame, which language, for which platforms."""

    output: str  # relative to the build folder, e.g. "aiko-tanaka/feed_4x5.ja.jpg"
    testimonial_id: str
    kind: str  # "photo" or "clip"
    variant: Variant
    language: str
    source: str  # file name in the inbox
    subtitles: str | None  # subtitle file name in the inbox (clips only)
    platforms: tuple[str, ...]  # every platform this file is posted to (conformance checks all)

    @property
    def source_key(self) -> tuple[str, str]:
        """Jobs sharing a source render together (one decode)."""
        return (self.testimonial_id, self.kind)


def required_renders(calendar: Calendar, variants: Mapping[str, Variant] | None = None) -> list[RenderJob]:
    """Every file the calendar's moments need, deduplicated and sorted by output path.

    `variants` overrides the frame table (tests render tiny frames with the same names).
    """
    table = variants or VARIANTS
    testimonials = {t.id: t for t in calendar.testimonials}
    found: dict[str, tuple[RenderJob, set[str]]] = {}
    for moment in calendar.moments:
        for channel in moment_channels(calendar, moment):
            platform = channel.platform.value
            for lang in moment_languages(moment, channel):
                for testimonial_id in moment.testimonials:
                    testimonial = testimonials.get(testimonial_id)
                    if testimonial is None:
                        continue
                    kind = media_kind(moment, testimonial)
                    source = testimonial.photo if kind == "photo" else testimonial.clip
                    if not source:
                        continue  # the calendar check reports a moment asking for media a testimonial lacks
                    variant = variant_for(platform, kind, getattr(channel.variants, kind))
                    variant = table.get(variant.name, variant)
                    out = output_name(testimonial.id, variant.name, lang, kind)
                    if out in found:
                        found[out][1].add(platform)
                        continue
                    job = RenderJob(
                        output=out,
                        testimonial_id=testimonial.id,
                        kind=kind,
                        variant=variant,
                        language=lang,
                        source=source,
                        subtitles=testimonial.subtitles.get(lang) if kind == "clip" else None,
                        platforms=(),
                    )
                    found[out] = (job, {platform})
    jobs = [
        RenderJob(**{**job.__dict__, "platforms": tuple(sorted(platforms))}) for job, platforms in found.values()
    ]
    return sorted(jobs, key=lambda j: j.output)
