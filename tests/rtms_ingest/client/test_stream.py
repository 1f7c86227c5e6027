"""The RTMS client against the project's simulator, over real sockets on port 0."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from rtms_ingest.client import HandshakeRejected
from rtms_ingest.protocol import (
    EventType,
    EventUpdate,
    MsgType,
    RtmsEvent,
    SessionState,
    SessionStateUpdate,
    StreamState,
    StreamStateUpdate,
    TextContent,
)
from rtms_ingest.simulator.faults import Faults
from rtms_ingest.simulator.fixture import sample_meeting
from rtms_ingest.simulator.session import SimulatedStream
from tests.rtms_ingest.client.stream_support import (
    ALICE,
    BOB,
    CARLA,
    CHAT,
    NAMES,
    UTTERANCES,
    RecordingSink,
    make_client,
    play,
    sim_config,
    start_playing,
    transcript_keys,
    until,
)

# --- a whole meeting ---------------------------------------------------------------------------


async def test_every_utterance_arrives_once_with_its_speaker(simulator: Any) -> None:
    sink = RecordingSink()
    reason, report, _ = await play(await simulator(), lambda s: make_client(s, sink))

    assert [(t.user_id, t.user_name, t.data) for t in sink.transcripts] == [
        (user, NAMES[user], text) for user, _, _, text in UTTERANCES
    ]
    assert transcript_keys(sink) == report.transcript_keys
    assert reason == 6


async def test_stream_goes_live_then_ends_with_meeting_ended(simulator: Any) -> None:
    sink = RecordingSink()
    reason, report, _ = await play(await simulator(), lambda s: make_client(s, sink))

    assert reason == report.stop_reason == 6
    assert sink.states == [("live", "", None), ("ended", "stream terminated (MEETING_ENDED)", 6)]
    assert sink.gaps == []


async def test_participants_join_leave_and_speak(simulator: Any) -> None:
    sink = RecordingSink()
    await play(await simulator(), lambda s: make_client(s, sink))

    assert sink.joined == [(ALICE, NAMES[ALICE]), (BOB, NAMES[BOB]), (CARLA, NAMES[CARLA])]
    assert sink.left == [BOB]
    assert sink.speakers == [
        (ALICE, NAMES[ALICE]),
        (BOB, NAMES[BOB]),
        (CARLA, NAMES[CARLA]),
        (ALICE, NAMES[ALICE]),
        (CARLA, NAMES[CARLA]),
        (ALICE, NAMES[ALICE]),
    ]


async def test_chat_arrives(simulator: Any) -> None:
    sink = RecordingSink()
    await play(await simulator(), lambda s: make_client(s, sink))

    assert [(c.user_id, c.user_name, c.data) for c in sink.chats] == [
        (user, NAMES[user], text) for user, _, text in CHAT
    ]


async def test_audio_bytes_are_counted(simulator: Any) -> None:
    sink = RecordingSink()
    _, report, client = await play(await simulator(), lambda s: make_client(s, sink))

    assert report.audio_bytes > 0
    assert client.stats.audio_bytes == sink.audio_bytes == report.audio_bytes
    assert client.stats.audio_frames == len(report.frames("audio"))
    assert report.media_params["audio"]["audio"]["sample_rate"] == 1  # 16 kHz, as asked


async def test_one_media_socket_per_kind_and_events_subscribed(simulator: Any) -> None:
    sink = RecordingSink()
    _, report, _ = await play(await simulator(), lambda s: make_client(s, sink))

    assert set(report.media_params) == {"transcript", "chat", "audio"}
    assert report.event_subscriptions == {2: True, 3: True, 4: True}
    handshake_order = [m for m in report.received if m != MsgType.KEEP_ALIVE_RESP]
    assert handshake_order == [1, 3, 3, 3, 7, 5]
    assert report.client_agents == ["meeting-assistant/0.1"]


async def test_keepalives_are_answered_on_every_socket(simulator: Any) -> None:
    sink = RecordingSink()
    sim = await simulator(sim_config(speed=5.0, keepalive_interval_s=0.05))
    _, report, client = await play(sim, lambda s: make_client(s, sink))

    assert set(report.keepalive_answers) == {
        "signaling",
        "media:transcript",
        "media:chat",
        "media:audio",
    }
    assert all(count >= 5 for count in report.keepalive_answers.values())
    assert client.stats.keepalives_answered == sum(report.keepalive_answers.values())
    assert not report.dropped_for_missed_keepalive


async def test_shipped_sample_meeting_arrives_whole(simulator: Any) -> None:
    meeting = sample_meeting()
    sink = RecordingSink()
    sim = await simulator(sim_config(speed=50.0, keepalive_interval_s=1.0), meeting)
    reason, _, _ = await play(sim, lambda s: make_client(s, sink))

    assert reason == 6
    expected = [(u.user_id, meeting.user_name(u.user_id), u.text) for u in meeting.utterances]
    assert [(t.user_id, t.user_name, t.data) for t in sink.transcripts] == expected
    assert len(sink.chats) == len(meeting.chat)


@pytest.mark.parametrize("product", ["webinar", "video_sdk", "contact_center"])
async def test_other_products_join_with_their_own_id(simulator: Any, product: str) -> None:
    sink = RecordingSink()
    sim = await simulator(sim_config(speed=20.0, product=product))
    reason, _, _ = await play(sim, lambda s: make_client(s, sink, product=product))

    assert reason == 6
    assert len(sink.transcripts) == len(UTTERANCES)


# --- ending and refusing -----------------------------------------------------------------------


async def test_close_sends_stream_close_request_and_returns_20(simulator: Any) -> None:
    sink = RecordingSink()
    sim = await simulator(sim_config(speed=1.0))
    _stream, client, playing, running = start_playing(sim, sink)
    await until(lambda: len(sink.transcripts) >= 1)

    await client.close()

    assert await running == 20
    report = await asyncio.wait_for(playing, 5)
    assert MsgType.STREAM_CLOSE_REQ in report.received
    assert report.stop_reason == 20
    assert sink.states[-1] == ("ended", "closed by receiver", 20)


async def test_bad_secret_raises_handshake_rejected(simulator: Any) -> None:
    sim = await simulator()
    stream = sim.new_stream()
    client = make_client(stream, RecordingSink(), secret="wrong-secret")

    with pytest.raises(HandshakeRejected) as caught:
        await asyncio.wait_for(client.run(), 5)

    assert caught.value.status_code == 3  # INVALID_SIGNATURE, status table (A)
    assert client.stats.reconnects == 0


async def test_close_without_handshake_answer_is_a_rejection_after_three_tries(
    simulator: Any,
) -> None:
    sim = await simulator(
        sim_config(faults=Faults(refuse_signature=True, bad_signature_mode="close"))
    )
    stream = sim.new_stream()
    client = make_client(stream, RecordingSink())

    with pytest.raises(HandshakeRejected) as caught:
        await asyncio.wait_for(client.run(), 5)

    assert caught.value.status_code is None
    assert stream.report.refused_signatures == 3


# --- faults ------------------------------------------------------------------------------------


async def test_dropped_signaling_socket_reconnects_and_the_rest_arrives(simulator: Any) -> None:
    sink = RecordingSink()
    sim = await simulator(sim_config(speed=3.0, faults=Faults(drop_socket_at_s=2.5)))
    reason, report, client = await play(sim, lambda s: make_client(s, sink))

    assert reason == 6
    assert report.signaling_connections == 2
    assert client.stats.reconnects == 1
    assert len(sink.gaps) == 1 and "signaling" in sink.gaps[0]
    assert sink.state_names == ["live", "reconnecting", "live", "ended"]
    # Whatever the simulator got onto a socket arrived once; a frame due during the gap is lost.
    assert transcript_keys(sink) == report.transcript_keys
    assert report.clock_origin_ms is not None
    after_drop = report.clock_origin_ms + 2500
    # The gap begins at the last data heard (stream clock); where it ends, nobody can say.
    (span,) = sink.spans
    assert span.from_ms is not None
    assert report.clock_origin_ms <= span.from_ms <= after_drop + 100
    assert (span.to_ms, span.frames_lost) == (None, None)
    # After the reconnect the meeting plays on: what arrives late is the tail of what was said
    # after the drop (the first of it may have been due inside the gap, which the machine's load
    # decides), up to the last words.
    late = [
        t.data for t in sink.transcripts if t.start_time is not None and t.start_time > after_drop
    ]
    said_after_drop = [text for _, start, _, text in UTTERANCES if start > 2.6]
    assert late and late == said_after_drop[len(said_after_drop) - len(late) :]


async def test_dropped_media_sockets_reconnect_without_signaling(simulator: Any) -> None:
    sink = RecordingSink()
    faults = Faults(drop_socket_at_s=2.5, drop_socket="media")
    sim = await simulator(sim_config(speed=3.0, faults=faults))
    reason, report, client = await play(sim, lambda s: make_client(s, sink))

    assert reason == 6
    assert report.signaling_connections == 1
    assert client.stats.media_reconnects == 3
    assert len(sink.gaps) == 3
    assert all(span.to_ms is None and span.frames_lost is None for span in sink.spans)
    heard = [span.from_ms for span in sink.spans if span.from_ms is not None]
    assert heard  # a socket that had delivered data says where its gap began
    assert report.clock_origin_ms is not None
    assert all(report.clock_origin_ms <= at <= report.clock_origin_ms + 2600 for at in heard)
    assert transcript_keys(sink) == report.transcript_keys
    assert sink.transcripts[-1].data == UTTERANCES[-1][3]


async def test_malformed_frame_is_skipped_and_the_stream_goes_on(simulator: Any) -> None:
    sink = RecordingSink()
    sim = await simulator(sim_config(faults=Faults(malformed_frame_at_s=1.0)))
    reason, report, client = await play(sim, lambda s: make_client(s, sink))

    assert report.frames("malformed")
    assert client.stats.malformed_frames == 1
    assert reason == 6
    assert len(sink.transcripts) == len(UTTERANCES)
    assert sink.gaps == []


async def test_sink_errors_are_logged_and_the_stream_goes_on(simulator: Any) -> None:
    class FailingSink(RecordingSink):
        async def transcript(self, content: TextContent) -> None:
            await super().transcript(content)
            raise RuntimeError("database is down")

    sink = FailingSink()
    reason, _, client = await play(await simulator(), lambda s: make_client(s, sink))

    assert reason == 6
    assert len(sink.transcripts) == len(UTTERANCES)
    assert client.stats.sink_errors == len(UTTERANCES)


# --- reconnect() and server-driven changes -----------------------------------------------------


async def test_reconnect_to_a_new_url_mid_stream(simulator: Any) -> None:
    sink = RecordingSink()
    sim = await simulator(sim_config(speed=3.0))
    stream, client, playing, running = start_playing(sim, sink)
    await until(lambda: len(sink.transcripts) >= 2)

    client.reconnect(stream.signaling_url + "?failover=1")

    assert await asyncio.wait_for(running, 10) == 6
    report = await asyncio.wait_for(playing, 5)
    assert report.signaling_connections == 2
    assert sink.state_names == ["live", "reconnecting", "live", "ended"]
    assert transcript_keys(sink) == report.transcript_keys
    assert client.stats.reconnects == 1


async def test_reconnect_skips_the_backoff_wait(simulator: Any, unused_tcp_port: int) -> None:
    sink = RecordingSink()
    sim = await simulator()
    stream = sim.new_stream()
    dead = f"ws://127.0.0.1:{unused_tcp_port}/signaling/{stream.rtms_stream_id}"
    # The first URL refuses connections and the backoff would wait 30 s before retrying.
    client = make_client(stream, sink, url=dead, backoff_initial_s=30.0, backoff_max_s=30.0)
    playing = asyncio.create_task(sim.play(stream))
    running = asyncio.create_task(client.run())
    await until(lambda: client.stats.reconnects >= 1)

    client.reconnect(stream.signaling_url)

    assert await asyncio.wait_for(running, 5) == 6
    await asyncio.wait_for(playing, 5)
    assert len(sink.transcripts) == len(UTTERANCES)


async def inject(stream: SimulatedStream, message: Any) -> None:
    """Send a message the simulator does not script, on the stream's live signaling socket."""
    assert await stream.send_signaling(message, "injected", ())


