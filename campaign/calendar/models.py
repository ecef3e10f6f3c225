"""The calendar a social media manager writes, as pydantic models.

These models check the shape of each entry on its own (types, formats, ranges).
Checks that need the whole file (references between sections, dates against the
campaign, consent against moments) live in `references.py`, so that every problem
is reported at once with its line.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import Enum
from typing import Annotated, Literal, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    field_validator,
    model_validator,
    Tag,
)

from campaign.languages import LANGUAGES, country_name
from campaign.platforms import PLATFORMS

ID_PATTERN = r"^[a-z0-9][a-z0-9-]*$"


class Strict(BaseModel):
    """Every calendar model forbids unknown keys: a typo must not be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _language(code: str) -> str:
    if code not in LANGUAGES:
        raise ValueError(
            f"unknown language code {code!r} — use a two-letter ISO 639-1 code such as en, nl, fr, de, ja, ar"
        )
    return code


def _timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"time zone {name!r} does not exist — use an IANA name such as Europe/Brussels, America/New_York or Asia/Tokyo"
        ) from None
    return name


def _local_time(value: object) -> dt.time:
    """Slots are written "09:00"; YAML 1.1 would read an unquoted 09:00 as 540 (sexagesimal)."""
    if isinstance(value, dt.time):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        return dt.time(value // 60, value % 60)
    if isinstance(value, str) and re.fullmatch(r"\d{1,2}:\d{2}", value.strip()):
        hours, minutes = (int(part) for part in value.strip().split(":"))
        if hours < 24 and minutes < 60:
            return dt.time(hours, minutes)
    raise ValueError(f"{value!r} is not a local time — write it as \"HH:MM\", e.g. \"09:00\"")


def _duration(value: object) -> dt.timedelta:
    """Durations are written 90m, 3h, 2d or as a number of minutes."""
    if isinstance(value, dt.timedelta):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return dt.timedelta(minutes=value)
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+)\s*([mhd])\s*", value)
        if match:
            amount, unit = int(match[1]), match[2]
            return dt.timedelta(**{{"m": "minutes", "h": "hours", "d": "days"}[unit]: amount})
    raise ValueError(f"{value!r} is not a duration — write it like 90m, 3h or 2d")


def _colour(value: str) -> str:
    if not re.fullmatch(r"#[0-9A-Fa-f]{6}", value):
        raise ValueError(f"{value!r} is not a colour — write it as #RRGGBB, e.g. #FDDA24")
    return value.upper()


Language = Annotated[str, AfterValidator(_language)]
TimeZone = Annotated[str, AfterValidator(_timezone)]
LocalTime = Annotated[dt.time, BeforeValidator(_local_time)]
Duration = Annotated[dt.timedelta, BeforeValidator(_duration)]
Colour = Annotated[str, AfterValidator(_colour)]
Identifier = Annotated[str, Field(pattern=ID_PATTERN, min_length=1, max_length=64)]
Pillar = Literal["innovation", "partnerships", "diversity"]
Hashtags = list[Annotated[str, Field(pattern=r"^[^\s#]+$")]]
Link = Annotated[str, Field(pattern=r"^https?://\S+$")]


def _one_or_per_language(value: object) -> str:
    return "per-language[]" if isinstance(value, dict) else "one[]"


def OneOrPerLanguage(kind):  # noqa: N802 - a type factory, read like a type
    """`kind` for every language, or a mapping of language to `kind`. The discriminator picks the
    branch by shape, so a mistake is reported once, against the branch the manager wrote (the
    loader hides the branch names: they contain "[")."""
    return Annotated[
        Union[Annotated[kind, Tag("one[]")], Annotated[dict[Language, kind], Tag("per-language[]")]],
        Discriminator(_one_or_per_language),
    ]


#: The platforms a channel may name: one per row of the platform table (campaign/platforms.py).
Platform = Enum("Platform", {name: name for name in PLATFORMS}, type=str)  # type: ignore[misc]


