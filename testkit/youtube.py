"""YouTube test helpers: tiny generated clips (one landscape clip of three 256 KiB chunks, one
vertical Short), subtitle files, a rig maker with the emulator's project settings, and a clip post."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from campaign.post import idempotency_key
from scheduler.platforms.base import OutgoingMedia, OutgoingPost
from testkit.assets import make_clip, write_srt
from testkit.channels import ACCOUNTS, START, Rig, rig

KiB = 1024
CAPTION = "Why Belgium? Aiko Tanaka on research in Leuven\nBelgium is open to the world. #EmbracingOpenness https://example.be/aiko"
#: The French and Dutch texts a post of the channel's other languages carries (`localizations`).
LOCALIZED = (("fr", "Pourquoi la Belgique ? Aiko Tanaka et la recherche à Louvain\nLa Belgique est ouverte au monde."),
             ("nl", "Waarom België? Aiko Tanaka over onderzoek in Leuven\nBelgië is open voor de wereld."))


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("youtube")
    # noise makes the landscape clip ~0.6 MB: three 256 KiB chunks, so a resume has bytes to skip
    landscape = make_clip(root / "landscape_16x9.en.mp4", seconds=1.0, size="256x144",
                          video="testsrc2=size=256x144:rate=30:duration=1,noise=alls=100:allf=t")
    vertical = make_clip(root / "story_9x16.en.mp4", seconds=1.0, size="180x320")
    return {"landscape": landscape, "vertical": vertical, "en": write_srt(root / "aiko.en.srt"),
            "fr": write_srt(root / "aiko.fr.srt", "Bonjour de Belgique")}


@pytest.fixture
def youtube() -> Iterator[Any]:
    """make(**options) -> Rig: the YouTube emulator and a publisher on it (256 KiB chunks);
    `daily_quota=` and `audited=` set the emulator's project, the rest go to the publisher."""
    made: list[Rig] = []

    def make(**options: Any) -> Rig:
        project = {k: options.pop(k) for k in ("daily_quota", "audited") if k in options}
        made.append(rig("youtube", chunk_size=options.pop("chunk_size", 256 * KiB), emulator_options=project, **options))
        return made[-1]

    yield make
    for r in made:
        r.publisher.close()
        r.emulator.stop()


def clip_post(clips: dict[str, Path], *, kind: str = "landscape", captions: tuple[str, ...] = (), text: str = CAPTION,
              post_id: str = "science-day.2027.be-youtube.en",
              localizations: tuple[tuple[str, str], ...] = ()) -> OutgoingPost:
    path = clips[kind]
    width, height = (256, 144) if kind == "landscape" else (180, 320)
    media = OutgoingMedia(path, "clip", "video/mp4", "Aiko Tanaka speaks", width, height,
                          captions=tuple((language, clips[language]) for language in captions))
    return OutgoingPost(post_id=post_id, idempotency_key=idempotency_key(post_id), channel_id="be-youtube",
                        account=ACCOUNTS["youtube"], language="en", text=text, media=(media,), scheduled_at=START,
                        localizations=localizations)
