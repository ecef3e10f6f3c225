"""Alt text in the post's language when a testimonial has none written by a person.

Every image or clip must carry alt text in the post's language (screen readers read it in
that language). These sentences describe what the rendered asset shows: the speaker's
photo or video with the campaign's band, the baseline, their name and country. The
baseline is quoted with the language's own quotation marks (CLDR).
"""

from __future__ import annotations

from campaign.languages import quoted

PHOTO = {
    "en": "Photo of {speaker} from {country}, with the campaign line {quoted} and the Belgian logo.",
    "nl": "Foto van {speaker} uit {country}, met de campagnezin {quoted} en het Belgische logo.",
    "fr": "Photo de {speaker} ({country}), avec la phrase de campagne {quoted} et le logo belge.",
    "de": "Foto von {speaker} aus {country}, mit dem Kampagnensatz {quoted} und dem belgischen Logo.",
    "ja": "{country}の{speaker}さんの写真。キャンペーンの言葉{quoted}とベルギーのロゴ入り。",
    "ar": "صورة {speaker} من {country}، مع عبارة الحملة {quoted} وشعار بلجيكا.",
}

CLIP = {
    "en": "Video of {speaker} from {country} speaking about Belgium, with subtitles and the campaign line {quoted}.",
    "nl": "Video van {speaker} uit {country} die over België vertelt, met Nederlandse ondertitels en de campagnezin {quoted}.",
    "fr": "Vidéo de {speaker} ({country}) qui parle de la Belgique, sous-titrée en français, avec la phrase {quoted}.",
    "de": "Video von {speaker} aus {country}, der über Belgien spricht, mit deutschen Untertiteln und dem Satz {quoted}.",
    "ja": "{country}の{speaker}さんがベルギーについて語る動画。日本語字幕と{quoted}の言葉入り。",
    "ar": "فيديو يتحدث فيه {speaker} من {country} عن بلجيكا، مع ترجمة عربية وعبارة {quoted}.",
}


def generated_alt_text(kind: str, language: str, *, speaker: str, country: str, baseline: str) -> str:
    """A describing sentence in `language` (English for languages without a template)."""
    table = CLIP if kind == "clip" else PHOTO
    template = table.get(language, table["en"])
    shown_in = language if language in table else "en"
    line = baseline.rstrip(".")
    return template.format(speaker=speaker, country=country, baseline=line, quoted=quoted(line, shown_in))