class Campaign(Strict):
    name: str = Field(min_length=1)
    tagline: str = Field(min_length=1)
    baseline: dict[Language, str] = Field(min_length=1)
    pillars: list[Pillar] = Field(min_length=1)
    timezone: TimeZone
    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> "Campaign":
        if self.end < self.start:
            raise ValueError("the campaign ends before it starts — put `end` on or after `start`")
        return self


class BrandFonts(Strict):
    """One font per script; `latin` is the default for every language not listed."""

    latin: str
    japanese: str | None = None
    arabic: str | None = None


class BrandColours(Strict):
    primary: Colour = "#FDDA24"
    text: Colour = "#FFFFFF"
    band: Colour = "#000000"


class Brand(Strict):
    logo: str
    fonts: BrandFonts
    colours: BrandColours = BrandColours()
    safe_margin: float = Field(0.06, ge=0.0, le=0.2, description="fraction of the shorter side")


class ApiSettings(Strict):
    """Where a channel's API lives; versions are configuration, not constants in code."""

    base_url: str | None = None
    version: str | None = None
    media_base_url: str | None = None  # plain, predictable media addresses (before `media_urls:`; validate warns)
    video_base_url: str | None = None  # Bluesky's video service
    audited: bool = False  # the app passed the platform's audit (YouTube: an unaudited project uploads private videos only)
    # the publishing status of the channel's OAuth app (YouTube: an app in "testing" gets refresh tokens that end after 7 days)
    oauth_app: Literal["testing", "production"] | None = None


class Variants(Strict):
    photo: str | None = None
    clip: str | None = None


class ResultsSettings(Strict):
    """When the daemon collects a published post's figures (ages after publication)."""

    ages: list[Duration] = Field(
        default_factory=lambda: [dt.timedelta(hours=1), dt.timedelta(hours=24), dt.timedelta(days=7), dt.timedelta(days=30)],
        min_length=1, max_length=12)

    @field_validator("ages")
    @classmethod
    def _positive_unique(cls, ages: list[dt.timedelta]) -> list[dt.timedelta]:
        if any(a.total_seconds() < 60 for a in ages):
            raise ValueError("a collection age must be at least 1m after publication")
        if len(set(ages)) != len(ages):
            raise ValueError("a collection age is listed twice — list each age once")
        return sorted(ages)


class Channel(Strict):
    id: Identifier
    platform: Platform
    account: str = Field(min_length=1)
    name: str | None = None  # how readers see the account (the preview shows it instead of a raw id)
    languages: list[Language] = Field(min_length=1)
    timezone: TimeZone
    slots: list[LocalTime] = Field(min_length=1)
    min_spacing: Duration = dt.timedelta(hours=2)
    daily_cap: int = Field(3, ge=1, le=50)
    approval: bool = False
    # A designer or an admin approves the media of this channel's posts before they go out
    # (the daemon holds a post until its photo or clip is approved; a new file takes it back).
    media_approval: bool = False
    grace: Duration = dt.timedelta(hours=3)
    variants: Variants = Variants()
    api: ApiSettings = ApiSettings()
    country: str | None = None  # where the account speaks from (an embassy's host country): results by country
    results: ResultsSettings = ResultsSettings()

    @field_validator("slots")
    @classmethod
    def _sorted_unique(cls, slots: list[dt.time]) -> list[dt.time]:
        if len(set(slots)) != len(slots):
            raise ValueError("a posting slot is listed twice — list each local time once")
        return sorted(slots)


class FocusPoint(Strict):
    """Where the speaker's face is, as fractions of width and height (0..1); wins over detection."""

    x: float = Field(ge=0.0, le=1.0)
    y: float = Field(ge=0.0, le=1.0)


class Testimonial(Strict):
    id: Identifier
    name: str = Field(min_length=1)
    country: str = Field(min_length=1)
    country_names: dict[Language, str] = {}
    spoken_language: Language
    pillar: Pillar
    quote: dict[Language, str] = Field(min_length=1)
    photo: str | None = None
    clip: str | None = None
    subtitles: dict[Language, str] = {}
    consent_until: dt.date
    focus: FocusPoint | None = None
    alt_text: dict[Language, str] = {}

    @model_validator(mode="after")
    def _has_media(self) -> "Testimonial":
        if not self.photo and not self.clip:
            raise ValueError(
                "a testimonial needs media — give the file name designers drop in the inbox as `photo:` or `clip:`"
            )
        for name in filter(None, (self.photo, self.clip)):
            if "/" in name or "\\" in name:
                raise ValueError(f"{name!r} is a path — give only the file name as it lands in the inbox")
        return self

    def country_in(self, language: str) -> str:
        """The country as `language` writes it: `country_names` wins, then CLDR's name for
        `country` (an English country name or an ISO 3166 code), then `country` as written."""
        return self.country_names.get(language) or country_name(self.country, language) or self.country