async def test_media_interrupted_event_reconnects_only_media(simulator: Any) -> None:
    sink = RecordingSink()
    sim = await simulator(sim_config(speed=3.0))
    stream, client, playing, running = start_playing(sim, sink)
    await until(lambda: len(sink.transcripts) >= 2)

    await inject(stream, EventUpdate(RtmsEvent(EventType.MEDIA_CONNECTION_INTERRUPTED)))

    assert await asyncio.wait_for(running, 10) == 6
    report = await asyncio.wait_for(playing, 5)
    assert client.stats.media_reconnects == 3
    assert report.signaling_connections == 1
    assert transcript_keys(sink) == report.transcript_keys


async def test_stream_interrupted_state_reconnects_everything(simulator: Any) -> None:
    sink = RecordingSink()
    sim = await simulator(sim_config(speed=3.0))
    stream, _client, playing, running = start_playing(sim, sink)
    await until(lambda: len(sink.transcripts) >= 2)

    await inject(stream, StreamStateUpdate(stream.rtms_stream_id, StreamState.INTERRUPTED, 13))

    assert await asyncio.wait_for(running, 10) == 6
    report = await asyncio.wait_for(playing, 5)
    assert report.signaling_connections == 2
    assert "reconnecting" in sink.state_names


async def test_session_pause_and_resume_reach_the_sink(simulator: Any) -> None:
    sink = RecordingSink()
    sim = await simulator(sim_config(speed=3.0))
    stream, _client, playing, running = start_playing(sim, sink)
    await until(lambda: len(sink.transcripts) >= 1)

    for state in (SessionState.PAUSED, SessionState.RESUMED):
        await inject(stream, SessionStateUpdate(stream.rtms_session_id, state, 0, 0))

    assert await asyncio.wait_for(running, 10) == 6
    await asyncio.wait_for(playing, 5)
    assert ("live", "session paused", None) in sink.states
    assert ("live", "session resumed", None) in sink.states


# --- TLS ---------------------------------------------------------------------------------------


def _self_signed(tmp_path: Path) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and localhost, and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rtms-simulator")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_file), str(key_file)


async def test_wss_uses_the_given_ssl_context(simulator: Any, tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    sim = await simulator(sim_config(ssl_certfile=cert, ssl_keyfile=key))
    sink = RecordingSink()
    trust = ssl.create_default_context(cafile=cert)

    reason, _, _ = await play(sim, lambda s: make_client(s, sink, ssl_context=trust))

    assert sim.base_url.startswith("wss://")
    assert reason == 6
    assert len(sink.transcripts) == len(UTTERANCES)
