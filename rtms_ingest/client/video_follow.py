"""Following the active speaker's camera with VIDEO_SUBSCRIPTION_REQ (28), reference §2.8.

With `data_opt` VIDEO_SINGLE_INDIVIDUAL_STREAM Zoom sends the camera of the participant the
client subscribed to. The client moves its one subscription to each new active speaker: the
previous one is unsubscribed first, so at most one camera is ever streamed.
"""

from __future__ import annotations

import logging
import time

from rtms_ingest.client.channel import FrameChannel
from rtms_ingest.protocol import VideoSubscriptionRequest, VideoSubscriptionResponse

__all__ = ["SpeakerFollower"]

log = logging.getLogger("rtms_ingest.client")


class SpeakerFollower:
    """Keeps the stream's one video subscription on the active speaker."""

    def __init__(self, channel: FrameChannel, stream_id: str) -> None:
        self._channel = channel
        self._stream_id = stream_id
        self.following: int | None = None

    async def follow(self, user_id: int) -> None:
        """Subscribe to `user_id`'s camera (and drop the previous speaker's)."""
        if user_id == self.following:
            return
        now = time.time_ns() // 1_000_000
        if self.following is not None:
            await self._channel.send(VideoSubscriptionRequest(self.following, False, now))
        await self._channel.send(VideoSubscriptionRequest(user_id, True, now))
        self.following = user_id

    def answered(self, response: VideoSubscriptionResponse) -> None:
        """VIDEO_SUBSCRIPTION_RESP (29): a refusal is logged; the next speaker is tried anyway."""
        if response.status_code:
            log.warning(
                "stream %s: video subscription to %s refused (%d %s)",
                self._stream_id,
                response.user_id,
                response.status_code,
                response.reason,
            )
