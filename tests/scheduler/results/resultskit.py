"""Helpers for the results tests: published posts put straight into a store, as the daemon leaves them."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import insert

from scheduler.store import Store
from scheduler.store.rows import to_db
from scheduler.store.schema import posts


def add_published(store: Store, post_id: str, *, channel_id: str, platform: str, remote_id: str, published_at: dt.datetime,
                  language: str = "en", moment_id: str = "pride-2027", kind: str | None = "photo",
                  testimonial_id: str = "aiko-tanaka", state: str = "published", **extra: Any) -> None:
    media = None if kind is None else json.dumps({"testimonial_id": testimonial_id, "kind": kind, "variant": "feed_4x5",
                                                 "language": language, "path": f"{testimonial_id}/x.{language}.jpg",
                                                 "alt_text": "alt", "width": 1080, "height": 1350})
    values = {"id": post_id, "moment_id": moment_id, "occurrence": 2027, "channel_id": channel_id, "platform": platform,
              "account": "acct", "language": language, "scheduled_at": to_db(published_at),
              "local_time": published_at.isoformat(), "caption": f"caption of {post_id}", "link": None, "hashtags": "[]",
              "media": media, "needs_approval": False, "grace_seconds": 3600, "warnings": "[]", "content_hash": "0" * 32,
              "state": state, "idempotency_key": post_id[:64], "remote_id": remote_id, "remote_url": f"https://example/{remote_id}",
              "attempts": 1, "transient_failures": 0, "published_at": to_db(published_at), "updated_at": to_db(published_at),
              **extra}
    with store.engine.begin() as conn:
        conn.execute(insert(posts).values(**values))
