"""A Bluesky clip the video service is still processing is a state, not a wait: with a durable
ledger the publish answers `Pending` after its short inline wait, and the next publish continues
from the ledger (the job id), never uploading the clip a second time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from testkit.channels import make_media, make_post
from scheduler.platforms.base import CREATE_SENT, Pending, PublishResult, StepLedger


def test_a_clip_still_processing_is_pending_and_continues_from_the_ledger(rigs: Any, media_dir: Path) -> None:
    rig = rigs("bluesky", inline_wait=0.0)
    rig.emulator.processing_polls = 3  # the job reports "encoding" three times before it is done
    post = make_post("bluesky", make_media(media_dir, "clip"))
    ledger = StepLedger(durable=True)

    with pytest.raises(Pending) as pending:
        rig.publisher.publish(post, ledger)
    assert pending.value.check_after > 0
    assert ledger.get("video_job") is not None
    assert ledger.get(CREATE_SENT) is None, "nothing was created while the clip was processing"
    assert rig.emulator.published == []

    result: PublishResult | None = None
    for _ in range(6):  # each later pass asks once, as the dispatcher would after `check_after`
        try:
            result = rig.publisher.publish(post, ledger)
            break
        except Pending:
            continue
    assert result is not None
    uploads = [path for method, path in rig.emulator.requests if path.endswith("app.bsky.video.uploadVideo")]
    assert len(uploads) == 1, "the clip went up once; later passes only asked for its job's status"
    assert len(rig.emulator.published) == 1
    assert ledger.get("video_blob") is not None


def test_without_a_durable_ledger_the_publish_waits_inline_as_before(rigs: Any, media_dir: Path) -> None:
    rig = rigs("bluesky", inline_wait=0.0)
    rig.emulator.processing_polls = 2
    result = rig.publisher.publish(make_post("bluesky", make_media(media_dir, "clip")))  # a bare in-memory ledger
    assert result.remote_id.startswith("at://")
    assert len(rig.emulator.published) == 1
