"""Share and video: asked for only when wanted, delivered, the speaker's camera followed."""

from __future__ import annotations

from typing import Any

from rtms_ingest.protocol import MediaType, VideoCodec, VideoDataOption
from rtms_ingest.simulator.fixture import sample_meeting
from tests.rtms_ingest.client.stream_support import RecordingSink, make_client, play, sim_config

TEXT = MediaType.TRANSCRIPT | MediaType.CHAT
SHARER, CAMERA = 16778240, 16779264


async def test_share_is_not_asked_for_when_no_sink_wants_it(simulator: Any) -> None:
    sink = RecordingSink()
    sim = await simulator(sim_config(speed=50.0), sample_meeting())
    reason, report, _ = await play(sim, lambda s: make_client(s, sink, media=TEXT))

    assert reason == 6
    assert set(report.media_params) == {"transcript", "chat"}
    assert sink.shares == [] and sink.videos == []


async def test_share_frames_and_sharing_events_reach_the_sink_when_asked(simulator: Any) -> None:
    sink = RecordingSink()
    sim = await simulator(sim_config(speed=50.0), sample_meeting())
    media = TEXT | MediaType.DESKSHARE
    reason, report, client = await play(sim, lambda s: make_client(s, sink, media=media))

    assert reason == 6
    asked = report.media_params["deskshare"]["deskshare"]
    assert asked["codec"] == VideoCodec.JPG and asked["fps"] == 2
    assert sink.shares and {frame.user_id for frame in sink.shares} == {SHARER}
    assert all(frame.data.startswith(b"\xff\xd8") for frame in sink.shares)
    assert [(who, started) for who, _, started in sink.sharing_events] == [
        (SHARER, True),
        (SHARER, False),
    ]
    assert client.stats.share_frames == len(sink.shares)


async def test_the_client_follows_the_active_speakers_camera(simulator: Any) -> None:
    sink = RecordingSink()
    sim = await simulator(sim_config(speed=50.0), sample_meeting())
    media = TEXT | MediaType.VIDEO
    reason, report, _ = await play(sim, lambda s: make_client(s, sink, media=media))

    assert reason == 6
    video = report.media_params["video"]["video"]
    assert video["data_opt"] == VideoDataOption.VIDEO_SINGLE_INDIVIDUAL_STREAM
    # Only the subscribed speaker's camera comes, and only Zoë's camera is on.
    assert sink.videos and {frame.user_id for frame in sink.videos} == {CAMERA}
    # One subscription at a time: every subscribe after the first follows an unsubscribe.
    assert report.received.count(28) >= 2
