"""Chat-group events (EVENT_UPDATE 10-14, reference §7): read, logged and skipped, never fatal."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from rtms_ingest.protocol import EventUpdate, ProtocolError, RtmsEvent, parse_message
from rtms_ingest.protocol.enums import CHAT_GROUP_EVENTS, EventType
from rtms_ingest.simulator.faults import CHAT_GROUP_ODD_EVENT, Faults
from tests.rtms_ingest.client.stream_support import (
    UTTERANCES,
    RecordingSink,
    make_client,
    play,
    sim_config,
)


@pytest.mark.parametrize("event_type", sorted(CHAT_GROUP_EVENTS))
def test_a_documented_chat_group_event_parses(event_type: int) -> None:
    frame = f'{{"msg_type":6,"event":{{"event_type":{event_type},"timestamp":5,"group":"x"}}}}'
    assert parse_message(frame) == EventUpdate(RtmsEvent(event_type, timestamp=5))
    assert EventType(event_type).name.startswith("CHAT_GROUP_")


def test_an_odd_chat_group_event_is_a_protocol_error_not_a_crash() -> None:
    with pytest.raises(ProtocolError, match="participants"):
        parse_message(CHAT_GROUP_ODD_EVENT)


async def test_chat_group_events_reach_the_client_and_the_stream_goes_on(
    simulator: Any, caplog: pytest.LogCaptureFixture
) -> None:
    sink = RecordingSink()
    sim = await simulator(sim_config(faults=Faults(chat_group_events_at_s=1.0)))
    with caplog.at_level(logging.INFO, logger="rtms_ingest.client"):
        reason, report, client = await play(sim, lambda s: make_client(s, sink))

    sent = [frame.key[0] for frame in report.frames("event")]
    assert [kind for kind in sent if kind in CHAT_GROUP_EVENTS] == sorted(CHAT_GROUP_EVENTS)
    assert "odd chat-group event on signaling" in report.faults_fired
    # The five are read and logged, the odd one skipped as malformed; none reaches the sink.
    assert client.stats.chat_group_events == len(CHAT_GROUP_EVENTS)
    assert client.stats.malformed_frames == 1
    assert "CHAT_GROUP_MEMBER_STATUS_UPDATE" in caplog.text
    assert (reason, len(sink.transcripts), sink.gaps) == (6, len(UTTERANCES), [])
