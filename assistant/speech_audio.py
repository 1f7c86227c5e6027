"""Where an utterance's audio waits for its recognition job: Redis with a TTL, or this process.

PCM never travels in a broker message or a database row: the ingest puts it here under a key,
the `asr` job carries the key, and the worker takes the audio from here. Beside each audio the
store keeps the newest revision handed over for that utterance, so that a worker can skip a
provisional cut that a later one has already replaced (cheap backpressure when workers lag).
In the embedded shape jobs run in this very process, so a dictionary with expiry times does.

Redis may restart (docker-compose keeps its data in an append-only file): a call waits for it a
few seconds, then raises AudioStoreUnavailable.
"""

from __future__ import annotations

import threading
import time
from functools import cache
from typing import Protocol

import redis
from django.conf import settings
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

FINAL_REVISION = 1_000_000  # the final cut outranks every provisional revision

# What a store raises when Redis cannot be reached (after waiting for it).
AudioStoreUnavailable = redis.exceptions.RedisError
# Waits for a restarting Redis: 0.2, 0.4, 0.8 s, then a second apiece, about 10 s in all.
RESTART_RETRIES = 12


class AudioStore(Protocol):
    """PCM by key, and the newest revision per utterance, both expiring."""

    def put(self, key: str, pcm: bytes, utterance: str, revision: int) -> None:
        """Keep `pcm` under `key`; note `revision` as the utterance's newest if it is."""

    def get(self, key: str) -> bytes | None:
        """The audio, or None once it expired or was taken."""

    def newest_revision(self, utterance: str) -> int | None:
        """The newest revision handed over for the utterance (FINAL_REVISION for its final)."""

    def delete(self, key: str) -> None:
        """Drop audio no longer needed."""

    def keep(self, key: str, value: bytes, ttl_s: int) -> None:
        """Keep a value (a speaker's context) under `key` for `ttl_s`; `get` reads it."""

    def swap(self, key: str, expected: bytes | None, value: bytes, ttl_s: int) -> bool:
        """Keep `value` under `key` only if it still holds `expected` (None: nothing); done?"""

    def delete_prefix(self, prefix: str) -> int:
        """Drop every entry whose key starts with `prefix` (a deleted meeting's); how many."""


class RedisAudioStore:
    """Implements AudioStore on Redis (the production shape: ingest and workers apart)."""

    # Sets the newest revision only if it is newer: two cuts handed over out of order keep
    # the later one.
    _NEWER = (
        "local old = tonumber(redis.call('GET', KEYS[1]) or '-1') "
        "if tonumber(ARGV[1]) > old then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end"
    )

    # Compare and set: two workers on cuts of one utterance never overwrite each other unseen.
    _SWAP = (
        "local old = redis.call('GET', KEYS[1]) "
        "if (old == false and ARGV[1] == '') or old == ARGV[1] then "
        "redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) return 1 end return 0"
    )

    def __init__(self, url: str, ttl_s: int) -> None:
        self._redis = redis.Redis.from_url(
            url,
            retry=Retry(ExponentialBackoff(cap=1.0, base=0.1), RESTART_RETRIES),
            socket_connect_timeout=5,
            socket_timeout=10,
        )
        self._ttl_s = ttl_s
        self._set_newer = self._redis.register_script(self._NEWER)
        self._swap = self._redis.register_script(self._SWAP)

    def put(self, key: str, pcm: bytes, utterance: str, revision: int) -> None:
        with self._redis.pipeline(transaction=False) as pipe:
            pipe.set(key, pcm, ex=self._ttl_s)
            self._set_newer(keys=[utterance], args=[revision, self._ttl_s], client=pipe)
            pipe.execute()

    def get(self, key: str) -> bytes | None:
        value = self._redis.get(key)
        return value if isinstance(value, bytes) else None

    def newest_revision(self, utterance: str) -> int | None:
        value = self._redis.get(utterance)
        return None if value is None else int(value)

    def delete(self, key: str) -> None:
        self._redis.delete(key)

    def keep(self, key: str, value: bytes, ttl_s: int) -> None:
        self._redis.set(key, value, ex=ttl_s)

    def swap(self, key: str, expected: bytes | None, value: bytes, ttl_s: int) -> bool:
        # A kept value is never empty, so b"" stands for "nothing there".
        return bool(self._swap(keys=[key], args=[expected or b"", value, ttl_s]))

    def delete_prefix(self, prefix: str) -> int:
        removed = 0
        for key in self._redis.scan_iter(match=f"{prefix}*", count=500):
            removed += int(self._redis.delete(key))
        return removed


class InProcessAudioStore:
    """Implements AudioStore in this process's memory (the embedded shape), with expiry."""

    def __init__(self, ttl_s: int) -> None:
        self._ttl_s = ttl_s
        self._audio: dict[str, tuple[float, bytes]] = {}
        self._newest: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def put(self, key: str, pcm: bytes, utterance: str, revision: int) -> None:
        expires = time.monotonic() + self._ttl_s
        with self._lock:
            self._expire()
            self._audio[key] = (expires, pcm)
            current = self._newest.get(utterance)
            if current is None or revision > current[1]:
                self._newest[utterance] = (expires, revision)

    def get(self, key: str) -> bytes | None:
        with self._lock:
            self._expire()
            entry = self._audio.get(key)
        return None if entry is None else entry[1]

    def newest_revision(self, utterance: str) -> int | None:
        with self._lock:
            entry = self._newest.get(utterance)
        return None if entry is None else entry[1]

    def delete(self, key: str) -> None:
        with self._lock:
            self._audio.pop(key, None)

    def keep(self, key: str, value: bytes, ttl_s: int) -> None:
        with self._lock:
            self._expire()
            self._audio[key] = (time.monotonic() + ttl_s, value)

    def swap(self, key: str, expected: bytes | None, value: bytes, ttl_s: int) -> bool:
        with self._lock:
            self._expire()
            entry = self._audio.get(key)
            if (None if entry is None else entry[1]) != expected:
                return False
            self._audio[key] = (time.monotonic() + ttl_s, value)
            return True

    def delete_prefix(self, prefix: str) -> int:
        with self._lock:
            keys = [
                k for table in (self._audio, self._newest) for k in table if k.startswith(prefix)
            ]
            for key in keys:
                self._audio.pop(key, None)
                self._newest.pop(key, None)
        return len(keys)

    def _expire(self) -> None:
        now = time.monotonic()
        for table in (self._audio, self._newest):
            for key in [k for k, (expires, _) in table.items() if expires <= now]:
                del table[key]


def audio_store() -> AudioStore:
    """This process's store: Redis when jobs run in workers, else memory (jobs run here then)."""
    in_process = settings.JOBS_IN_PROCESS or not settings.REDIS_URL
    return _store("" if in_process else settings.REDIS_URL, settings.ASR_AUDIO_TTL_S)


@cache
def _store(redis_url: str, ttl_s: int) -> AudioStore:
    """One store per configuration (settings can change in tests)."""
    if redis_url:
        return RedisAudioStore(redis_url, ttl_s)
    return InProcessAudioStore(ttl_s)
