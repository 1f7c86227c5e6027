"""Screen share and camera frames of a recorded meeting, in the codec the client asked for.

What is sent (so a test can predict it):
- Share (MEDIA_DATA_SHARE, 16): while a share of the fixture runs, one frame per 1/fps of
  stream time on the socket carrying deskshare, showing the slide on screen at that moment,
  with the sharer's `user_id` and `user_name`. fps is the client's (`media_params.deskshare`),
  at most 5 for JPG and PNG (Zoom's limit) and 30 for H.264; 1 when it said none.
- Video (MEDIA_DATA_VIDEO, 15): the same pace on the socket carrying video, one frame per
  camera that the client's `data_opt` selects: VIDEO_SINGLE_ACTIVE_STREAM (the default) the
  active speaker's camera, VIDEO_SINGLE_INDIVIDUAL_STREAM the camera of the participant the
  client subscribed to (VIDEO_SUBSCRIPTION_REQ, 28), the gallery every camera that is on.
- JPG and PNG frames are the picture re-encoded once (Pillow); H.264 frames are one IDR access
  unit in Annex-B (PyAV's encoder), sent again for every frame (a still picture). Pillow and
  PyAV are imported only when a meeting has pictures to send.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rtms_ingest.protocol import (
    BinaryContent,
    DeskshareParams,
    ShareData,
    VideoCodec,
    VideoData,
    VideoDataOption,
    VideoParams,
)
from rtms_ingest.simulator.fixture import RecordedMeeting

if TYPE_CHECKING:
    from rtms_ingest.simulator.player import StreamClock
    from rtms_ingest.simulator.session import SimulatedStream

MAX_STILL_FPS = 5  # JPG and PNG (reference §3.1)
MAX_H264_FPS = 30


def frame_fps(params: VideoParams | DeskshareParams | None) -> int:
    """Frames per stream second for the negotiated params (see the module's rules)."""
    if params is None or not params.fps:
        return 1
    cap = MAX_H264_FPS if params.codec == VideoCodec.H264 else MAX_STILL_FPS
    return max(1, min(int(params.fps), cap))


def encode_picture(path: Path, codec: int) -> bytes:
    """The picture at `path` as one frame in `codec` (JPG, PNG or an H.264 IDR access unit)."""
    from PIL import Image

    with Image.open(path) as opened:
        picture = opened.convert("RGB")
    if codec == VideoCodec.H264:
        return h264_keyframe(picture)
    out = io.BytesIO()
    if codec == VideoCodec.PNG:
        picture.save(out, format="PNG")
    else:
        picture.save(out, format="JPEG", quality=85)
    return out.getvalue()


def h264_keyframe(picture: object) -> bytes:
    """One H.264 IDR access unit (Annex-B, with SPS and PPS) showing `picture` (a PIL image)."""
    import av

    width, height = picture.size  # type: ignore[attr-defined]
    codec = av.CodecContext.create("libx264", "w")
    codec.width, codec.height = width - width % 2, height - height % 2
    codec.pix_fmt = "yuv420p"
    codec.options = {"preset": "ultrafast", "tune": "stillimage", "x264-params": "keyint=1"}
    frame = av.VideoFrame.from_image(picture).reformat(
        width=codec.width, height=codec.height, format="yuv420p"
    )
    packets = list(codec.encode(frame)) + list(codec.encode(None))
    return b"".join(bytes(packet) for packet in packets)


@dataclass
class PictureCache:
    """Each picture encoded once per codec."""

    encoded: dict[tuple[Path, int], bytes] = field(default_factory=dict)

    async def get(self, path: Path, codec: int) -> bytes:
        key = (path, codec)
        if key not in self.encoded:
            self.encoded[key] = await asyncio.to_thread(encode_picture, path, codec)
        return self.encoded[key]


class VisualPlayer:
    """Plays the meeting's shares and cameras onto one stream until cancelled or the end."""

    def __init__(self, stream: SimulatedStream, clock: StreamClock, cache: PictureCache) -> None:
        self.stream = stream
        self.meeting: RecordedMeeting = stream.meeting
        self.clock = clock
        self.cache = cache

    @property
    def has_pictures(self) -> bool:
        return bool(self.meeting.shares or self.meeting.videos)

    async def run(self, from_ms: int = 0) -> None:
        """Send frames from stream time `from_ms` to the end of the meeting."""
        if not self.has_pictures:
            return
        end_ms = round(self.meeting.duration_s * 1000)
        share_next = video_next = from_ms
        while True:
            now = self.clock.now_ms()
            if now >= end_ms:
                return
            if now >= share_next:
                share_next = now + await self._send_share(now)
            if now >= video_next:
                video_next = now + await self._send_video(now)
            await self.clock.sleep_until(min(share_next, video_next, end_ms))

    async def _send_share(self, now: int) -> int:
        """Send the share frame due now, if any; the stream ms until the next one."""
        target = self.stream.visual_target("deskshare")
        if target is None:
            return 200
        connection, params = target
        interval = 1000 // frame_fps(params)
        t_s = now / 1000
        for share in self.meeting.shares:
            slide = share.slide_at(t_s)
            if slide is None:
                continue
            data = await self.cache.get(slide.image, params.codec or VideoCodec.JPG)
            content = self._content(data, now, share.user_id)
            await connection.send(ShareData(content), "share", (share.user_id, slide.at_s))
        return interval

    async def _send_video(self, now: int) -> int:
        """Send the camera frames due now; the stream ms until the next ones."""
        target = self.stream.visual_target("video")
        if target is None:
            return 200
        connection, params = target
        interval = 1000 // frame_fps(params)
        for video in self.meeting.videos:
            if not video.start_s <= now / 1000 < video.end_s or not self._selected(
                video.user_id, params
            ):
                continue
            data = await self.cache.get(video.image, params.codec or VideoCodec.JPG)
            content = self._content(data, now, video.user_id)
            await connection.send(VideoData(content), "video", (video.user_id,))
        return interval

    def _selected(self, user_id: int, params: VideoParams | DeskshareParams) -> bool:
        option = getattr(params, "data_opt", None)
        if option == VideoDataOption.VIDEO_SINGLE_INDIVIDUAL_STREAM:
            return self.stream.video_subscription == user_id
        if option in (None, VideoDataOption.VIDEO_SINGLE_ACTIVE_STREAM):
            return self.stream.active_speaker in (None, user_id)
        return True

    def _content(self, data: bytes, now: int, user_id: int) -> BinaryContent:
        try:
            name = self.meeting.user_name(user_id)
        except KeyError:
            name = ""
        return BinaryContent(
            data=data,
            timestamp=self.clock.wire(now),
            user_id=user_id,
            user_name=name,
            length=len(data),
        )
