"""The outbox: the default channel that needs no account. Each post becomes a folder
`<outbox_dir>/<channel>/<post_id>/` holding `post.json` and a copy of its media, written
in a temporary folder and renamed into place so a reader never sees half a post.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from campaign.clock import Clock, SystemClock
from scheduler.platforms.base import OutgoingPost, PermanentError, Publisher, PublishResult, StepLedger, TransientError
from scheduler.platforms.credentials import Credentials


class OutboxPublisher(Publisher):
    platform = "outbox"
    can_find_existing = True
    idempotency_window_seconds = float("inf")

    def __init__(self, channel_id: str, account: str = "outbox", *, outbox_dir: Path = Path("outbox"), clock: Clock | None = None) -> None:
        self.channel_id = channel_id
        self.account = account
        self.outbox_dir = Path(outbox_dir)
        self.clock = clock or SystemClock()

    @classmethod
    def for_channel(cls, channel_id: str, account: str, credentials: Credentials | None, *, api: dict[str, str | None],
                    outbox_dir: Path, timeout: float, clock: Clock | None, **options: Any) -> "OutboxPublisher":
        """The registry's way to build it: the outbox needs no credentials, API or options."""
        return cls(channel_id, account, outbox_dir=outbox_dir, clock=clock)

    def folder(self, post: OutgoingPost) -> Path:
        return self.outbox_dir / self.channel_id / post.post_id

    def _result(self, folder: Path) -> PublishResult:
        return PublishResult(folder.name, folder.resolve().as_uri(), {"folder": str(folder)})

    def find_existing(self, post: OutgoingPost) -> PublishResult | None:
        folder = self.folder(post)
        return self._result(folder) if (folder / "post.json").is_file() else None

    def publish(self, post: OutgoingPost, ledger: StepLedger | None = None) -> PublishResult:
        existing = self.find_existing(post)
        if existing is not None:
            return existing
        (ledger or StepLedger()).create_sent()  # from here the folder may exist (renamed into place at the end)
        final = self.folder(post)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{post.post_id}.", dir=final.parent))
        except OSError as exc:
            raise TransientError(f"cannot write to the outbox folder {final.parent}: {exc.strerror}") from None
        try:
            media = []
            for index, item in enumerate(post.media):
                if not item.path.is_file():
                    raise PermanentError(f"the rendered media {item.path} is missing — render the assets again")
                name = f"{index + 1:02d}-{item.path.name}"
                shutil.copy2(item.path, staging / name)
                media.append({"file": name, "kind": item.kind, "mime_type": item.mime_type, "alt_text": item.alt_text,
                              "width": item.width, "height": item.height, "bytes": item.path.stat().st_size})
            record = {
                "post_id": post.post_id, "idempotency_key": post.idempotency_key, "channel": post.channel_id,
                "account": post.account, "language": post.language, "text": post.text, "link": post.link,
                "scheduled_at": post.scheduled_at.isoformat() if post.scheduled_at else None,
                "written_at": self.clock.now().astimezone(dt.timezone.utc).isoformat(), "media": media,
            }
            (staging / "post.json").write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
            try:
                os.rename(staging, final)
            except OSError:
                if (final / "post.json").is_file():  # another worker wrote the same post first
                    return self._result(final)
                raise
        except OSError as exc:
            raise TransientError(f"cannot write post {post.post_id} to the outbox: {exc.strerror}") from None
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        return self._result(final)
