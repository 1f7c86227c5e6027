"""Share and camera frames made into pictures: decode, perceptual hash, thumbnail. Blocking.

Everything here runs in a thread (never on the event loop): decoding a 720p JPG takes a few
milliseconds, an H.264 key frame about ten. Frames are JPG, PNG or H.264 Annex-B; of H.264 only
key frames (an IDR slice, with its SPS and PPS) are decoded, each on its own, so a stream needs
no decoder state between the pictures it keeps and skipping the frames in between costs nothing.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = [
    "Picture",
    "analyse",
    "frame_kind",
    "hash_distance",
    "is_key_frame",
    "jpeg",
]

JPG, PNG, H264 = "jpg", "png", "h264"
THUMBNAIL_SIDE = 320  # px, the longer side of a slide's thumbnail
CAMERA_SIDE = 160  # px, a participant's camera thumbnail
# 16x16 DCT bits: two slides of one template whose text differs are 50+ bits apart, where the
# 8x8 hash (64 bits) put some within 4; JPG noise moves it by 0-4 bits.
HASH_SIZE = 16


def frame_kind(data: bytes) -> str:
    """JPG, PNG or H264, from the frame's first bytes (Zoom says the codec once, per socket)."""
    if data[:3] == b"\xff\xd8\xff":
        return JPG
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return PNG
    return H264


def is_key_frame(data: bytes) -> bool:
    """Whether a frame can be decoded alone: a still picture, or H.264 holding an IDR slice."""
    if frame_kind(data) != H264:
        return True
    start = data.find(b"\x00\x00\x01")
    while start >= 0 and start + 3 < len(data):
        if data[start + 3] & 0x1F == 5:  # nal_unit_type 5: coded slice of an IDR picture
            return True
        start = data.find(b"\x00\x00\x01", start + 3)
    return False


@dataclass(frozen=True)
class Picture:
    """A decoded frame: the image, its perceptual hash, and its kind."""

    image: Image
    hash: Any  # imagehash.ImageHash
    kind: str


def decode(data: bytes) -> Image | None:
    """The frame as an RGB image; None if it does not decode (a broken or partial frame)."""
    from PIL import Image, UnidentifiedImageError

    if frame_kind(data) == H264:
        return _decode_h264(data)
    try:
        with Image.open(io.BytesIO(data)) as opened:
            return opened.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError):
        return None


def _decode_h264(data: bytes) -> Image | None:
    import av

    codec = av.CodecContext.create("h264", "r")
    try:
        frames = list(codec.decode(av.Packet(data))) + list(codec.decode(None))
    except (av.error.FFmpegError, ValueError):
        return None
    return frames[-1].to_image() if frames else None


def analyse(data: bytes) -> Picture | None:
    """Decode a frame and hash it (DCT perceptual hash, 256 bits); None if it does not decode."""
    import imagehash

    image = decode(data)
    if image is None:
        return None
    return Picture(image, imagehash.phash(image, hash_size=HASH_SIZE), frame_kind(data))


def hash_distance(a: Any, b: Any) -> int:
    """How many of the 256 bits two perceptual hashes differ in."""
    return int(a - b)


def jpeg(image: Image, longest_side: int | None = None, quality: int = 85) -> bytes:
    """The image as JPG bytes, scaled down (never up) to `longest_side` if given."""
    if longest_side is not None and max(image.size) > longest_side:
        image = image.copy()
        image.thumbnail((longest_side, longest_side))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality)
    return out.getvalue()
