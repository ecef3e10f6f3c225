"""Alt text in the post's language when a testimonial has none written by a person.

Every image or clip must carry alt text in the post's language (screen readers read it in
that language). These sentences describe what the rendered asset shows: the speaker's
photo or video with the campaign's band, the baseline, their name and country.
"""

from __future__ import annotations

PHOTO = {
    "en": "Photo of {speaker} from {country}, with the campaign line “{baseline}” and the Belgian logo.",
    "nl": "Foto van {speaker} uit {country}, met de campagnezin “{baseline}” en het Belgische logo.",
    "fr": "Photo de {speaker} ({country}), avec la phrase de campagne « {baseline} » et le logo belge.",
    "de": "Foto von {speaker} aus {country}, mit dem Kampagnensatz „{baseline}“ und dem belgischen Logo.",
    "ja": "{country}の{speaker}さんの写真。キャンペーンの言葉「{baseline}」とベルギーのロゴ入り。",
    "ar": "صورة {speaker} من {country}، مع عبارة الحملة «{baseline}» وشعار بلجيكا.",
}

CLIP = {
    "en": "Video of {speaker} from {country} speaking about Belgium, with subtitles and the campaign line “{baseline}”.",
    "nl": "Video van {speaker} uit {country} die over België vertelt, met Nederlandse ondertitels en de campagnezin “{baseline}”.",
    "fr": "Vidéo de {speaker} ({country}) qui parle de la Belgique, sous-titrée en français, avec la phrase « {baseline} ».",
    "de": "Video von {speaker} aus {country}, der über Belgien spricht, mit deutschen Untertiteln und dem Satz „{baseline}“.",
    "ja": "{country}の{speaker}さんがベルギーについて語る動画。日本語字幕と「{baseline}」の言葉入り。",
    "ar": "فيديو يتحدث فيه {speaker} من {country} عن بلجيكا، مع ترجمة عربية وعبارة «{baseline}».",
}


def generated_alt_text(kind: str, language: str, *, speaker: str, country: str, baseline: str) -> str:
    """A describing sentence in `language` (English for languages without a template)."""
    table = CLIP if kind == "clip" else PHOTO
    template = table.get(language, table["en"])
    return template.format(speaker=speaker, country=country, baseline=baseline.rstrip("."))
