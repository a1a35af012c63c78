"""Rate limits per person (or per address), counted where every worker sees them:
Redis when SOCKETIO_MESSAGE_QUEUE points at one, this process's memory otherwise
(the embedded default is one process).

Fixed windows: at most N hits per W seconds for each (scope, who). Scopes and
their settings are in config.py (HEARTLINK_RATE_<SCOPE>="N/W").
"""
import logging
import math
import threading
import time

from flask import current_app
from flask_babel import lazy_gettext as _l

from .errors import RateLimited

log = logging.getLogger(__name__)


class MemoryCounter:
    def __init__(self):
        self._counts = {}
        self._lock = threading.Lock()

    def hit(self, key, window):
        now = time.time()
        bucket = int(now // window)
        with self._lock:
            if len(self._counts) > 100_000:  # forget finished windows now and then
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= bucket - 1}
            count = self._counts.get((key, bucket), 0) + 1
            self._counts[(key, bucket)] = count
        return count, (bucket + 1) * window - now


class RedisCounter:
    def __init__(self, url, namespace):
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=2)
        self._namespace = namespace

    def hit(self, key, window):
        now = time.time()
        bucket = int(now // window)
        name = f"{self._namespace}:rate:{key}:{bucket}"
        pipe = self._redis.pipeline()
        pipe.incr(name)
        pipe.expire(name, int(window) + 1)
        count, _ = pipe.execute()
        return count, (bucket + 1) * window - now


def init_app(app):
    queue = app.config.get("SOCKETIO_MESSAGE_QUEUE") or ""
    app.extensions["heartlink_limits"] = (
        RedisCounter(queue, app.config["SOCKETIO_CHANNEL"]) if queue.startswith("redis") else MemoryCounter())


def check(scope, who):
    """Count one hit for `who` in `scope`; over the limit raises RateLimited with a retry hint."""
    limit, window = current_app.config[f"RATE_{scope}"]
    count, reset_in = current_app.extensions["heartlink_limits"].hit(f"{scope}:{who}", window)
    if count > limit:
        retry_after = max(1, math.ceil(reset_in))
        if count == limit + 1:
            log.warning("rate limit %s reached by %s", scope, who)
        raise RateLimited(_l("Slow down a little; try again in %(seconds)s s.", seconds=retry_after),
                          retry_after=retry_after)
