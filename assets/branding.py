"""The brand settings one overlay depends on, resolved to files and hashed for the manifest.

Kept as small picklable dataclasses so worker processes get them without the calendar.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from campaign.calendar.loader import LoadedCalendar
from campaign.calendar.models import Testimonial
from campaign.calendar.brand_files import font_problem, logo_problem
from campaign.errors import AssetError
from campaign.languages import RIGHT_TO_LEFT, script_of

FONTS_DIR = Path(__file__).resolve().parent / "brand" / "fonts"
LAYOUT_VERSION = "2"  # part of every overlay's fingerprint: a change to the layout code redraws the cached PNGs


@dataclass(frozen=True)
class BrandAssets:
    logo: Path
    fonts: dict[str, Path]  # script -> font file; "latin" always present
    primary: str
    text: str
    band: str
    safe_margin: float

    def font_for(self, text: str, language: str) -> tuple[Path, str]:
        """The font file (and its script) that covers `text`: by content first, then by the post's language."""
        if any("\u0600" <= c <= "\u06ff" or "\u0750" <= c <= "\u077f" or "\ufb50" <= c <= "\ufeff" for c in text):
            script = "arabic"
        elif any("\u3000" <= c <= "\u9fff" or "\uff00" <= c <= "\uffef" for c in text):
            script = "japanese"
        else:
            script = script_of(language)
            if script == "arabic":  # an Arabic font rarely has Latin letters (a name like "Youssef Benali")
                script = "latin"
        return self.fonts.get(script, self.fonts["latin"]), script


@dataclass(frozen=True)
class OverlayText:
    """Words on one overlay: baseline in the post's language and the lower third."""

    language: str
    baseline: str
    name: str
    country: str

    @property
    def rtl(self) -> bool:
        return self.language in RIGHT_TO_LEFT


def brand_assets(loaded: LoadedCalendar) -> BrandAssets:
    """Resolve the calendar's brand paths; AssetError when a file is missing (the calendar check normally catches it)."""
    brand = loaded.calendar.brand
    fonts = {"latin": loaded.resolve(brand.fonts.latin)}
    if brand.fonts.japanese:
        fonts["japanese"] = loaded.resolve(brand.fonts.japanese)
    if brand.fonts.arabic:
        fonts["arabic"] = loaded.resolve(brand.fonts.arabic)
    logo = loaded.resolve(brand.logo)
    for path in [logo, *fonts.values()]:
        if not path.is_file():
            raise AssetError(f"brand file {path} does not exist — fix `brand:` in the calendar")
    # Checked again here (validate did it too): the files may have changed since, and a broken
    # brand file must be named as such, not reported against every photo it was stamped on.
    problem = logo_problem(logo) or next(filter(None, (font_problem(p, s) for s, p in fonts.items())), None)
    if problem:
        raise AssetError(f"brand file: {problem}; fix it or `brand:` in the calendar — nothing was rendered")
    return BrandAssets(
        logo=logo,
        fonts=fonts,
        primary=brand.colours.primary,
        text=brand.colours.text,
        band=brand.colours.band,
        safe_margin=brand.safe_margin,
    )


def overlay_text(loaded: LoadedCalendar, testimonial: Testimonial, language: str) -> OverlayText:
    baseline = loaded.calendar.campaign.baseline
    return OverlayText(
        language=language,
        baseline=baseline.get(language) or baseline.get("en") or next(iter(baseline.values())),
        name=testimonial.name,
        country=testimonial.country_in(language),
    )


def file_hash(path: Path) -> str:
    """SHA-256 of a file, read in blocks (sources can be hundreds of MB)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=64)
def _cached_file_hash(path: Path, size: int, mtime_ns: int) -> str:
    return file_hash(path)


def stat_hash(path: Path) -> str:
    stat = path.stat()
    return _cached_file_hash(path, stat.st_size, stat.st_mtime_ns)


def overlay_fingerprint(brand: BrandAssets, text: OverlayText) -> str:
    """Hash of everything the overlay's pixels depend on (not the quote: it is not drawn)."""
    fonts = sorted({str(brand.font_for(s, text.language)[0]) for s in (text.baseline, text.name, text.country)})
    data = {
        "logo": stat_hash(brand.logo),
        "fonts": [stat_hash(Path(f)) for f in fonts],
        "colours": [brand.primary, brand.text, brand.band],
        "margin": brand.safe_margin,
        "text": asdict(text),
        "layout": LAYOUT_VERSION,
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
