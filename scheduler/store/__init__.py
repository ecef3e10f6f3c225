"""The durable store: the one truth about every post, attempt, asset, approval and pause."""

from scheduler.store import states
from scheduler.store.engine import DEFAULT_URL, ENV_URL, resolve_url
from scheduler.store.rows import Claim, StoredPost
from scheduler.store.store import ALL_CHANNELS, Store, new_worker_id
from scheduler.store.sync import SyncReport, sync_plan


def record_assets(manifest_entries, *, store: Store | None = None, url: str | None = None, now=None) -> int:  # type: ignore[no-untyped-def]
    """What the inbox watcher calls after rendering: record each file (path, variant, language,
    testimonial, content hash, rendered_at) in the store at `url` (or `CAMPAIGN_DB_URL`)."""
    owned = store is None
    store = store or Store(url)
    try:
        return store.record_assets(manifest_entries, now)
    finally:
        if owned:
            store.close()


__all__ = ["ALL_CHANNELS", "Claim", "DEFAULT_URL", "ENV_URL", "Store", "StoredPost", "SyncReport",
           "new_worker_id", "record_assets", "resolve_url", "states", "sync_plan"]
