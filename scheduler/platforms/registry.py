"""The one table of platforms the tool publishes to, and `publisher_for(channel)`.

Each row names what lives in the platform's package `scheduler/platforms/<name>/`: its
publisher (`publisher.py`), its figures (`figures.py`, `collect(publisher, remote_id, kind)`),
its text rules (`text.py`, `check(text)`) and the credentials it needs. Its media needs, caption
limit and API versions are its row in `campaign/platforms.py` (low enough for the calendar's
validation and the asset pipeline to read). Nothing else chooses by a platform's name.

API settings resolve as: `api_overrides` (the sandbox, tests) > the channel's `api:` in
calendar.yaml > each platform's real default host and version.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Mapping

from campaign.calendar.models import Channel
from campaign.clock import Clock
from scheduler.platforms.base import Publisher
from scheduler.platforms.bluesky import figures as bluesky_figures
from scheduler.platforms.bluesky import text as bluesky_text
from scheduler.platforms.bluesky.publisher import BlueskyPublisher
from scheduler.platforms.credentials import Credentials
from scheduler.platforms.facebook import figures as facebook_figures
from scheduler.platforms.facebook import text as facebook_text
from scheduler.platforms.facebook.publisher import FacebookPublisher
from scheduler.platforms.figures import Collect
from scheduler.platforms.instagram import figures as instagram_figures
from scheduler.platforms.instagram import text as instagram_text
from scheduler.platforms.instagram.publisher import InstagramPublisher
from scheduler.platforms.linkedin import figures as linkedin_figures
from scheduler.platforms.linkedin import oauth as linkedin_oauth
from scheduler.platforms.linkedin import text as linkedin_text
from scheduler.platforms.linkedin.publisher import LinkedInPublisher
from scheduler.platforms.mastodon import figures as mastodon_figures
from scheduler.platforms.mastodon import text as mastodon_text
from scheduler.platforms.mastodon.publisher import MastodonPublisher
from scheduler.platforms.outbox import text as outbox_text
from scheduler.platforms.outbox.publisher import OutboxPublisher
from scheduler.platforms.oauth import OAuthSpec
from scheduler.platforms.x import figures as x_figures
from scheduler.platforms.x import oauth as x_oauth
from scheduler.platforms.x import text as x_text
from scheduler.platforms.x.publisher import XPublisher
from scheduler.platforms.threads import figures as threads_figures
from scheduler.platforms.threads import oauth as threads_oauth
from scheduler.platforms.threads import text as threads_text
from scheduler.platforms.threads.publisher import ThreadsPublisher
from scheduler.platforms.youtube import figures as youtube_figures
from scheduler.platforms.youtube import oauth as youtube_oauth
from scheduler.platforms.youtube import text as youtube_text
from scheduler.platforms.youtube.publisher import YouTubePublisher

_API_KEYS = ("base_url", "version", "media_base_url", "video_base_url", "audited", "oauth_app")


@dataclass(frozen=True)
class Platform:
    """One platform, as the scheduler uses it."""

    name: str
    #: Built with `publisher.for_channel(...)` (one signature for every platform).
    publisher: type[Publisher]
    #: Every rule of the platform a caption breaks (messages a manager can act on).
    check_text: Callable[[str], list[str]]
    #: Reads a published post's figures; None when the platform has none (the outbox).
    collect: Collect | None = None
    #: Names of the credentials it needs: suffixes of CAMPAIGN_<CHANNEL_ID>_<NAME> or keys of the
    #: channel's table in the secrets file. Empty: no account (nothing to load, nothing to check).
    credentials: tuple[str, ...] = ("TOKEN",)
    #: Credentials only some posts need (documented here; the publisher asks for them when it does).
    optional_credentials: tuple[str, ...] = ()
    #: How the platform's own app shows a long link in post text (the full URL goes in a facet), or None.
    display_link: Callable[[str], str] | None = None
    #: How an account connects with OAuth 2.0 and how its tokens renew (`<platform>/oauth.py`, its
    #: `OAUTH`); None: the credentials are pasted (an app password, a token that does not expire).
    #: A channel that connects this way needs CLIENT_ID (and CLIENT_SECRET) instead of TOKEN.
    oauth: OAuthSpec | None = None
    #: What the connections page says about a platform without `oauth` (how its credential behaves).
    credential_note: str = ""

    @property
    def has_account(self) -> bool:
        """False for a platform with no account to act as (the outbox writes files): nothing to
        check before a campaign, no emulator in the sandbox."""
        return bool(self.credentials)


#: Meta's Page access tokens (Facebook Pages, Instagram through a Page) made from a long-lived user token.
_PAGE_TOKEN = ("a Page access token made from a long-lived user token, which Meta gives no expiry date; "
               "it dies if the admin's password or the app's permissions change")


PLATFORMS: dict[str, Platform] = {p.name: p for p in (
    # Page access token; clips go through Meta's Resumable Upload API, which stores the file under
    # an app (its id) with a user access token of a Page admin who has a role on the app.
    Platform("facebook", FacebookPublisher, facebook_text.check, facebook_figures.collect,
             optional_credentials=("APP_ID", "USER_TOKEN"), credential_note=_PAGE_TOKEN),
    Platform("instagram", InstagramPublisher, instagram_text.check, instagram_figures.collect,  # instagram_content_publish
             credential_note=_PAGE_TOKEN),
    Platform("x", XPublisher, x_text.check, x_figures.collect,  # OAuth 2.0 user-context bearer (tweet.write, media.write)
             optional_credentials=("CLIENT_ID", "CLIENT_SECRET"), oauth=x_oauth.OAUTH),
    Platform("linkedin", LinkedInPublisher, linkedin_text.check, linkedin_figures.collect,  # w_organization_social
             optional_credentials=("CLIENT_ID", "CLIENT_SECRET"), oauth=linkedin_oauth.OAUTH),
    Platform("mastodon", MastodonPublisher, mastodon_text.check, mastodon_figures.collect,  # write:statuses, write:media
             credential_note="an access token of the account's application: it does not expire"),
    Platform("bluesky", BlueskyPublisher, bluesky_text.check, bluesky_figures.collect,
             credentials=("IDENTIFIER", "PASSWORD"),  # handle or DID + app password
             display_link=bluesky_text.bluesky_display_link,
             credential_note="an app password: it does not expire (sessions renew themselves)"),
    # OAuth 2.0 bearer of the channel's owner (youtube.upload, youtube.force-ssl): Google's 1-hour tokens renew themselves
    Platform("youtube", YouTubePublisher, youtube_text.check, youtube_figures.collect,
             optional_credentials=("CLIENT_ID", "CLIENT_SECRET"), oauth=youtube_oauth.OAUTH),
    # threads_basic, threads_content_publish, threads_manage_insights; a long-lived token (60 days, refreshable after 24 h)
    Platform("threads", ThreadsPublisher, threads_text.check, threads_figures.collect,
             optional_credentials=("CLIENT_ID", "CLIENT_SECRET"), oauth=threads_oauth.OAUTH),
    Platform("outbox", OutboxPublisher, outbox_text.check, credentials=()),
)}


def platform_of(platform: Any) -> Platform:
    """The row of `platform` (a name or the calendar's `Platform` value)."""
    name = getattr(platform, "value", platform)
    try:
        return PLATFORMS[name]
    except KeyError:
        raise ValueError(f"no publisher for platform {name!r} (choose from {', '.join(PLATFORMS)})") from None


def collector_for(platform: str) -> Collect | None:
    """The figures collector of `platform`, or None (the outbox has no figures)."""
    return platform_of(platform).collect


def check_caption(platform: str, text: str) -> list[str]:
    """Every rule the caption breaks on `platform`, as messages a manager can act on (empty: fine)."""
    return list(_caption_problems(platform, text))


@lru_cache(maxsize=4096)
def _caption_problems(platform: str, text: str) -> tuple[str, ...]:
    """`check_caption`, once per platform and text: the rules are pure functions of the text, and
    counting as X does (twitter-text's emoji and URL expressions) costs milliseconds per caption,
    while a campaign of thousands of posts has a few dozen distinct ones."""
    problems = list(platform_of(platform).check_text(text))
    if not text.strip():
        problems.append("the caption is empty — check the caption template")
    return tuple(problems)


def credentials_for(channel_id: str, platform: Any, *, env: Mapping[str, str] = os.environ,
                    secrets_file: Path | None = None, required: tuple[str, ...] | None = None) -> Credentials:
    """The channel's credentials from the environment or the secrets file, with the names its
    platform needs (AuthError names what is missing and where to put it); `required=()` when the
    token comes from the store's vault (scheduler.connections.credentials)."""
    row = platform_of(platform)
    return Credentials.for_channel(channel_id, row.name, env=env, secrets_file=secrets_file,
                                   required=row.credentials if required is None else required)


def resolve_api(channel: Channel, api_overrides: dict[str, str] | None) -> dict[str, str | None]:
    settings = {key: getattr(channel.api, key) for key in _API_KEYS}
    settings.update({k: v for k, v in (api_overrides or {}).items() if v})
    return {k: v for k, v in settings.items() if v}


def publisher_for(
    channel: Channel,
    *,
    credentials: Credentials | None = None,
    outbox_dir: Path = Path("outbox"),
    api_overrides: dict[str, str] | None = None,
    timeout: float = 30.0,
    clock: Clock | None = None,
    **options: Any,
) -> Publisher:
    """The publisher of `channel`. Credentials default to `credentials_for` (env or secrets file;
    AuthError when missing). `options` go to the publisher (chunk_size, poll_interval,
    max_processing_wait, chunk_retries)."""
    row = platform_of(channel.platform)
    if credentials is None and row.credentials:
        credentials = credentials_for(channel.id, row.name)
    return row.publisher.for_channel(channel.id, channel.account, credentials, api=resolve_api(channel, api_overrides),
                                     outbox_dir=outbox_dir, timeout=timeout, clock=clock, **options)
