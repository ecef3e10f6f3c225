"""Languages, countries and punctuation as each language writes them, from Unicode CLDR.

Names, scripts, writing direction and list patterns come from CLDR through Babel; CLDR's
quotation marks (which Babel does not ship) come from `data/cldr-delimiters.json`, copied from
CLDR's own release by `data/update_cldr_delimiters.py`. What CLDR does not say is kept here,
and only that: which brand font a script needs, French spacing inside guillemets, and the
ISO 639-1 codes that are deprecated.

Public names other modules use: `LANGUAGES`, `RIGHT_TO_LEFT`, `script_of`, `language_name`,
`country_name`, `country_code`, `quotation_marks`, `quoted`, `list_separator`, `isolate_ltr_runs`.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterator, Set as AbstractSet
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.core import get_global

_ENGLISH = Locale("en")

# ISO 639-1 codes withdrawn from the standard that CLDR still names (sh: Serbo-Croatian).
_DEPRECATED = frozenset({"sh"})

# ISO 639-1 language codes: the calendar, Mastodon's `language` and Bluesky's `langs` all use
# them. English names from CLDR.
LANGUAGES: dict[str, str] = {
    code: name for code, name in sorted(_ENGLISH.languages.items()) if len(code) == 2 and code not in _DEPRECATED
}


@lru_cache(maxsize=None)
def _locale(language: str) -> Locale | None:
    """Babel's locale for a language code, or None where CLDR has no locale data for it."""
    try:
        return Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        return None


@lru_cache(maxsize=None)
def script_code(language: str) -> str:
    """The ISO 15924 script a language is most likely written in (CLDR likely subtags): Latn, Arab, Jpan…"""
    likely = get_global("likely_subtags").get(language, "")
    parts = likely.split("_")
    return parts[1] if len(parts) >= 2 and len(parts[1]) == 4 else "Latn"


@lru_cache(maxsize=None)
def _is_rtl(language: str) -> bool:
    locale = _locale(language)
    return locale is not None and locale.character_order == "right-to-left"


class _LanguagesWhere(AbstractSet):
    """The languages for which CLDR says something, asked one language at a time: loading the
    locale data of all 183 languages to build a set would cost seconds at every start."""

    def __init__(self, test: Callable[[str], bool]) -> None:
        self._test = test

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code in LANGUAGES and self._test(code)

    def __iter__(self) -> Iterator[str]:
        return iter([code for code in LANGUAGES if self._test(code)])

    def __len__(self) -> int:
        return sum(1 for _ in self)


# Languages written right to left (CLDR layout: characterOrder).
RIGHT_TO_LEFT: AbstractSet[str] = _LanguagesWhere(_is_rtl)
# Which brand font a script needs: CLDR names the script, the calendar names the fonts.
_FONT_FOR_SCRIPT = {"Jpan": "japanese", "Arab": "arabic"}
JAPANESE_SCRIPT = frozenset(code for code in LANGUAGES if script_code(code) == "Jpan")
ARABIC_SCRIPT = frozenset(code for code in LANGUAGES if script_code(code) == "Arab")
CJK = frozenset(code for code in LANGUAGES if script_code(code) in ("Jpan", "Hans", "Hant", "Kore"))


def script_of(language: str) -> str:
    """Which brand font a language needs: "japanese", "arabic" or "latin"."""
    return _FONT_FOR_SCRIPT.get(script_code(language), "latin")


def language_name(code: str, in_language: str = "en") -> str:
    """A language's name in another language (CLDR), e.g. ("ja", "de") -> "Japanisch"."""
    locale = _locale(in_language) or _ENGLISH
    return locale.languages.get(code) or _ENGLISH.languages.get(code) or code


# --- countries --------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _territories_by_english_name() -> dict[str, str]:
    names: dict[str, str] = {}
    for code, name in _ENGLISH.territories.items():
        if code.isalpha() and len(code) == 2:  # countries, not regions like 150 (Europe)
            names.setdefault(name.casefold(), code)
    return names


def country_code(country: str) -> str | None:
    """The ISO 3166 code of a country written as its English CLDR name or as a code ("Germany", "DE")."""
    text = country.strip()
    if len(text) == 2 and text.upper() in _ENGLISH.territories:
        return text.upper()
    return _territories_by_english_name().get(text.casefold())


def country_name(country: str, language: str) -> str | None:
    """The country's name in `language` from CLDR ("Germany", "de" -> "Deutschland"); None if CLDR
    does not know the country (then the calendar's text is all there is)."""
    code = country_code(country)
    if code is None:
        return None
    locale = _locale(language)
    return (locale.territories.get(code) if locale else None) or _ENGLISH.territories.get(code)


def has_country_name(country: str, language: str) -> bool:
    """Whether CLDR names this country in this very language (not by falling back to English)."""
    code = country_code(country)
    locale = _locale(language)
    return code is not None and locale is not None and code in locale.territories


