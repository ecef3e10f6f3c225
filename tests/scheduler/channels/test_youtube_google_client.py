"""Google's own client, google-api-python-client (YouTube's discovery document ships with it, so it
runs offline), judges the YouTube emulator: it uploads a video with MediaFileUpload(resumable=True)
and next_chunk(), inserts a caption and reads statistics back; and it reads what our publisher
uploaded while our figures collector reads what it uploaded: both agree. Cost: about 1 s."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Callable, Iterator

import httplib2
import pytest
from google_auth_httplib2 import AuthorizedHttp
from google.auth.exceptions import RefreshError
from google.oauth2.credentials import Credentials as GoogleCredentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaFileUpload

from scheduler.platforms.registry import collector_for
from testkit.channels import FAKE_TOKEN

from testkit.youtube import LOCALIZED, KiB, clip_post, clips, youtube  # noqa: F401 - clips, youtube: fixtures


class _UploadsOverHttp(httplib2.Http):
    """With `api_endpoint`, googleapiclient (2.202) moves media uploads to the endpoint's host but
    keeps the discovery document's https scheme (`_fix_up_media_path_base_url` replaces the netloc
    only): the emulator speaks plain HTTP on loopback, so those requests go to it over HTTP,
    unchanged otherwise (the client still builds every request and reads every answer)."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.redirect_codes = self.redirect_codes - {308}  # as googleapiclient.http.build_http does: 308 is "resume incomplete"
        self.secure = base_url.replace("http://", "https://", 1)
        self.plain = base_url

    def request(self, uri: str, *args: Any, **kwargs: Any) -> Any:
        if uri.startswith(self.secure):
            uri = self.plain + uri[len(self.secure):]
        return super().request(uri, *args, **kwargs)


def google_client(base_url: str, token: str = FAKE_TOKEN) -> Any:
    # api_endpoint replaces the discovery document's rootUrl (https://youtube.googleapis.com/)
    http = AuthorizedHttp(GoogleCredentials(token=token), http=_UploadsOverHttp(base_url))
    return build("youtube", "v3", static_discovery=True, cache_discovery=False, http=http,
                 client_options={"api_endpoint": base_url})


@pytest.fixture
def google() -> Iterator[Callable[..., Any]]:
    """google_client(...), each one closed at the end (its httplib2 connections)."""
    made: list[Any] = []

    def make(base_url: str, token: str = FAKE_TOKEN) -> Any:
        made.append(google_client(base_url, token))
        return made[-1]

    yield make
    for client in made:
        client.close()
        client._http.http.close()


def upload(client: Any, path: Path, title: str) -> dict[str, Any]:
    body = {"snippet": {"title": title, "description": "Uploaded by Google's client", "defaultLanguage": "en"},
            "status": {"privacyStatus": "unlisted"},
            "localizations": {"fr": {"title": "Téléversé", "description": "Par le client de Google"}}}
    media = MediaFileUpload(str(path), mimetype="video/mp4", chunksize=256 * KiB, resumable=True)
    request = client.videos().insert(part="snippet,status,localizations", body=body, media_body=media)
    response, chunks = None, 0
    while response is None:
        status, response = request.next_chunk()
        chunks += 1
    assert chunks >= 3  # one 308 per 256 KiB chunk before the last
    return response


def test_google_client_uploads_captions_and_reads_statistics(youtube, clips, google) -> None:  # noqa: F811
    r = youtube()
    client = google(r.emulator.base_url)
    video = upload(client, clips["landscape"], "Google's client")
    assert video["status"]["uploadStatus"] == "uploaded" and video["status"]["privacyStatus"] == "private"  # unaudited
    [entry] = r.emulator.published
    assert entry["id"] == video["id"] and entry["languages"] == ["fr"]
    assert entry["media"][0]["sha256"] == hashlib.sha256(clips["landscape"].read_bytes()).hexdigest()
    caption = client.captions().insert(
        part="snippet", body={"snippet": {"videoId": video["id"], "language": "fr", "name": ""}},
        media_body=MediaFileUpload(str(clips["fr"]), mimetype="application/octet-stream")).execute()
    assert caption["snippet"]["language"] == "fr" and r.emulator.caption_text(video["id"], "fr")
    listed = client.videos().list(part="statistics,status,processingDetails", id=video["id"]).execute()
    [item] = listed["items"]
    assert set(item["statistics"]) >= {"viewCount", "likeCount", "commentCount"}
    # our collector reads the video Google's client uploaded, and sees what the client sees
    r.clock.advance(3600 * 24)
    figures = collector_for("youtube")(r.publisher, video["id"], "clip")
    again = client.videos().list(part="statistics", id=video["id"]).execute()["items"][0]["statistics"]
    assert figures.video_views == int(again["viewCount"]) > 0 and figures.likes == int(again["likeCount"])
    assert figures.replies == int(again["commentCount"])


def test_google_client_reads_what_our_publisher_uploaded(youtube, clips, google) -> None:  # noqa: F811
    r = youtube()
    result = r.publisher.publish(clip_post(clips, captions=("en", "fr"), localizations=LOCALIZED))
    client = google(r.emulator.base_url)
    [item] = client.videos().list(part="snippet,status,localizations", id=result.remote_id).execute()["items"]
    assert item["snippet"]["title"] == "Why Belgium? Aiko Tanaka on research in Leuven"
    assert item["snippet"]["defaultLanguage"] == "en" and item["localizations"]["en"]["title"] == item["snippet"]["title"]
    # one video, every language of the channel: a title and description per language
    assert sorted(item["localizations"]) == ["en", "fr", "nl"]
    assert item["localizations"]["fr"] == {"title": "Pourquoi la Belgique ? Aiko Tanaka et la recherche à Louvain",
                                           "description": dict(LOCALIZED)["fr"]}
    assert item["localizations"]["nl"]["description"] == dict(LOCALIZED)["nl"]
    assert item["status"]["privacyStatus"] == "private" and item["status"]["uploadStatus"] == "processed"
    tracks = client.captions().list(part="snippet", videoId=result.remote_id).execute()["items"]
    assert sorted(t["snippet"]["language"] for t in tracks) == ["en", "fr"]
    channel = client.channels().list(part="snippet", mine=True).execute()["items"][0]
    assert item["snippet"]["channelId"] == channel["id"] and channel["snippet"]["customUrl"] == "@belgium"


def test_google_client_sees_google_errors(youtube, clips, google) -> None:  # noqa: F811
    r = youtube(daily_quota=100)
    client = google(r.emulator.base_url)
    with pytest.raises(HttpError) as raised:
        upload(client, clips["landscape"], "over quota")
    assert raised.value.status_code == 403 and raised.value.reason and raised.value.error_details[0]["reason"] == "quotaExceeded"
    # a token the emulator does not know answers 401: the client then asks to refresh it, which a bare
    # access token cannot (the token renewal is the channel's OAuth machinery, not the client's)
    with pytest.raises(RefreshError):
        google(r.emulator.base_url, token="expired").channels().list(part="snippet", mine=True).execute()
    assert ("GET", "/youtube/v3/channels") in r.emulator.requests
