"""Where the tests' RTMS clients may connect: the simulator on loopback, over plain ws:// too.

What a user testing against the local simulator sets (RTMS_ALLOWED_HOSTS=127.0.0.1,
RTMS_ALLOW_INSECURE_WS=1); a client built without it would refuse every test server.
"""

from rtms_ingest.client import UrlPolicy

LOOPBACK_POLICY = UrlPolicy(("127.0.0.1",), allow_insecure=True)