class Moment(Strict):
    id: Identifier
    title: str = Field(min_length=1)
    titles: dict[Language, str] = {}
    date: dt.date | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    recurrence: Literal["yearly"] | None = None
    pillar: Pillar
    channels: list[Identifier] = Field(min_length=1)
    languages: list[Language] | None = None
    testimonials: list[Identifier] = []
    media: Literal["photo", "clip", "auto"] = "auto"
    # a file name in templates/captions/, never a path: `../` must not reach another folder
    template: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")] = "testimonial"
    hashtags: OneOrPerLanguage(Hashtags) = []
    link: OneOrPerLanguage(Link) | None = None

    @model_validator(mode="after")
    def _one_kind_of_date(self) -> "Moment":
        if self.date and (self.start or self.end):
            raise ValueError("a moment has either `date:` or `start:` and `end:`, not both — keep one")
        if not self.date and not (self.start and self.end):
            raise ValueError("a moment needs a `date:` or both `start:` and `end:` — add the missing date")
        if self.start and self.end and self.end < self.start:
            raise ValueError("the moment ends before it starts — put `end` on or after `start`")
        return self

    @property
    def first_day(self) -> dt.date:
        return self.date or self.start  # type: ignore[return-value]

    @property
    def last_day(self) -> dt.date:
        return self.date or self.end  # type: ignore[return-value]

    def title_in(self, language: str) -> str:
        return self.titles.get(language, self.title)

    def link_in(self, language: str) -> str | None:
        """The link a post in `language` carries: its own, else the English one, else the first."""
        return _per_language(self.link, language)

    def link_language(self, language: str) -> str | None:
        """Whose link a post in `language` falls back to (None: its own, or the moment has one link)."""
        return _fallback_language(self.link, language)

    def hashtags_in(self, language: str) -> list[str]:
        """The hashtags of a post in `language`: its own list, else the English one, else the first."""
        return list(_per_language(self.hashtags, language) or [])

    @property
    def all_hashtags(self) -> list[str]:
        """Every hashtag of the moment, in any language, without repeats."""
        lists = self.hashtags.values() if isinstance(self.hashtags, dict) else [self.hashtags]
        return list(dict.fromkeys(tag for tags in lists for tag in tags))


def _fallback_language(value: object, language: str) -> str | None:
    if not isinstance(value, dict) or not value or language in value:
        return None
    return "en" if "en" in value else next(iter(value))


def _per_language(value, language: str):
    """A value given once for every language, or per language with a fallback to English."""
    if not isinstance(value, dict):
        return value
    if not value:
        return None
    return value.get(language) or value.get("en") or next(iter(value.values()))


class Blackout(Strict):
    start: dt.datetime
    end: dt.datetime
    reason: str = Field(min_length=1)
    channels: list[Identifier] | Literal["all"] = "all"
    timezone: TimeZone | None = None  # naive times are in this zone, else the campaign's

    @model_validator(mode="after")
    def _ordered(self) -> "Blackout":
        if self.end <= self.start:
            raise ValueError("the blackout ends before it starts — put `end` after `start`")
        return self

    def applies_to(self, channel_id: str) -> bool:
        return self.channels == "all" or channel_id in self.channels


class PostOverride(Strict):
    """A manager's own words for one post (keyed by the post's id in `overrides:`): the caption
    it carries instead of the template's. It lives in the calendar, so it survives re-planning
    and is reviewed like every other line."""

    caption: str = Field(min_length=1)


def _email(value: str) -> str:
    if len(value) > 254 or not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", value):
        raise ValueError(f"{value!r} is not an email address — write it like name@example.org")
    return value


