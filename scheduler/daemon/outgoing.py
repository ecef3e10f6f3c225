"""Turn a stored post into what a publisher sends (text, media file, public media URL)."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from assets.manifest import refusal_reason
from assets.pipeline import CAPTIONS
from campaign.media_urls import MediaUrlError
from scheduler.media_links import MediaLinks
from scheduler.platforms.base import OutgoingMedia, OutgoingPost, PermanentError
from scheduler.store.rows import StoredPost


class MediaNotReady(Exception):
    """The post's rendered file is not in the build folder yet (the inbox may still bring it)."""


def captions_of(build_dir: Path, testimonial_id: str) -> tuple[tuple[str, Path], ...]:
    """(language, file) of each approved subtitle file of the testimonial's clip, as the render
    keeps them beside its variants (assets.pipeline.caption_tracks), for platforms that take
    caption tracks."""
    folder = build_dir / testimonial_id / CAPTIONS
    if not folder.is_dir():
        return ()
    return tuple((path.stem, path) for path in sorted(folder.iterdir()) if path.suffix in (".srt", ".vtt"))


def to_outgoing(post: StoredPost, *, build_dir: Path, media_links: MediaLinks | None = None) -> OutgoingPost:
    """What the publisher sends. With `media_links` (platforms that fetch by URL) the media carries
    the address the platform is given, made now: a signed one expires a set time after this call."""
    media: tuple[OutgoingMedia, ...] = ()
    if post.media is not None:
        path = build_dir / post.media.path
        if not path.is_file():
            refused = refusal_reason(build_dir, post.media.path)
            if refused:
                raise MediaNotReady(f"{post.media.path} was refused by the render pipeline: {refused} — "
                                   "drop a usable file in the inbox; the post waits for it")
            raise MediaNotReady(
                f"{post.media.path} is not rendered yet: drop {post.media.testimonial_id}'s "
                f"{post.media.kind} in the inbox or run `python run.py render`")
        mime = mimetypes.guess_type(path.name)[0] or ("video/mp4" if post.media.kind == "clip" else "image/jpeg")
        try:
            public = media_links.url_for(post.media.path, path) if media_links is not None else None
        except MediaUrlError as error:
            raise PermanentError(f"no address for {post.media.path}: {error}") from None
        media = (OutgoingMedia(path=path, kind=post.media.kind, mime_type=mime, alt_text=post.media.alt_text,
                               width=post.media.width, height=post.media.height, public_url=public,
                               relative_path=post.media.path,
                               captions=captions_of(build_dir, post.media.testimonial_id) if post.media.kind == "clip" else ()),)
    return OutgoingPost(post_id=post.id, idempotency_key=post.idempotency_key, channel_id=post.channel_id,
                        account=post.account, language=post.language, text=post.caption,  # the planner's final text, checked at plan time
                        link=post.link, media=media, scheduled_at=post.scheduled_at, localizations=post.localizations)
