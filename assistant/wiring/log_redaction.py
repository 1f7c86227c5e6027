"""A logging filter that keeps share-link tokens out of the logs.

A shared page's URL is `/shared/<token>/` (assistant/urls.py) and the token is the only key to
it. Django logs a 4xx or 5xx answer with the request's path ("Gone: /shared/…/"), so every
record that passes the console handler has such a token replaced before it is written. Our own
code logs the link's id instead.
"""

from __future__ import annotations

import logging
import re

SHARED_PATH = "/shared/"
_TOKEN_IN_PATH = re.compile(r"(/shared/)[^/\s?#\"'<>]+")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """The text with every shared page's token replaced."""
    return _TOKEN_IN_PATH.sub(rf"\g<1>{REDACTED}", text) if SHARED_PATH in text else text


class RedactShareTokens(logging.Filter):
    """Rewrites a record whose message names a shared page; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: the handler reports it as usual
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
