"""The render-progress record: what local renders and queue workers write, and what the console reads."""

from __future__ import annotations

import datetime as dt

from assets.needs import RenderJob
from campaign.platforms import VARIANTS
from scheduler.store.renders import StoreRenderListener, record_rendering, render_counts, render_progress

T0 = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.timezone.utc)


def job(testimonial: str = "aiko-tanaka", variant: str = "story_9x16", language: str = "ja") -> RenderJob:
    return RenderJob(output=f"{testimonial}/{variant}.{language}.mp4", testimonial_id=testimonial, kind="clip",
                     variant=VARIANTS[variant], language=language, source=f"{testimonial}.mp4",
                     subtitles=None, platforms=("instagram",))


def test_an_output_goes_from_queued_to_rendering_to_done(store):
    clock = iter(T0 + dt.timedelta(seconds=n) for n in range(100))
    listener = StoreRenderListener(store, lambda: next(clock), min_interval=0, worker="host-a:1")
    clip, other = job(), job(variant="feed_4x5")
    listener.queued([clip, other])
    assert [(p.output, p.state, p.percent) for p in render_progress(store)] == [
        (other.output, "queued", 0), (clip.output, "queued", 0)]  # by output path
    listener.rendering(clip, 0)
    listener.rendering(clip, 42)
    row = render_progress(store, outputs=[clip.output])[0]
    assert (row.state, row.percent, row.worker, row.tries, row.kind, row.language) == ("rendering", 42, "host-a:1", 1, "clip", "ja")
    assert row.started_at == T0 + dt.timedelta(seconds=1) and row.started_at.tzinfo is not None
    listener.done(clip)
    listener.refused(other, "the clip lasts 2.0 s; instagram need at least 3 s — supply a longer clip")
    refused, done = render_progress(store)
    assert (done.state, done.percent, done.finished_at) == ("done", 100, T0 + dt.timedelta(seconds=3))
    assert (refused.state, refused.reason) == ("refused", "the clip lasts 2.0 s; instagram need at least 3 s — supply a longer clip")
    assert render_counts(store) == {"done": 1, "refused": 1}
    assert [p.output for p in render_progress(store, states=["refused"])] == [other.output]
    assert render_progress(store, testimonial="nobody") == []


def test_a_render_started_again_elsewhere_counts_a_try_and_never_shows_100_before_done(store):
    clip = job()
    record_rendering(store, clip, 150, T0, worker="host-a:1")  # a killed worker's job ...
    record_rendering(store, clip, 0, T0 + dt.timedelta(minutes=1), worker="host-b:2")  # ... redelivered to another
    record_rendering(store, clip, 30, T0 + dt.timedelta(minutes=2), worker="host-b:2")
    row = render_progress(store)[0]
    assert (row.worker, row.tries, row.percent) == ("host-b:2", 2, 30)
    assert row.started_at == T0 + dt.timedelta(minutes=1)


def test_percent_updates_are_thinned_but_starts_and_outcomes_are_always_written(store):
    listener = StoreRenderListener(store, min_interval=3600)
    clip = job()
    listener.rendering(clip, 0)
    listener.rendering(clip, 50)  # within the interval: not written
    assert render_progress(store)[0].percent == 0
    listener.done(clip)
    assert render_progress(store)[0].state == "done"


def test_a_failing_store_never_fails_the_render(sqlite_store):
    seen: list[Exception] = []
    listener = StoreRenderListener(sqlite_store, on_error=seen.append)
    sqlite_store.engine.dispose()
    with sqlite_store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE render_progress")
    listener.done(job())
    assert len(seen) == 1
