"""One render job as JSON: everything a worker on another machine needs, without the calendar.

A job is one output file (one source, variant and language): the source task of the local
pipeline cut down to one spec. Paths are absolute and must mean the same on every machine:
the inbox, the build folder and the calendar's folder (brand files) are on a mount every
worker sees at the same path (README, "Render workers").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assets.branding import BrandAssets, OverlayText
from assets.needs import RenderJob
from campaign.platforms import Variant
from assets.worker import JobSpec, SourceTask

VERSION = 1  # a worker refuses a payload of another version (an old worker beside a new `render`)


def split(task: SourceTask) -> list[SourceTask]:
    """One task per output: each becomes its own job on the queue."""
    siblings = tuple(spec.job.variant for spec in task.specs)
    return [SourceTask(task.testimonial_id, task.kind, task.source, task.manual_focus, (spec,), task.brand, task.out,
                       task.cache_dir, source_sha256=task.source_sha256, siblings=siblings) for spec in task.specs]


def encode(task: SourceTask) -> dict[str, Any]:
    """A one-output task as JSON-able values (absolute paths)."""
    (spec,) = task.specs
    job, brand = spec.job, task.brand
    return {
        "version": VERSION,
        "testimonial_id": task.testimonial_id,
        "kind": task.kind,
        "source": str(task.source.resolve()),
        "source_sha256": task.source_sha256,
        "focus": list(task.manual_focus) if task.manual_focus else None,
        "out": str(task.out.resolve()),
        "cache_dir": str(task.cache_dir.resolve()),
        "brand": {"logo": str(brand.logo.resolve()), "fonts": {k: str(Path(v).resolve()) for k, v in brand.fonts.items()},
                  "primary": brand.primary, "text": brand.text, "band": brand.band, "safe_margin": brand.safe_margin},
        "job": {"output": job.output, "variant": [job.variant.name, job.variant.width, job.variant.height, job.variant.label],
                "language": job.language, "source": job.source, "subtitles": job.subtitles, "platforms": list(job.platforms)},
        "text": {"language": spec.text.language, "baseline": spec.text.baseline, "name": spec.text.name, "country": spec.text.country},
        "fingerprint": spec.fingerprint,
        "subtitles": str(spec.subtitles.resolve()) if spec.subtitles else None,
        "input_key": spec.input_key,
        "siblings": [[v.name, v.width, v.height, v.label] for v in task.siblings],
    }


def decode(data: dict[str, Any]) -> SourceTask:
    if data.get("version") != VERSION:
        raise ValueError(f"render job of payload version {data.get('version')!r}; this worker reads version {VERSION} — "
                         "run the same version of the tool on every machine")
    b, j = data["brand"], data["job"]
    name, width, height, label = j["variant"]
    job = RenderJob(output=j["output"], testimonial_id=data["testimonial_id"], kind=data["kind"],
                    variant=Variant(name, width, height, label), language=j["language"], source=j["source"],
                    subtitles=j["subtitles"], platforms=tuple(j["platforms"]))
    spec = JobSpec(job, OverlayText(**data["text"]), data["fingerprint"],
                   Path(data["subtitles"]) if data["subtitles"] else None, data["input_key"])
    brand = BrandAssets(logo=Path(b["logo"]), fonts={k: Path(v) for k, v in b["fonts"].items()}, primary=b["primary"],
                        text=b["text"], band=b["band"], safe_margin=b["safe_margin"])
    focus = tuple(data["focus"]) if data["focus"] else None
    return SourceTask(data["testimonial_id"], data["kind"], Path(data["source"]), focus, (spec,), brand,  # type: ignore[arg-type]
                      Path(data["out"]), Path(data["cache_dir"]), source_sha256=data["source_sha256"],
                      siblings=tuple(Variant(*v) for v in data["siblings"]))
