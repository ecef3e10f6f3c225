"""The address a platform that fetches media by URL (Instagram, Threads) is given for a post's file.

Three kinds, chosen per channel by `links_for`:
- `SignedLinks`: `<media_urls.base_url>/signed/<token>/<file>`, served by the tool's web process
  (console/media.py); the token names the one file and expires (campaign/media_urls.py).
- `BucketLinks`: the file is copied to an S3-compatible bucket and handed out as a presigned GET
  address that expires (boto3, an optional dependency: `pip install .[s3]`).
- `PlainLinks`: the old `api.media_base_url` + relative path (predictable; validate warns).

`check_links` proves the address a platform will be given is reachable from outside: it fetches
a signed test address through the public base (or a test object of the bucket) and compares what
comes back.
"""

from __future__ import annotations

import datetime as dt
import posixpath
from pathlib import Path
from typing import Any, Mapping, Protocol
from urllib.parse import quote

import requests

from campaign.calendar.models import Calendar, Channel
from campaign.clock import Clock, SystemClock
from campaign.media_urls import MediaKeyMissing, MediaSigner, MediaUrlError, clean_relative, load_key
from campaign.platforms import PLATFORMS
from scheduler.platforms.base import AuthError, ChannelProblem, TransientError


class MediaLinks(Protocol):
    def url_for(self, relative_path: str, path: Path) -> str:
        """The address of the build folder's `relative_path` (the file at `path`) for one publish."""

    def check(self, channel_id: str, *, timeout: float = 10.0) -> list[ChannelProblem]:
        """Problems with reaching the addresses from outside (empty: a test address answered)."""


class PlainLinks:
    """`base + "/" + relative path`: unsigned, never expiring (the old `api.media_base_url`)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def url_for(self, relative_path: str, path: Path) -> str:
        return f"{self.base_url.rstrip('/')}/{quote(clean_relative(relative_path))}"

    def check(self, channel_id: str, *, timeout: float = 10.0) -> list[ChannelProblem]:
        return []  # the publisher's own check asks the plain host (Instagram: `_media_host_problems`)


class SignedLinks:
    """Signed, expiring addresses on the tool's web process."""

    def __init__(self, base_url: str, signer: MediaSigner) -> None:
        self.base_url = base_url
        self.signer = signer

    def url_for(self, relative_path: str, path: Path) -> str:
        return self.signer.url(self.base_url, relative_path)

    def check(self, channel_id: str, *, timeout: float = 10.0) -> list[ChannelProblem]:
        url, expected = self.signer.probe_url(self.base_url)
        return _fetch_problems(url, expected, channel_id, timeout=timeout,
                               fix="start `python run.py web` where `media_urls.base_url` points, with the same "
                                   "[media-urls] key as the daemon")


class BucketLinks:
    """Files copied to an S3-compatible bucket, handed out as presigned GET addresses."""

    def __init__(self, bucket: str, *, lifetime: float, endpoint_url: str | None = None, region: str | None = None,
                 client: Any | None = None) -> None:
        name, _, prefix = bucket.removeprefix("s3://").partition("/")
        self.bucket, self.prefix, self.lifetime = name, prefix.strip("/"), int(lifetime)
        if client is None:
            try:
                import boto3  # optional dependency (pip install .[s3]): only a bucket set-up needs it
                from botocore.config import Config
            except ImportError:
                raise AuthError("media_urls.bucket needs boto3: `pip install boto3` (or the project's [s3] extra)") from None
            # SigV4 presigned addresses (X-Amz-Expires, at most 7 days), what every S3-compatible service takes
            client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region, config=Config(signature_version="s3v4"))
        self.client = client

    def _key(self, relative_path: str) -> str:
        return posixpath.join(self.prefix, clean_relative(relative_path)) if self.prefix else clean_relative(relative_path)

    def url_for(self, relative_path: str, path: Path) -> str:
        key = self._key(relative_path)
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
            uploaded = head.get("ContentLength") == path.stat().st_size
        except Exception:  # noqa: BLE001 - botocore's ClientError (404) or no such bucket: upload and let that fail loudly
            uploaded = False
        try:
            if not uploaded:
                self.client.upload_file(str(path), self.bucket, key)
            return self.client.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": key},
                                                      ExpiresIn=self.lifetime)
        except Exception as exc:  # noqa: BLE001 - boto3's errors have no common base worth naming here
            raise TransientError(f"could not put {relative_path} in the media bucket s3://{self.bucket} "
                                 f"({type(exc).__name__}: {exc}) — check the bucket and its credentials") from None

    def check(self, channel_id: str, *, timeout: float = 10.0) -> list[ChannelProblem]:
        key = self._key(".media-url-check.txt")
        expected = f"embracing-openness media bucket check {dt.datetime.now(dt.timezone.utc).isoformat()}\n"
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=expected.encode(), ContentType="text/plain")
            url = self.client.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=300)
        except Exception as exc:  # noqa: BLE001
            return [ChannelProblem(f"channel {channel_id}: cannot write to the media bucket s3://{self.bucket} "
                                   f"({type(exc).__name__}: {exc}) — check the bucket name and its credentials")]
        return _fetch_problems(url, expected, channel_id, timeout=timeout, fix="check the bucket's endpoint and policy")