# --- punctuation ------------------------------------------------------------------------------

_DELIMITERS_FILE = Path(__file__).resolve().parent / "data" / "cldr-delimiters.json"
# French sets guillemets off with a narrow no-break space (« Ici »); CLDR's delimiters do not say so.
_SPACE_INSIDE_QUOTES = {"fr": "\u202f"}


@lru_cache(maxsize=1)
def _delimiters() -> dict[str, list[str]]:
    return json.loads(_DELIMITERS_FILE.read_text(encoding="utf-8"))["delimiters"]


def quotation_marks(language: str) -> tuple[str, str]:
    """Opening and closing quotation marks (CLDR): de „ “, fr « », ja 「 」, ar ” “, en “ ”."""
    marks = _delimiters().get(language) or _delimiters()["en"]
    space = _SPACE_INSIDE_QUOTES.get(language, "")
    return marks[0] + space, space + marks[1]


def quoted(text: str, language: str) -> str:
    """`text` between the language's quotation marks."""
    opening, closing = quotation_marks(language)
    return f"{opening}{text}{closing}"


@lru_cache(maxsize=None)
def list_separator(language: str) -> str:
    """What separates items of a list in `language`, from CLDR's list patterns: ", " in most
    Latin-script languages, "、" in Japanese, "، " in Arabic."""
    locale = _locale(language) or _ENGLISH
    for style in ("standard", "unit-short", "unit", "standard-short"):
        try:
            pattern = locale.list_patterns[style]["middle"]
        except KeyError:
            continue
        between = pattern.replace("{0}", "").replace("{1}", "")
        punctuation = "".join(c for c in between if unicodedata.category(c).startswith("P"))
        if punctuation:
            after = between[between.index(punctuation[-1]) + 1:]
            return punctuation + (" " if after[:1].isspace() else "")
    return ", "


# --- right-to-left text -----------------------------------------------------------------------

LRI, PDI = "\u2066", "\u2069"  # Unicode 6.3 isolates: left-to-right isolate, pop directional isolate
BIDI_CONTROLS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
_HASHTAG = re.compile(r"[#＃]\w+")


def _strong_ltr(char: str) -> bool:
    return unicodedata.bidirectional(char) == "L"


def _ltr_word(word: str) -> bool:
    """A run of text that reads left to right on its own: Latin words, a URL, a #hashtag, @handle."""
    if _URL.fullmatch(word):
        return True
    return any(_strong_ltr(c) for c in word) and not any(unicodedata.bidirectional(c) in ("R", "AL") for c in word)


def isolate_ltr_runs(text: str) -> str:
    """Wrap every left-to-right run (a name, a link, a hashtag) of a right-to-left text in a
    left-to-right isolate (LRI … PDI), so the Unicode bidi algorithm keeps each run whole and in
    its place: without it the `#` of `#BelgianNationalDay` lands on the wrong side of the word.

    Hashtags and links get an isolate each; consecutive Latin words (`Youssef Benali`) share one.
    Sentence punctuation after a run stays outside it. Text already isolated is left as it is.
    """
    if LRI in text:
        return text
    return "\n".join(_isolate_line(line) for line in text.split("\n"))


_TOKEN = re.compile(r"\S+")
_TRAILING_PUNCTUATION = ".,;:!?،؛؟。、)]»”’\"'"
_LEADING_PUNCTUATION = "([«“‘„\"'"


@dataclass
class _Run:
    start: int
    end: int
    standalone: bool  # a link, hashtag or @handle: isolated on its own
    open: bool  # the next Latin word may join it (nothing but a space between)


def _isolate_line(line: str) -> str:
    runs: list[_Run] = []
    for match in _TOKEN.finditer(line):
        word, start = match.group(0), match.start()
        url = _URL.match(word)
        core = (url.group(0) if url else word).rstrip(_TRAILING_PUNCTUATION)
        kept = core.lstrip(_LEADING_PUNCTUATION)  # an opening quote stays outside the run
        start, core = start + len(core) - len(kept), kept
        last = runs[-1] if runs else None
        if not core or not _ltr_word(core):
            if last:
                last.open = False
            continue
        standalone = bool(url or _HASHTAG.fullmatch(core) or core.startswith("@"))
        whole = len(core) == len(word)  # no punctuation cut off: the run may go on
        if last and last.open and not standalone and not line[last.end:start].strip():
            last.end, last.open = start + len(core), whole
            continue
        if last:
            last.open = False
        runs.append(_Run(start, start + len(core), standalone, whole and not standalone))
    out, position = [], 0
    for run in runs:
        out += [line[position:run.start], LRI, line[run.start:run.end], PDI]
        position = run.end
    out.append(line[position:])
    return "".join(out)


def strip_bidi_controls(text: str) -> str:
    """The text without directional marks and isolates (for comparing and counting words)."""
    return text.translate({ord(c): None for c in BIDI_CONTROLS})
