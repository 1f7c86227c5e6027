"""The RTMS wire protocol: every message built and parsed, its enums, products and signatures.

No sockets and no Django: pure functions and dataclasses (docs/rtms-protocol.md). The message
declarations live in `messages`; this package re-exports them, so callers write
`from rtms_ingest.protocol import MediaType`.
"""

from rtms_ingest.protocol.messages import *  # noqa: F403  (re-export of messages.__all__)
from rtms_ingest.protocol.messages import __all__ as __all__