def _fetch_problems(url: str, expected: str, channel_id: str, *, timeout: float, fix: str) -> list[ChannelProblem]:
    shown = url.split("?")[0]  # a presigned query carries a signature: keep it out of messages
    try:
        answer = requests.get(url, timeout=timeout)
    except requests.RequestException as exc:
        return [ChannelProblem(f"channel {channel_id}: the media address {shown} is not reachable ({type(exc).__name__}) — "
                               f"the platform could not fetch any photo or clip; {fix}")]
    if answer.status_code != 200 or answer.text != expected:
        return [ChannelProblem(f"channel {channel_id}: the signed test address {shown} answered HTTP {answer.status_code}, "
                               f"not the test file — {fix}")]
    return []


def links_for(calendar: Calendar, channel: Channel, *, env: Mapping[str, str] | None = None,
              clock: Clock | None = None) -> MediaLinks | None:
    """The addresses `channel`'s platform is given for media: None when it uploads media itself
    (and has no `api.media_base_url`). AuthError when signing is set up without a key."""
    if channel.api.media_base_url:
        return PlainLinks(channel.api.media_base_url)
    settings = calendar.media_urls
    if settings is None or not PLATFORMS[channel.platform.value].media_by_url:
        return None
    lifetime = settings.lifetime.total_seconds()
    if settings.bucket:
        return BucketLinks(settings.bucket, lifetime=lifetime, endpoint_url=settings.endpoint_url, region=settings.region)
    try:
        key = load_key(env)
    except MediaKeyMissing as error:
        raise AuthError(f"channel {channel.id}: {error}") from None
    return SignedLinks(str(settings.base_url), MediaSigner(key, clock=clock or SystemClock(), lifetime=lifetime))


def sandbox_links(channel: Channel, base_url: str, key: str) -> MediaLinks | None:
    """In the sandbox: signed addresses on its own media server, for platforms that fetch by URL."""
    if not PLATFORMS[channel.platform.value].media_by_url:
        return None
    return SignedLinks(base_url, MediaSigner(key))


def check_links(calendar: Calendar, channel: Channel, links: MediaLinks | None, *, timeout: float = 10.0) -> list[ChannelProblem]:
    """`check`'s media line for one channel: can its platform fetch what it will be given?"""
    spec = PLATFORMS[channel.platform.value]
    if links is None:
        if not spec.media_by_url:
            return []
        return [ChannelProblem(f"{spec.label} fetches media from a public URL, but channel {channel.id} has no address to give "
                               "it — set `media_urls: {base_url: ...}` in calendar.yaml to the public address of "
                               "`python run.py web` (see the README, \"Media addresses\")")]
    try:
        return links.check(channel.id, timeout=timeout)
    except MediaUrlError as error:
        return [ChannelProblem(f"channel {channel.id}: {error}")]
