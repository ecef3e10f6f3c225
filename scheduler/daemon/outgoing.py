"""Turn a stored post into what a publisher sends (text, media file, public media URL)."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from assets.manifest import refusal_reason
from assets.pipeline import CAPTIONS
from scheduler.platforms.base import OutgoingMedia, OutgoingPost
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


def to_outgoing(post: StoredPost, *, build_dir: Path, media_base_url: str | None = None) -> OutgoingPost:
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
        public = f"{media_base_url.rstrip('/')}/{post.media.path}" if media_base_url else None
        media = (OutgoingMedia(path=path, kind=post.media.kind, mime_type=mime, alt_text=post.media.alt_text,
                               width=post.media.width, height=post.media.height, public_url=public,
                               captions=captions_of(build_dir, post.media.testimonial_id) if post.media.kind == "clip" else ()),)
    return OutgoingPost(post_id=post.id, idempotency_key=post.idempotency_key, channel_id=post.channel_id,
                        account=post.account, language=post.language, text=post.caption,  # the planner's final text, checked at plan time
                        link=post.link, media=media, scheduled_at=post.scheduled_at)
