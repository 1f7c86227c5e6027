"""The simulator's signaling and data handshakes, checked against docs/rtms-protocol.md §2-3."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from websockets.asyncio.client import connect

from rtms_ingest.simulator import Faults, RtmsSimulator, SimulatedStream
from rtms_ingest.simulator.fixture import RecordedMeeting
from tests.rtms_ingest.simulator.simulator_client import (
    ALL,
    AUDIO,
    CHAT,
    TRANSCRIPT,
    RawClient,
    client_for,
    make_config,
    short_meeting,
)

SIX_KEYS = {"audio", "video", "transcript", "deskshare", "chat", "all"}


@pytest.fixture
def meeting(tmp_path: Path) -> RecordedMeeting:
    return short_meeting(tmp_path / "meeting")


async def _simulator(meeting: RecordedMeeting, **config: Any) -> AsyncIterator[RtmsSimulator]:
    async with RtmsSimulator(meeting, make_config(**config)) as simulator:
        yield simulator


@pytest.fixture
async def sim(meeting: RecordedMeeting) -> AsyncIterator[RtmsSimulator]:
    async for simulator in _simulator(meeting):
        yield simulator


@pytest.fixture
async def stream(sim: RtmsSimulator) -> SimulatedStream:
    return sim.new_stream()


async def test_handshake_answers_status_0_with_all_six_media_urls(
    sim: RtmsSimulator, stream: SimulatedStream
) -> None:
    client = client_for(stream)
    response = await client.handshake(sequence=12345)
    assert response["msg_type"] == 2
    assert response["status_code"] == 0
    assert response["sequence"] == 12345
    urls = response["media_server"]["server_urls"]
    assert set(urls) == SIX_KEYS
    assert all(url.startswith(f"{sim.base_url}/media/") for url in urls.values())
    assert len(set(urls.values())) == 6
    await client.close()


async def test_bad_signature_is_refused_with_status_3_from_table_a(
    stream: SimulatedStream,
) -> None:
    client = client_for(stream, secret="wrong-secret")
    response = await client.handshake()
    assert response["status_code"] == 3
    assert "media_server" not in response
    assert stream.report.refused_signatures == 1


async def test_bad_signature_is_refused_with_status_15_from_legacy_table_b(
    meeting: RecordedMeeting,
) -> None:
    async for sim in _simulator(meeting, status_table="B"):
        response = await client_for(sim.new_stream(), secret="wrong").handshake()
        assert response["status_code"] == 15


async def test_bad_signature_in_close_mode_closes_1000_without_a_body(
    meeting: RecordedMeeting,
) -> None:
    async for sim in _simulator(meeting, faults=Faults(bad_signature_mode="close")):
        client = client_for(sim.new_stream(), secret="wrong")
        assert await client.handshake() == {}
        assert client.close_codes["signaling"] == 1000
        assert client.received == []


async def test_protocol_version_2_is_refused(stream: SimulatedStream) -> None:
    response = await client_for(stream).handshake(protocol_version=2)
    assert response["status_code"] != 0
    assert stream.report.signaling_connections == 0


async def test_unknown_stream_id_is_refused_with_status_2(stream: SimulatedStream) -> None:
    client = client_for(stream, stream_id="not-a-stream")
    client.signaling_url = stream.signaling_url.rsplit("/", 1)[0] + "/not-a-stream"
    response = await client.handshake()
    assert response["status_code"] == 2


async def test_binary_pretty_printed_json_is_accepted_on_both_sockets(
    stream: SimulatedStream,
) -> None:
    client = client_for(stream)
    assert (await client.handshake(binary_pretty=True))["status_code"] == 0
    response = await client.open_media("transcript", binary_pretty=True, media_params=None)
    assert response["status_code"] == 0
    await client.close()


async def test_media_params_null_or_missing_get_documented_defaults(
    stream: SimulatedStream,
) -> None:
    client = client_for(stream)
    await client.handshake()
    audio = await client.open_media("audio", media_params=None)
    transcript = await client.open_media("transcript")  # no media_params key at all
    assert audio["status_code"] == 0
    assert audio["payload_encrypted"] is False
    assert audio["media_params"]["audio"] == {
        "content_type": 2,
        "codec": 1,
        "sample_rate": 1,
        "channel": 1,
        "data_opt": 1,
        "send_rate": 20,
    }
    assert transcript["status_code"] == 0
    assert transcript["media_params"] == {"transcript": {"content_type": 5}}
    await client.close()


async def test_opus_48k_stereo_request_is_answered_with_what_is_sent(
    stream: SimulatedStream,
) -> None:
    client = client_for(stream)
    await client.handshake()
    sdk_default = {"content_type": 2, "codec": 4, "sample_rate": 3, "channel": 2}
    asked = {**sdk_default, "data_opt": 2, "send_rate": 20}
    response = await client.open_media("audio", media_params={"audio": asked})
    negotiated = response["media_params"]["audio"]
    assert (negotiated["codec"], negotiated["sample_rate"], negotiated["channel"]) == (1, 1, 1)
    assert (negotiated["data_opt"], negotiated["send_rate"]) == (2, 20)
    await client.close()


async def test_audio_data_opt_outside_the_enum_is_refused(stream: SimulatedStream) -> None:
    client = client_for(stream)
    await client.handshake()
    response = await client.open_media("audio", media_params={"audio": {"data_opt": 9}})
    assert response["status_code"] == 23  # INVALID_MEDIA_AUDIO_DATA_OPT, table A
    await client.close()


async def test_media_type_that_does_not_match_the_url_is_refused(
    stream: SimulatedStream,
) -> None:
    client = client_for(stream)
    await client.handshake()
    response = await client.open_media("transcript", media_type=AUDIO)
    assert response["status_code"] == 7  # INVALID_MEDIA_TYPE
    await client.close()


async def test_all_socket_negotiates_every_requested_kind(stream: SimulatedStream) -> None:
    client = client_for(stream)
    await client.handshake()
    params = {"audio": {"data_opt": 1, "send_rate": 100}, "transcript": {"content_type": 5}}
    response = await client.open_media("all", ALL, media_params=params)
    assert response["status_code"] == 0
    assert set(response["media_params"]) == {"audio", "transcript", "chat"}
    assert response["media_params"]["audio"]["send_rate"] == 100
    await client.close()


async def test_per_type_socket_beside_a_covering_all_socket_is_refused(
    stream: SimulatedStream,
) -> None:
    client = client_for(stream)
    await client.handshake()
    await client.open_media("all", TRANSCRIPT | CHAT)
    assert (await client.open_media("chat"))["status_code"] == 15  # ALL_CONNECTION_EXIST
    assert (await client.open_media("audio"))["status_code"] == 0
    await client.close()


@pytest.mark.parametrize("id_field", ["session_id", "meeting_uuid"])
async def test_video_sdk_accepts_the_id_as_session_id_or_sdk_style_meeting_uuid(
    meeting: RecordedMeeting, id_field: str
) -> None:
    async for sim in _simulator(meeting, product="video_sdk"):
        stream = sim.new_stream()
        client = client_for(stream, id_field=id_field)
        assert (await client.handshake())["status_code"] == 0
        assert (await client.open_media("transcript"))["status_code"] == 0
        await client.close()


async def test_owner_id_that_does_not_match_the_stream_is_refused(
    stream: SimulatedStream,
) -> None:
    client = client_for(stream, owner_id="someone-elses-meeting==")
    assert (await client.handshake())["status_code"] != 0


async def test_unparseable_handshake_is_answered_with_an_error_status(
    stream: SimulatedStream,
) -> None:
    async with connect(stream.signaling_url) as ws:
        await ws.send(b"\xff not json")
        reply = await ws.recv()
    assert '"status_code":4' in str(reply)


async def test_client_agent_is_recorded(stream: SimulatedStream) -> None:
    client: RawClient = client_for(stream)
    await client.handshake()
    assert stream.report.client_agents == ["raw-test-client"]
    await client.close()


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    san = x509.SubjectAlternativeName(
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(san, critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


async def test_wss_with_a_given_certificate(meeting: RecordedMeeting, tmp_path: Path) -> None:
    cert_file, key_file = _self_signed(tmp_path)
    config = {"ssl_certfile": str(cert_file), "ssl_keyfile": str(key_file)}
    # The official SDK verifies wss:// by DNS name only: URLs must say localhost.
    async for sim in _simulator(meeting, advertised_host="localhost", **config):
        assert sim.base_url.startswith("wss://localhost:")
        stream = sim.new_stream()
        tls = ssl.create_default_context(cafile=str(cert_file))
        client = client_for(stream, tls=tls)
        response = await client.handshake()
        assert response["status_code"] == 0
        assert response["media_server"]["server_urls"]["audio"].startswith("wss://")
        assert (await client.open_media("transcript"))["status_code"] == 0
        await client.close()
