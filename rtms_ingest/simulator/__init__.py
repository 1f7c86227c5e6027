"""Zoom in a box: a local RTMS server that plays recorded meetings over real sockets.

    async with RtmsSimulator(load_meeting(path), SimulatorConfig(client_id, secret, token)) as sim:
        stream = sim.new_stream()          # a client connects to stream.signaling_url ...
        report = await sim.play(stream)    # ... while the meeting plays; report: what was sent

Zoom's REST and OAuth side, for RTMS started, paused, resumed and stopped by the app as a host:
`await sim.serve_zoom_api()` serves `/oauth/token` and `PATCH /v2/live_meetings/{id}/rtms_app/
status` (`zoom_api`), checking bearer tokens against `sim.tokens` (`zoom_tokens`) for meetings
opened with `sim.live_meetings.open(host)` (`live_meetings`).

Modules: `config` (settings, products, status tables), `faults`, `webhooks` (signed POSTs),
`server` (sockets and handshakes), `handshakes` (checks and negotiation), `signaling`
(client messages), `session` (one stream), `player` (the timeline), `audio` (frames),
`connection` (one socket, keep-alives), `report`.

Behaviour where docs/rtms-protocol.md is UNCONFIRMED or silent (details in each module):
- Webhooks: fields directly under `payload`; no `signature`; `event_ts` in ms; a meeting's or
  webinar's rtms_started carries the 2026 fields (`account_id`, `is_original_host`, the numeric
  `meeting_id` or `webinar_id`, reference §7);
  webinar uses `meeting_uuid`. A failed POST raises WebhookDeliveryError; no retries.
- One client id/secret signs every product; the id may arrive in the product's own field or
  in `meeting_uuid` (as the SDK sends it).
- Status codes: table A by default, B on request; codes neither table has are mapped in
  `config` (e.g. protocol_version != 1 gets INVALID_PAYLOAD 4 / INVALID_JSON_MSG 3).
- Audio is always raw L16 16 kHz mono, and DATA_HAND_SHAKE_RESP says so whatever was asked;
  defaults without params: AUDIO_MIXED_STREAM, 20 ms. Mixed frames carry user_id 0.
  Exactly which frames are sent: see `audio`.
- Stream time 0 (`SimulatorConfig.clock_start`): "ready" (the default) is the first
  CLIENT_READY_ACK, so Zoom's audio buffer (reference §7) is always empty. "webhook" is when
  rtms_started is posted (or would be, without a webhook URL), and the meeting plays on from
  there. A client ready at stream time R then gets the session state, first-packet time and
  roster stamped R; then, unless its handshake said buffer_data false (absent means true, as
  the SDK sends it), the audio due by R that starts after R - 60 s, as one burst with its own
  timestamps; then everything from R on, live. Transcript, chat, events and faults due before
  R are never sent. Only the first CLIENT_READY_ACK gets a burst; the report's
  `buffered_audio` says what was due, sent and dropped. A meeting that ends before any client
  is ready ends with MEETING_ENDED.
- Newest signaling connection wins: the older one and every media socket are closed with
  1000 "replaced by a newer signaling connection"; playback goes on, frames due while no
  socket listens are lost; after the new CLIENT_READY_ACK the session state, first-packet
  time and current roster are sent again. Newest media socket of a kind wins likewise.
- Keep-alive: a request unanswered for the timeout drops (TCP abort, as Zoom's mock server
  does) that socket; for signaling the stream then ends with KEEP_ALIVE_TIMEOUT (24).
- STREAM_CLOSE_REQ: STREAM_CLOSE_RESP {rtms_stream_id, status_code 0, reason ""}, then
  TERMINATED with RECEIVER_REQUEST_CLOSE (20), close, rtms_stopped 20.
- Rejoining (reference §5, §8): a playing stream accepts a fresh signaling handshake (same ids,
  valid signature) at any time; it is counted in the report's `rejoins`. A playing stream
  whose signaling socket went away without STREAM_CLOSE_REQ (the client vanished) waits
  `reconnect_window_s` (60 s) for one, then ends: media sockets still open are closed with
  1000 and rtms_stopped says AWAIT_RECONNECTION_TIMEOUT (19). A stream that is over (19, 20,
  24, or played to the end) refuses every handshake with INVALID_STREAM_ID, counted in
  `refused_after_end`. The report's `texts` says of every transcript utterance and chat line
  that fell due whether a client socket got it, and when.
- Transcript content has no `language`/`attribute`; sharing, media-interrupted, video and
  metadata messages are never sent.
"""

from rtms_ingest.simulator.audio import expected_audio_bytes
from rtms_ingest.simulator.config import PRODUCTS, SimulatorConfig, Status, status_code
from rtms_ingest.simulator.faults import MALFORMED_FRAME, Faults
from rtms_ingest.simulator.report import (
    SentFrame,
    SignalingOutage,
    StreamReport,
    TextDelivery,
)
from rtms_ingest.simulator.session import SimulatedStream
from rtms_ingest.simulator.simulator import RtmsSimulator
from rtms_ingest.simulator.webhooks import WebhookDeliveryError

__all__ = [
    "MALFORMED_FRAME",
    "PRODUCTS",
    "Faults",
    "RtmsSimulator",
    "SentFrame",
    "SignalingOutage",
    "SimulatedStream",
    "SimulatorConfig",
    "Status",
    "StreamReport",
    "TextDelivery",
    "WebhookDeliveryError",
    "expected_audio_bytes",
    "status_code",
]
