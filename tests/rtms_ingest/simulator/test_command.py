"""`manage.py simulate_meeting`, run as a real process."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rtms_ingest.simulator.fixture import SAMPLE_MEETING_DIR
from tests.rtms_ingest.simulator.simulator_client import (
    CLIENT_ID,
    CLIENT_SECRET,
    SHORT_MEETING,
    WEBHOOK_TOKEN,
    RawClient,
    WebhookReceiver,
    write_meeting,
)

ROOT = Path(__file__).resolve().parents[3]
CREDENTIALS = {
    "ZOOM_CLIENT_ID": CLIENT_ID,
    "ZOOM_CLIENT_SECRET": CLIENT_SECRET,
    "ZOOM_WEBHOOK_SECRET_TOKEN": WEBHOOK_TOKEN,
}


def _env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZOOM_")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return {**env, **CREDENTIALS, **overrides}


def _command(*args: str) -> list[str]:
    return [sys.executable, str(ROOT / "manage.py"), "simulate_meeting", *args]


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _command(*args), cwd=ROOT, env=env or _env(), capture_output=True, text=True, timeout=60
    )


def test_unreachable_webhook_target_is_reported_clearly_with_a_nonzero_exit() -> None:
    result = _run(str(SAMPLE_MEETING_DIR), "--webhook-url", "http://127.0.0.1:9/x")
    assert result.returncode != 0
    assert "http://127.0.0.1:9/x is unreachable: connection refused" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_missing_credentials_are_named() -> None:
    result = _run(
        str(SAMPLE_MEETING_DIR),
        "--webhook-url",
        "http://127.0.0.1:9/x",
        env=_env(ZOOM_CLIENT_ID=""),
    )
    assert result.returncode != 0
    assert "ZOOM_CLIENT_ID" in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_meeting_folder_is_reported_with_file_and_field(tmp_path: Path) -> None:
    (tmp_path / "meeting.json").write_text('{"participants": "nobody"}')
    result = _run(str(tmp_path), "--webhook-url", "http://127.0.0.1:9/x")
    assert result.returncode != 0
    assert "participants" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.timeout(60)
async def test_command_plays_a_meeting_to_the_app_behind_the_webhook(tmp_path: Path) -> None:
    folder = write_meeting(tmp_path / "meeting", SHORT_MEETING, audio=False)
    receiver = WebhookReceiver()
    process = await asyncio.create_subprocess_exec(
        *_command(str(folder), "--webhook-url", receiver.url, "--speed", "20"),
        cwd=ROOT,
        env=_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        payload = (await receiver.next(30)).json["payload"]
        client = RawClient(
            payload["server_urls"],
            CLIENT_ID,
            CLIENT_SECRET,
            payload["meeting_uuid"],
            payload["rtms_stream_id"],
        )
        assert (await client.handshake())["status_code"] == 0
        await client.open_media("transcript")
        await client.ready()
        stopped = (await receiver.next(30)).json
        stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        receiver.close()
    assert process.returncode == 0, stderr.decode()
    assert stopped["event"] == "meeting.rtms_stopped"
    assert stopped["payload"]["stop_reason"] == 6
    assert len(client.messages(17)) == len(SHORT_MEETING["utterances"])
    output = stdout.decode()
    assert "RTMS simulator listening on ws://127.0.0.1:" in output
    assert "stop_reason 6 (MEETING_ENDED)" in output


@pytest.mark.timeout(60)
async def test_repeat_plays_again_with_a_new_stream(tmp_path: Path) -> None:
    folder = write_meeting(tmp_path / "meeting", SHORT_MEETING, audio=False)
    receiver = WebhookReceiver()
    args = ("--webhook-url", receiver.url, "--repeat", "--connect-timeout", "0.2")
    process = await asyncio.create_subprocess_exec(
        *_command(str(folder), *args),
        cwd=ROOT,
        env=_env(),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        bodies = [(await receiver.next(30)).json for _ in range(4)]
    finally:
        process.terminate()
        await process.wait()
        receiver.close()
    events = [body["event"] for body in bodies]
    assert events == ["meeting.rtms_started", "meeting.rtms_stopped"] * 2
    streams = [body["payload"]["rtms_stream_id"] for body in bodies]
    assert streams[0] == streams[1] != streams[2] == streams[3]


@pytest.mark.timeout(60)
async def test_sigterm_ends_the_stream_with_exit_signal_and_exits_cleanly(tmp_path: Path) -> None:
    folder = write_meeting(tmp_path / "meeting", SHORT_MEETING, audio=False)
    receiver = WebhookReceiver()
    process = await asyncio.create_subprocess_exec(
        *_command(str(folder), "--webhook-url", receiver.url),
        cwd=ROOT,
        env=_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        payload = (await receiver.next(30)).json["payload"]
        client = RawClient(
            payload["server_urls"],
            CLIENT_ID,
            CLIENT_SECRET,
            payload["meeting_uuid"],
            payload["rtms_stream_id"],
        )
        await client.handshake()
        await client.ready()
        await asyncio.sleep(0.2)
        process.terminate()
        await client.wait_closed()
        stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        receiver.close()
    assert (client.messages(8)[-1]["state"], client.messages(8)[-1]["reason"]) == (4, 17)
    assert process.returncode == 0, stderr.decode()
    assert "stopped" in stdout.decode()


@pytest.mark.timeout(60)
async def test_reconnect_window_ends_a_vanished_clients_stream_with_19(tmp_path: Path) -> None:
    folder = write_meeting(tmp_path / "meeting", SHORT_MEETING, audio=False)
    receiver = WebhookReceiver()
    args = ("--webhook-url", receiver.url, "--speed", "0.5", "--reconnect-window", "0.5")
    process = await asyncio.create_subprocess_exec(
        *_command(str(folder), *args),
        cwd=ROOT,
        env=_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        payload = (await receiver.next(30)).json["payload"]
        client = RawClient(
            payload["server_urls"],
            CLIENT_ID,
            CLIENT_SECRET,
            payload["meeting_uuid"],
            payload["rtms_stream_id"],
        )
        await client.handshake()
        await client.ready()
        await client.vanish()
        stopped = (await receiver.next(30)).json
        stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        receiver.close()
    assert process.returncode == 0, stderr.decode()
    assert stopped["payload"]["stop_reason"] == 19
    assert "stop_reason 19 (AWAIT_RECONNECTION_TIMEOUT)" in stdout.decode()
