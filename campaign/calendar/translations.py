"""Warnings for text a post would carry in the wrong language.

A post in German must not say "Germany" or send readers to the English page. These checks
look at what each post and its stamped lower third will show, per moment and posting
language, and warn (a person decides: a brand name may rightly stay in English):

- a country CLDR does not know (it stays as written in every language), or a hand-written
  `country_names` entry that is another language's CLDR name ("de: Germany");
- a moment's title that stays in English for a language it posts in;
- a text given for a language that is the very text of another language (copied, not translated),
  or that has no letter of the language's script (`ja:` written in Latin letters);
- words written in a caption template shared by several languages (every language shows them);
- a link that falls back to another language's link, or one link with a language in its
  path (`/en/`) for a moment that posts in other languages too.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Callable, Iterable

from babel import Locale

from campaign.calendar.models import Calendar, Moment
from campaign.errors import Problem
from campaign.languages import LANGUAGES, country_code, country_name, has_country_name, language_name, script_code


def _warning(where: str, message: str) -> Problem:
    return Problem("", None, where, message, "warning")


PostingLanguages = Callable[[Calendar, Moment], set[str]]


def check_translations(calendar: Calendar, posting_languages: PostingLanguages, root: Path | None = None) -> Iterable[Problem]:
    """Every warning of this module; `root` (the calendar's folder) lets it read the caption templates."""
    yield from _countries(calendar, posting_languages)
    if root is not None:
        yield from _shared_template_words(calendar, posting_languages, root)
    yield from _titles(calendar, posting_languages)
    yield from _copied_or_wrong_script(calendar)
    yield from _links(calendar, posting_languages)


def _countries(calendar: Calendar, posting_languages: PostingLanguages) -> Iterable[Problem]:
    testimonials = {t.id: (i, t) for i, t in enumerate(calendar.testimonials)}
    needed: dict[str, set[str]] = {}
    for moment in calendar.moments:
        for tid in moment.testimonials:
            needed.setdefault(tid, set()).update(posting_languages(calendar, moment))
    for tid, languages in needed.items():
        if tid not in testimonials:
            continue
        index, testimonial = testimonials[tid]
        unknown = country_code(testimonial.country) is None
        left = sorted(lang for lang in languages - {"en"} if lang not in testimonial.country_names)
        if unknown and left:
            yield _warning(f"testimonials[{index}].country",
                           f"CLDR knows no country `{testimonial.country}`, so its {', '.join(left)} posts and stamped lower "
                           f"third keep it as written — write the country's English name or ISO code (e.g. Germany or DE), "
                           f"or add {', '.join(f'`{lang}:`' for lang in left)} under country_names")
        for lang, written in testimonial.country_names.items():
            if unknown or lang not in languages:
                continue
            own = country_name(testimonial.country, lang) if has_country_name(testimonial.country, lang) else None
            other = _whose_name(testimonial.country, written, lang) if own and written != own else None
            if other:
                yield _warning(f"testimonials[{index}].country_names.{lang}",
                               f"`{written}` is the {language_name(other)} name of the country, but this is the "
                               f"{language_name(lang)} text; CLDR writes `{own}` — remove the entry to use it")


def _whose_name(country: str, written: str, but_not: str) -> str | None:
    """The language whose CLDR name for the country is `written` (English first), if not `but_not`'s."""
    for lang in ["en", *LANGUAGES]:
        if lang != but_not and has_country_name(country, lang) and country_name(country, lang) == written:
            return lang
    return None


def _titles(calendar: Calendar, posting_languages: PostingLanguages) -> Iterable[Problem]:
    for index, moment in enumerate(calendar.moments):
        missing = sorted(lang for lang in posting_languages(calendar, moment) if lang != "en" and lang not in moment.titles)
        if missing:
            yield _warning(f"moments[{index}].title",
                           f"moment `{moment.id}` posts in {', '.join(missing)} with its English title `{moment.title}` — "
                           f"add {', '.join(f'`{lang}:`' for lang in missing)} under titles")


_SCRIPT_LETTERS = {"Jpan": ("CJK", "HIRAGANA", "KATAKANA"), "Hans": ("CJK",), "Hant": ("CJK",), "Kore": ("HANGUL", "CJK")}


def _has_script(text: str, script: str) -> bool:
    """Whether `text` has at least one letter of the ISO 15924 `script` (by Unicode character names)."""
    prefixes = _SCRIPT_LETTERS.get(script) or (Locale("en").scripts.get(script, script).upper().split()[0],)
    return any(unicodedata.category(c).startswith("L") and unicodedata.name(c, "").startswith(prefixes) for c in text)


def _per_language_texts(calendar: Calendar) -> Iterable[tuple[str, dict[str, str], str | None]]:
    """(where, {language: text}, English default) for every per-language text of the calendar."""
    yield "campaign.baseline", dict(calendar.campaign.baseline), None
    for index, testimonial in enumerate(calendar.testimonials):
        yield f"testimonials[{index}].quote", dict(testimonial.quote), None
        yield f"testimonials[{index}].alt_text", dict(testimonial.alt_text), None
        yield f"testimonials[{index}].country_names", dict(testimonial.country_names), None
    for index, moment in enumerate(calendar.moments):
        yield f"moments[{index}].titles", dict(moment.titles), moment.title


def _copied_or_wrong_script(calendar: Calendar) -> Iterable[Problem]:
    for where, texts, default in _per_language_texts(calendar):
        for lang, text in texts.items():
            script = script_code(lang)
            if script != "Latn" and not _has_script(text, script):
                yield _warning(f"{where}.{lang}", f"the {language_name(lang)} text `{text}` has no "
                                                  f"{Locale('en').scripts.get(script, script)} letters — translate it")
                continue
            if where.endswith("country_names"):
                continue  # many languages rightly share a country's name (Japan in en, nl, de)
            same = [other for other, value in texts.items() if other != lang and value == text]
            if default is not None and text == default:
                same.insert(0, "the default")
            if same and not _neutral(text):
                copied = same[0] if same[0] == "the default" else f"the {language_name(same[0])} one"
                yield _warning(f"{where}.{lang}", f"the {language_name(lang)} text is the same as {copied} — translate it")


def _neutral(text: str) -> bool:
    """Text with no words to translate: a name, a number, hashtags."""
    return not re.search(r"[^\W\d_]{4,}\s+[^\W\d_]{2,}", text)


_LANGUAGE_IN_URL = re.compile(r"/([a-z]{2})(?=/|$|\?|#)|[?&](?:lang|language|hl)=([a-z]{2})\b")


def _url_language(url: str) -> str | None:
    path = re.sub(r"^https?://[^/]+", "", url)
    for match in _LANGUAGE_IN_URL.finditer(path):
        code = match.group(1) or match.group(2)
        if code in LANGUAGES:
            return code
    return None


def _links(calendar: Calendar, posting_languages: PostingLanguages) -> Iterable[Problem]:
    for index, moment in enumerate(calendar.moments):
        if moment.link is None:
            continue
        languages = sorted(posting_languages(calendar, moment))
        if isinstance(moment.link, dict):
            for lang in languages:
                source = moment.link_language(lang)
                if source is not None:
                    yield _warning(f"moments[{index}].link",
                                   f"`{lang}` posts of `{moment.id}` fall back to the `{source}` link {moment.link_in(lang)} — "
                                   f"add `{lang}:` under link")
            continue
        page = _url_language(moment.link)
        others = [lang for lang in languages if page is not None and lang != page]
        if others:
            yield _warning(f"moments[{index}].link",
                           f"the link is the `{page}` page but `{moment.id}` also posts in {', '.join(others)} — give the "
                           f"link per language (link: {{{page}: ..., {others[0]}: ...}})")



_JINJA = re.compile(r"\{#.*?#\}|\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)


def _shared_template_words(calendar: Calendar, posting_languages: PostingLanguages, root: Path) -> Iterable[Problem]:
    """Words written in a shared caption template reach every language that has no template of its own."""
    captions = root / calendar.templates / "captions"
    for index, moment in enumerate(calendar.moments):
        shared = captions / f"{moment.template}.j2"
        if not shared.is_file():
            continue
        languages = sorted(lang for lang in posting_languages(calendar, moment)
                           if not (captions / f"{moment.template}.{lang}.j2").is_file())
        if len(languages) < 2:
            continue
        words = re.findall(r"[^\W\d_]{2,}", _JINJA.sub(" ", shared.read_text(encoding="utf-8")))
        if words:
            yield _warning(f"moments[{index}].template",
                           f"the shared caption template {calendar.templates}/captions/{shared.name} writes "
                           f"`{' '.join(dict.fromkeys(words))}` in every language ({', '.join(languages)}) — move the words "
                           f"into a variable or write {moment.template}.<lang>.j2 per language")
