"""Just enough media probing for the emulators to hold uploads to `campaign.platforms.PLATFORMS`:
image format and size via Pillow, MP4 duration, size, codecs and moov-before-mdat by
reading the box tree (no ffmpeg needed at request time).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import struct
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from campaign.platforms import PLATFORMS
from emulators.wire import Reject


@dataclass(frozen=True)
class MediaInfo:
    kind: str  # "image" or "video"
    mime: str
    bytes: int
    width: int
    height: int
    duration: float = 0.0
    faststart: bool = True
    video_codec: str | None = None
    audio_codec: str | None = None
    sha256: str | None = None  # of the bytes received: the rehearsal compares them with the rendered file

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "mime": self.mime, "bytes": self.bytes, "width": self.width, "height": self.height,
                "duration": round(self.duration, 3), "sha256": self.sha256}


def _boxes(data: bytes, start: int, end: int):
    offset = start
    while offset + 8 <= end:
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        header = 8
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
            header = 16
        elif size == 0:
            size = end - offset
        if size < header:
            return
        yield kind.decode("latin-1"), offset + header, offset + size
        offset += size


def probe_mp4(data: bytes) -> MediaInfo:
    top = list(_boxes(data, 0, len(data)))
    names = [name for name, _, _ in top]
    if "ftyp" not in names or "moov" not in names:
        raise Reject(400, "the video is not an MP4/MOV file (no ftyp/moov box)")
    faststart = "mdat" not in names or names.index("moov") < names.index("mdat")
    _, moov_start, moov_end = top[names.index("moov")]
    duration, width, height = 0.0, 0, 0
    for name, start, end in _boxes(data, moov_start, moov_end):
        if name == "mvhd":
            version = data[start]
            if version == 1:
                timescale, length = struct.unpack(">IQ", data[start + 20 : start + 32])
            else:
                timescale, length = struct.unpack(">II", data[start + 12 : start + 20])
            duration = length / timescale if timescale else 0.0
        elif name == "trak":
            for sub, s, e in _boxes(data, start, end):
                if sub == "tkhd":
                    w, h = struct.unpack(">II", data[e - 8 : e])
                    if w and h:
                        width, height = w >> 16, h >> 16
    moov = data[moov_start:moov_end]
    video = "h264" if b"avc1" in moov else ("hevc" if b"hvc1" in moov or b"hev1" in moov else None)
    audio = "aac" if b"mp4a" in moov else None
    return MediaInfo("video", "video/mp4", len(data), width, height, duration, faststart, video, audio)


def probe(data: bytes, declared_mime: str | None = None) -> MediaInfo:
    return dataclasses.replace(_probe(data, declared_mime), sha256=hashlib.sha256(data).hexdigest())


def _probe(data: bytes, declared_mime: str | None) -> MediaInfo:
    if data[4:8] == b"ftyp":
        return probe_mp4(data)

    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt = (image.format or "").lower()
            width, height = image.size
    except (UnidentifiedImageError, OSError):
        raise Reject(400, f"the file is neither a supported image nor an MP4 (declared {declared_mime or 'no type'})") from None
    return MediaInfo("image", f"image/{fmt}", len(data), width, height)


def check(platform: str, info: MediaInfo) -> None:
    """Reject media the platform's limits (the shared spec table) do not allow."""
    spec = PLATFORMS[platform]
    mb = 1024 * 1024
    if info.kind == "image":
        fmt = info.mime.split("/")[-1]
        if fmt not in spec.image_formats:
            raise Reject(400, f"{platform} does not accept {fmt} images (accepted: {', '.join(spec.image_formats)})")
        if info.bytes > spec.image_max_bytes:
            raise Reject(413, f"the image is {info.bytes} bytes; {platform} accepts at most {spec.image_max_bytes}")
        if spec.image_aspect and info.height:
            low, high = spec.image_aspect
            if not low - 0.01 <= info.width / info.height <= high + 0.01:
                raise Reject(400, f"aspect ratio {info.width}x{info.height} is outside {low:.2f}-{high:.2f} for {platform}")
        return
    if info.bytes > spec.video_max_bytes:
        raise Reject(413, f"the video is {info.bytes / mb:.1f} MB; {platform} accepts at most {spec.video_max_bytes / mb:.0f} MB")
    if info.duration < spec.video_min_seconds - 0.05 or info.duration > spec.video_max_seconds:
        raise Reject(400, f"the video lasts {info.duration:.1f} s; {platform} accepts {spec.video_min_seconds}-{spec.video_max_seconds} s")
    if spec.video_codecs and info.video_codec not in (None, *spec.video_codecs):
        raise Reject(400, f"{platform} accepts only {', '.join(spec.video_codecs)} video, got {info.video_codec}")
    if spec.video_max_width and info.width > spec.video_max_width:
        raise Reject(400, f"the video is {info.width} px wide; {platform} accepts at most {spec.video_max_width}")
    if spec.video_max_height and info.height > spec.video_max_height:
        raise Reject(400, f"the video is {info.height} px high; {platform} accepts at most {spec.video_max_height}")
    if spec.video_aspect and info.height:
        low, high = spec.video_aspect
        if not low - 0.01 <= info.width / info.height <= high + 0.01:
            raise Reject(400, f"video aspect {info.width}x{info.height} is outside what {platform} accepts")
