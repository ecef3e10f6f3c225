"""Read what a media file really is (streams, codecs, duration, rotation) with PyAV, no ffprobe.

The ffmpeg binary from imageio-ffmpeg ships without ffprobe; PyAV links the same libraries
and also lets us decode the first frame, which catches truncated or corrupt files early.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from campaign.errors import AssetError


@dataclass(frozen=True)
class MediaInfo:
    """What the conformance check and the clip renderer need to know about a file."""

    container: str
    duration: float
    video_codec: str | None
    width: int  # as displayed (after rotation)
    height: int
    pix_fmt: str | None
    fps: float
    rotation: int  # degrees the player turns the stored frames (0, 90, 180, 270)
    audio_codec: str | None
    audio_rate: int
    audio_channels: int
    profile: str | None = None

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None


def probe(path: Path, decode_first_frame: bool = True) -> MediaInfo:
    """Open a clip and (optionally) decode its first frame; AssetError if it is not a usable video."""
    # PyAV costs 0.1 s of start-up (measured): imported only when a clip is probed
    import av

    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError, ValueError) as error:
        raise AssetError(f"{path.name}: not a readable video ({_short(error)}) — re-export it as MP4 (H.264 + AAC)") from None
    with container:
        if not container.streams.video:
            raise AssetError(f"{path.name}: has no video stream — export the clip with its picture")
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        rotation = 0
        width, height = video.codec_context.width, video.codec_context.height
        if decode_first_frame:
            try:
                frame = next(container.decode(video=0))
            except (av.error.FFmpegError, StopIteration, OSError, ValueError) as error:
                raise AssetError(
                    f"{path.name}: the video cannot be decoded ({_short(error)}) — the file is corrupt or truncated; copy it again"
                ) from None
            rotation = int(round(getattr(frame, "rotation", 0) or 0)) % 360
            width, height = frame.width, frame.height
        if rotation in (90, 270):
            width, height = height, width
        duration = _duration(container, video)
        rate = video.average_rate or video.base_rate or video.guessed_rate
        return MediaInfo(
            container=container.format.name,
            duration=duration,
            video_codec=video.codec_context.name,
            width=width,
            height=height,
            pix_fmt=video.codec_context.pix_fmt,
            fps=float(rate) if rate else 0.0,
            rotation=rotation,
            audio_codec=audio.codec_context.name if audio else None,
            audio_rate=audio.codec_context.sample_rate if audio else 0,
            audio_channels=audio.codec_context.channels if audio else 0,
            profile=video.codec_context.profile,
        )


def audio_peak_dbfs(path: Path) -> float:
    """Loudest sample of the first audio track in dBFS (-inf when it is all silence).

    A muted export keeps its audio track, so "has audio" is not enough: this decodes the
    track (AAC decodes at hundreds of times real time) and finds its peak."""
    # PyAV costs 0.1 s of start-up (measured): imported only when a clip is probed
    import av
    import numpy as np

    peak = 0.0
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return -math.inf
        for frame in container.decode(audio=0):
            samples = frame.to_ndarray()
            if samples.size == 0:
                continue
            if np.issubdtype(samples.dtype, np.integer):
                loudest = float(np.abs(samples.astype(np.int64)).max()) / float(np.iinfo(samples.dtype).max)
            else:
                loudest = float(np.abs(samples).max())
            peak = max(peak, loudest)
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def _duration(container, video) -> float:  # type: ignore[no-untyped-def]
    if container.duration:
        return container.duration / 1_000_000
    if video.duration and video.time_base:
        return float(video.duration * video.time_base)
    return 0.0


def _short(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text if len(text) < 160 else text[:157] + "..."


def moov_before_mdat(path: Path) -> bool:
    """`+faststart`: the index (moov) comes before the media data, so playback starts at once."""
    with path.open("rb") as handle:
        offset = 0
        size = path.stat().st_size
        while offset + 8 <= size:
            handle.seek(offset)
            header = handle.read(16)
            box_size = int.from_bytes(header[:4], "big")
            box_type = header[4:8]
            if box_type == b"moov":
                return True
            if box_type == b"mdat":
                return False
            if box_size == 1:
                box_size = int.from_bytes(header[8:16], "big")
            elif box_size == 0:
                return False
            if box_size < 8:
                return False
            offset += box_size
    return False


def first_frame_rgb(path: Path):  # type: ignore[no-untyped-def]
    """The first frame as displayed (rotation applied), as an RGB numpy array, for face detection."""
    # PyAV costs 0.1 s of start-up (measured): imported only when a clip is probed
    import av
    import numpy as np

    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        turns = int(round((getattr(frame, "rotation", 0) or 0) / 90)) % 4
        rgb = frame.to_ndarray(format="rgb24")
    return np.ascontiguousarray(np.rot90(rgb, k=turns)) if turns else rgb
