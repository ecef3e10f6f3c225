"""Broken brand files are named at `validate` (and by `render`), not blamed on a photo.

Covers: a truncated logo, a file that is not an image, a tiny placeholder logo, a file that
is not a font, and a real font that lacks the script it is declared for.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assets.branding import brand_assets
from campaign.calendar import load_calendar
from campaign.errors import AssetError, CalendarError

REPO = Path(__file__).resolve().parents[2]
SAMPLE = (REPO / "calendar.yaml").read_text(encoding="utf-8")


def folder_with_brand(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "assets" / "brand", tmp_path / "assets" / "brand")
    (tmp_path / "templates").symlink_to(REPO / "templates")
    (tmp_path / "calendar.yaml").write_text(SAMPLE, encoding="utf-8")
    return tmp_path


def line_of(needle: str) -> int:
    return next(i for i, line in enumerate(SAMPLE.splitlines(), 1) if needle in line)


def problems(folder: Path) -> list[str]:
    with pytest.raises(CalendarError) as caught:
        load_calendar(folder / "calendar.yaml")
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize(("name", "damage", "words"), [
    ("truncated logo", lambda p: p.write_bytes(p.read_bytes()[:300]), "not a readable image"),
    ("text as logo", lambda p: p.write_text("<svg>not a png</svg>"), "not a readable image"),
    ("tiny logo", lambda p: __import__("PIL.Image").Image.new("RGBA", (4, 4)).save(p), "4×4 pixels"),
])
def test_broken_logo_is_named_with_its_line(tmp_path: Path, name: str, damage, words: str) -> None:  # type: ignore[no-untyped-def]
    folder = folder_with_brand(tmp_path)
    damage(folder / "assets" / "brand" / "logo.png")
    found = problems(folder)
    assert len(found) == 1, found
    assert f"calendar.yaml:{line_of('logo: assets/brand/logo.png')}: brand.logo: the logo logo.png" in found[0]
    assert words in found[0]


def test_broken_fonts_are_named_with_their_lines(tmp_path: Path) -> None:
    folder = folder_with_brand(tmp_path)
    fonts = folder / "assets" / "brand" / "fonts"
    (fonts / "NotoSansArabic-Bold.ttf").write_text("not a font")
    shutil.copy(fonts / "NotoSans-Bold.ttf", fonts / "NotoSansJP-Bold.otf")  # a Latin font declared as Japanese
    found = problems(folder)
    assert any(p.startswith(f"{folder / 'calendar.yaml'}:") and "brand.fonts.arabic: the font NotoSansArabic-Bold.ttf cannot be loaded" in p
               for p in found), found
    assert any("brand.fonts.japanese: the font NotoSansJP-Bold.otf has no letters" in p for p in found), found


def test_render_names_the_brand_file_broken_after_validation(tmp_path: Path) -> None:
    folder = folder_with_brand(tmp_path)
    loaded = load_calendar(folder / "calendar.yaml")
    (folder / "assets" / "brand" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    with pytest.raises(AssetError) as caught:
        brand_assets(loaded)
    assert "brand file: the logo logo.png is not a readable image" in str(caught.value)
