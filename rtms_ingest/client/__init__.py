"""One RTMS stream's client: signaling and media sockets, keep-alives, reconnects, the sink.

I/O only and no Django: messages come from `rtms_ingest.protocol`, and what a stream delivers
goes to the `StreamSink` it was given.
"""

from rtms_ingest.client.sink import StreamSink
from rtms_ingest.client.stream import (
    ClientStats,
    HandshakeRejected,
    RtmsCredentials,
    RtmsStreamClient,
    StreamTarget,
)
from rtms_ingest.client.url_policy import UrlPolicy, UrlRefused

__all__ = [
    "ClientStats",
    "HandshakeRejected",
    "RtmsCredentials",
    "RtmsStreamClient",
    "StreamSink",
    "StreamTarget",
    "UrlPolicy",
    "UrlRefused",
]
