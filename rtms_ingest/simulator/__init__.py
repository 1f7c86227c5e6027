"""Zoom in a box: a local RTMS server that plays recorded meetings over real sockets.

    async with RtmsSimulator(load_meeting(path), SimulatorConfig(client_id, secret, token)) as sim:
        stream = sim.new_stream()          # connect a client to stream.signaling_url ...
        report = await sim.play(stream)    # ... while the meeting plays

Protocol behaviour follows docs/rtms-protocol.md; the choices made where the reference is
UNCONFIRMED are listed in the module docstrings of `session`, `player` and `audio`, and in
the simulator's README section of the issue's closing note.
"""

from rtms_ingest.simulator.audio import expected_audio_bytes
from rtms_ingest.simulator.config import PRODUCTS, SimulatorConfig, Status, status_code
from rtms_ingest.simulator.faults import MALFORMED_FRAME, Faults
from rtms_ingest.simulator.report import SentFrame, StreamReport
from rtms_ingest.simulator.session import SimulatedStream
from rtms_ingest.simulator.simulator import RtmsSimulator
from rtms_ingest.simulator.webhooks import WebhookDeliveryError

__all__ = [
    "MALFORMED_FRAME",
    "PRODUCTS",
    "Faults",
    "RtmsSimulator",
    "SentFrame",
    "SimulatedStream",
    "SimulatorConfig",
    "Status",
    "StreamReport",
    "WebhookDeliveryError",
    "expected_audio_bytes",
    "status_code",
]
