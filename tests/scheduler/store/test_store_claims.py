"""Claims are atomic across engines; approvals, pauses, assets and the heartbeat are recorded."""

from __future__ import annotations

import datetime as dt
import threading

from testkit.scheduler import START, make_post, month_of_posts
from scheduler.store import ALL_CHANNELS, Store, record_assets, states, sync_plan


def test_two_engines_claiming_concurrently_never_share_a_post(store_spec):
    url, schema = store_spec
    setup = Store(url, schema=schema)
    sync_plan(setup, month_of_posts(80), START)
    later = START + dt.timedelta(days=31)
    claimed: list[list[str]] = [[], []]

    def worker(index: int) -> None:
        own = Store(url, schema=schema, create=False)
        while (claim := own.claim_next(f"w{index}:0:x", later, lease_seconds=60)) is not None:
            claimed[index].append(claim.post.id)
            own.record_published(claim, later, f"r-{claim.post.id}", None)
        own.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = claimed[0] + claimed[1]
    assert len(everything) == 80 and len(set(everything)) == 80
    assert {p.state for p in setup.all_posts()} == {states.PUBLISHED}
    assert len(setup.attempt_rows()) == 80
    setup.close()


def test_claim_respects_time_pause_rate_limit_and_approval(store):
    posts = [make_post("a", "be-x", START), make_post("b", "be-facebook", START),
             make_post("c", "be-linkedin", START, needs_approval=True)]
    sync_plan(store, posts, START)
    early = START - dt.timedelta(seconds=1)
    assert store.claim_next("w:1:x", early, lease_seconds=60) is None  # not yet due
    store.pause("be-x", "crisis", "anna", START)
    store.rate_limit("be-facebook", START + dt.timedelta(seconds=30))
    assert store.claim_next("w:1:x", START, lease_seconds=60) is None  # paused, limited, awaiting approval
    store.approve(by="chancellery", now=START, channel_id="be-linkedin")
    assert store.claim_next("w:1:x", START, lease_seconds=60).post.id == posts[2].id
    assert store.claim_next("w:1:x", START + dt.timedelta(seconds=30), lease_seconds=60).post.id == posts[1].id
    assert store.resume(None, "anna", START) == ["be-x"]
    assert store.claim_next("w:1:x", START, lease_seconds=60).post.id == posts[0].id
    store.pause(None, "national mourning", "anna", START)
    assert store.channel_states()[ALL_CHANNELS]["reason"] == "national mourning"
    audit = [(r["actor"], r["action"], r["target"]) for r in store.audit_rows()]
    assert ("chancellery", "approve", posts[2].id) in audit and ("anna", "pause", "be-x") in audit
    assert ("anna", "resume", "be-x") in audit and ("anna", "pause", ALL_CHANNELS) in audit


def test_record_assets_upserts_by_path_and_heartbeat(store):
    entry = {"path": "aiko-tanaka/feed_4x5.ja.jpg", "variant": "feed_4x5", "language": "ja",
             "testimonial_id": "aiko-tanaka", "content_hash": "abc", "rendered_at": START.isoformat()}
    assert record_assets([entry], store=store) == 1
    record_assets([{**entry, "content_hash": "def"}], store=store)
    rows = store.asset_rows()
    assert len(rows) == 1 and rows[0]["content_hash"] == "def" and rows[0]["testimonial_id"] == "aiko-tanaka"
    store.beat("w:1:x", START)
    store.beat("w:1:x", START + dt.timedelta(minutes=1))
    beats = store.heartbeats()
    assert len(beats) == 1 and beats[0]["at"] == START + dt.timedelta(minutes=1)


def test_no_credentials_column():
    from scheduler.store.schema import metadata

    names = {c.name for t in metadata.tables.values() for c in t.columns}
    assert not any(word in name for name in names for word in ("token", "password", "secret", "credential"))


def test_next_due_ignores_paused_channels_and_waits_for_rate_limits(store):
    first, second, third = (START + dt.timedelta(hours=h) for h in (1, 2, 3))
    sync_plan(store, [make_post("a", "be-x", first), make_post("b", "be-facebook", second, platform="facebook"),
                      make_post("c", "embassy-tokyo", third)], START)
    assert store.next_due_at() == first
    store.pause("be-x", "token revoked", "test", START)
    assert store.next_due_at() == second  # a paused channel waits for a person, not for the clock
    store.rate_limit("be-facebook", START + dt.timedelta(hours=5))
    assert store.next_due_at() == third  # be-facebook can only go at 5 h
    assert store.next_due_at(skip_channels=["embassy-tokyo"]) == START + dt.timedelta(hours=5)
    store.pause(None, "crisis", "test", START)
    assert store.next_due_at() is None
