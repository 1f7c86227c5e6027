"""Run ONE client of Zoom's official `rtms` SDK and print every callback as a JSON line.

`tests/rtms_ingest/simulator/test_sdk_conformance.py` starts this script as a child process, so
that a native crash in the SDK cannot take pytest down with it, and so that two SDK clients never
share one process (two clients on their default loops in one process segfault).

Output: one line per callback on stdout, `EVENT_PREFIX` followed by a JSON object with at least
`cb` (the callback's name) and `t` (seconds since the script started). Anything else on stdout or
stderr is the SDK's own logging. The last line is `{"cb": "exit", ...}` on a clean finish.

The client stops by itself: `--linger-s` seconds after `on_leave`, or after a `join_confirm` with
a non-zero status (the linger shows whether the SDK retries on its own), and in any case after
`--max-s` seconds. The SDK's C core wants alloc/join/poll/release on one OS thread, so the event
loop runs on the main thread and `leave()` is called there once the loop has stopped.

Credentials: the SDK lets ZM_RTMS_CLIENT / ZM_RTMS_SECRET override the arguments given to
`join()`. The parent decides what the child's environment holds; this script does not touch it.
Run it with a scratch working directory: the SDK writes log files under ./logs if that exists.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time

EVENT_PREFIX = "RTMS-EVT "
_T0 = time.monotonic()
_OUT_FD = 1
_out_lock = threading.Lock()


def emit(cb: str, **fields: object) -> None:
    """Write one event line in a single write(2), so lines from threads never interleave."""
    fields = {"cb": cb, "t": round(time.monotonic() - _T0, 4), **fields}
    line = EVENT_PREFIX + json.dumps(fields, ensure_ascii=False, default=repr) + "\n"
    with _out_lock:
        os.write(_OUT_FD, line.encode("utf-8"))


def _text(data: object) -> str:
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data).decode("utf-8", errors="replace")
    return str(data)


def _metadata(md: object) -> dict[str, object]:
    return {
        "user_id": getattr(md, "userId", None),
        "user_name": getattr(md, "userName", None),
        "start_ts": getattr(md, "startTs", None),
        "end_ts": getattr(md, "endTs", None),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meeting-uuid", required=True)
    parser.add_argument("--rtms-stream-id", required=True)
    parser.add_argument("--server-urls", required=True, help="the signaling URL (ws://...)")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", required=True)
    parser.add_argument("--sample-rate", default="SR_16K", help="rtms.AudioSampleRate name")
    parser.add_argument("--codec", default="L16", help="rtms.AudioCodec name")
    parser.add_argument("--channel", default="MONO", help="rtms.AudioChannel name")
    parser.add_argument("--data-opt", default="AUDIO_MULTI_STREAMS", help="rtms.DataOption name")
    parser.add_argument("--duration-ms", type=int, default=20, help="audio frame length (ms)")
    parser.add_argument("--no-audio", action="store_true", help="do not register on_audio_data")
    parser.add_argument(
        "--src-language",
        type=int,
        default=None,
        help="rtms.TranscriptLanguage id to ask for, with language detection off",
    )
    parser.add_argument("--share", help="register on_deskshare_data, asking this rtms.VideoCodec")
    parser.add_argument("--video", help="register on_video_data, asking this rtms.VideoCodec")
    parser.add_argument("--linger-s", type=float, default=1.0)
    parser.add_argument("--max-s", type=float, default=60.0)
    parser.add_argument("--poll-interval-s", type=float, default=0.005)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    global _OUT_FD
    # Event lines go to the real stdout; the SDK's Python-level log prints go to stderr.
    _OUT_FD = os.dup(1)
    sys.stdout = sys.stderr

    import rtms

    emit(
        "start",
        pid=os.getpid(),
        rtms_file=rtms.__file__,
        env_client=os.environ.get("ZM_RTMS_CLIENT"),
        env_secret_set="ZM_RTMS_SECRET" in os.environ,
    )

    done = threading.Event()
    done_at: list[float] = []

    def finish(why: str) -> None:
        if not done.is_set():
            done_at.append(time.monotonic())
            emit("finishing", why=why)
            done.set()

    client = rtms.Client()

    def on_join_confirm(reason: int) -> None:
        emit("join_confirm", reason=int(reason))
        if int(reason) != 0:
            finish("join refused")

    def on_leave(reason: int) -> None:
        emit("leave", reason=int(reason))
        finish("left")

    def on_session_update(op: int, session: object) -> None:
        # Only op and sessionId are read. In rtms 1.1.0 the Session object's other fields
        # point into freed receive buffers: meetingId shows leftovers of earlier frames,
        # status and isActive hold garbage, and reading them crashed the child (SIGSEGV)
        # in about one run of twenty.
        emit("session_update", op=int(op), session_id=getattr(session, "sessionId", None))

    def on_user_update(op: int, participant: object) -> None:
        emit(
            "user_update",
            op=int(op),
            user_id=getattr(participant, "id", None),
            user_name=getattr(participant, "name", None),
        )

    def on_transcript(data: bytes, size: int, timestamp: int, md: object) -> None:
        emit("transcript", text=_text(data), size=size, ts=timestamp, **_metadata(md))

    def on_audio(data: bytes, size: int, timestamp: int, md: object) -> None:
        emit(
            "audio",
            size=size,
            len=len(data),
            ts=timestamp,
            user_id=getattr(md, "userId", None),
            user_name=getattr(md, "userName", None),
        )

    def on_participant(event: str, timestamp: int, participants: list[dict]) -> None:
        emit("participant_event", event=event, ts=timestamp, participants=participants)

    def on_active_speaker(timestamp: int, user_id: int, user_name: str) -> None:
        emit("active_speaker", ts=timestamp, user_id=user_id, user_name=user_name)

    def on_event_ex(raw: str) -> None:
        emit("event_ex", raw=raw)

    client.on_join_confirm(on_join_confirm)
    client.on_leave(on_leave)
    client.on_session_update(on_session_update)
    client.on_user_update(on_user_update)
    client.on_transcript_data(on_transcript)
    client.on_participant_event(on_participant)
    client.on_active_speaker_event(on_active_speaker)
    client.on_event_ex(on_event_ex)
    if not args.no_audio:
        params = rtms.AudioParams(
            rtms.AudioContentType.RAW_AUDIO,
            rtms.AudioCodec[args.codec],
            rtms.AudioSampleRate[args.sample_rate],
            rtms.AudioChannel[args.channel],
            rtms.DataOption[args.data_opt],
            args.duration_ms,
            {0: 8000, 1: 16000, 2: 32000, 3: 48000}[int(rtms.AudioSampleRate[args.sample_rate])]
            * args.duration_ms
            // 1000,
        )
        client.set_audio_params(params)
        client.on_audio_data(on_audio)

    if args.src_language is not None:
        transcript = rtms.TranscriptParams()
        transcript.src_language = args.src_language
        transcript.enable_lid = False
        client.set_transcript_params(transcript)

    def on_frames(kind: str) -> object:
        def received(data: bytes, size: int, timestamp: int, md: object) -> None:
            head = bytes(data[:4]).hex()
            emit(kind, size=size, ts=timestamp, head=head, **_metadata(md))

        return received

    def on_sharing(event: str, timestamp: int, user_id: object, user_name: object) -> None:
        emit("sharing", event=event, ts=timestamp, user_id=user_id, user_name=user_name)

    for kind, codec in (("deskshare", args.share), ("video", args.video)):
        if codec is None:
            continue
        picture = rtms.DeskshareParams() if kind == "deskshare" else rtms.VideoParams()
        picture.content_type = rtms.VideoContentType.RAW_VIDEO
        picture.codec = getattr(rtms.VideoCodec, codec)
        picture.resolution = rtms.VideoResolution.HD
        picture.fps = 2
        if kind == "deskshare":
            client.set_deskshare_params(picture)
            client.on_deskshare_data(on_frames("deskshare"))
            client.on_sharing_event(on_sharing)
        else:
            client.set_video_params(picture)
            client.on_video_data(on_frames("video"))

    loop = rtms.EventLoop(poll_interval=args.poll_interval_s, name="sdk-conformance")
    loop.add(client)
    client.join(
        meeting_uuid=args.meeting_uuid,
        rtms_stream_id=args.rtms_stream_id,
        server_urls=args.server_urls,
        client=args.client_id,
        secret=args.client_secret,
    )
    emit("join_called")

    def watchdog() -> None:
        if done.wait(args.max_s):
            time.sleep(args.linger_s)
        else:
            emit("timeout", max_s=args.max_s)
        loop.stop()

    threading.Thread(target=watchdog, name="watchdog", daemon=True).start()
    loop.run()  # this thread allocs, joins and polls the client
    client.leave()  # released on the same thread that allocated it
    emit("exit", clean=done.is_set())
    return 0 if done.is_set() else 2


if __name__ == "__main__":
    sys.exit(main())