EmailAddress = Annotated[str, AfterValidator(_email)]


class EmailServer(Strict):
    """The SMTP server digests are sent through; its username and password live in the secrets
    file (`[notify-email]`) or the environment (`CAMPAIGN_NOTIFY_EMAIL_USERNAME`, `..._PASSWORD`)."""

    host: str = Field(min_length=1, pattern=r"^[A-Za-z0-9.-]+$")
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    sender: str = Field(min_length=3, description='the From: of every digest, e.g. "Campaign <campaign@example.org>"')


class Recipient(Strict):
    """Who gets digests, by email or through a named webhook (its URL is a secret:
    `[notify-<webhook>] webhook = "https://..."` in the secrets file)."""

    email: EmailAddress | None = None
    webhook: Identifier | None = None
    name: str | None = None
    approves: list[Identifier] | Literal["all"] = []  # posts waiting for approval on these channels
    failures: bool = False  # failed and "unknown, check" posts (what admins must look at)

    @model_validator(mode="after")
    def _one_way(self) -> "Recipient":
        if (self.email is None) == (self.webhook is None):
            raise ValueError("a recipient has either `email:` or `webhook:` — give exactly one")
        return self

    @property
    def key(self) -> str:
        """Who this is, for what was already sent to them."""
        return f"email:{self.email.lower()}" if self.email else f"webhook:{self.webhook}"

    @property
    def shown(self) -> str:
        return self.name or self.email or f"webhook {self.webhook}"


class Notifications(Strict):
    """Digests: posts waiting for a person's approval, and failures, at most one message per
    recipient every `every`."""

    every: Duration = dt.timedelta(minutes=5)
    console: Link | None = None  # the console's address, for links in the messages
    email: EmailServer | None = None
    recipients: list[Recipient] = []

    @model_validator(mode="after")
    def _often_enough(self) -> "Notifications":
        if self.every < dt.timedelta(minutes=1):
            raise ValueError("`every` is at least 1m: a digest is not one message per post")
        return self


class MediaUrls(Strict):
    """How platforms that fetch media by URL (Instagram, Threads) get it: signed addresses that
    expire (campaign/media_urls.py), served by the tool's web process at `base_url`, or presigned
    addresses of an S3-compatible `bucket` (`s3://name/prefix`, files uploaded when a post goes out)."""

    base_url: Link | None = None  # the public address of `python run.py web`; addresses are <base_url>/signed/<token>/<file>
    lifetime: Duration = dt.timedelta(hours=1)  # how long each address works after the post starts going out
    bucket: Annotated[str, Field(pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/\S*)?$")] | None = None
    endpoint_url: Link | None = None  # an S3-compatible service other than AWS (MinIO, Ceph, ...)
    region: str | None = None

    @model_validator(mode="after")
    def _one_place(self) -> "MediaUrls":
        if bool(self.base_url) == bool(self.bucket):
            raise ValueError("say where media is served: `base_url` (the tool's web process) or `bucket` (s3://...), one of them")
        if not dt.timedelta(minutes=5) <= self.lifetime <= dt.timedelta(days=7):
            raise ValueError("lifetime must be between 5m and 7d (presigned S3 addresses last at most 7 days)")
        return self


class Calendar(Strict):
    campaign: Campaign
    brand: Brand
    channels: list[Channel] = Field(min_length=1)
    testimonials: list[Testimonial] = []
    moments: list[Moment] = []
    blackouts: list[Blackout] = []
    templates: str = "templates"
    speech_model: str | None = None  # a faster-whisper model folder for subtitle drafts (else the packaged one)
    overrides: dict[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]*$")], PostOverride] = {}
    notifications: Notifications | None = None
    media_urls: MediaUrls | None = None  # signed media addresses for platforms that fetch by URL

    def channel(self, channel_id: str) -> Channel:
        return next(c for c in self.channels if c.id == channel_id)

    def testimonial(self, testimonial_id: str) -> Testimonial:
        return next(t for t in self.testimonials if t.id == testimonial_id)

    def moment(self, moment_id: str) -> Moment:
        return next(m for m in self.moments if m.id == moment_id)
