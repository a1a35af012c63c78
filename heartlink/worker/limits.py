"""Rate limits per person (or per address), counted where every worker sees them:
Redis when SOCKETIO_MESSAGE_QUEUE points at one, this process's memory otherwise
(the embedded default is one process).

A moving window (the `limits` library, as Flask-Limiter uses it): at most N hits in
any W seconds for each (scope, who). A fixed window would let 2N through around each
window's boundary. Scopes and their settings are in config.py (HEARTLINK_RATE_<SCOPE>="N/W").

Budgets (`spend`) count amounts rather than hits, such as the characters a person stores
in a day (HEARTLINK_BUDGET_<SCOPE>="N/W"): a fixed window from the first amount spent, since
a moving window keeps one entry per unit. Past the budget everything is refused until the
window ends.

When Redis cannot be reached, a worker counts in its own memory until Redis answers
again (it tries again every few seconds): limits keep holding, per worker, and no event
fails because the counters are away.
"""
import functools
import logging
import math
import time
from collections import deque

from flask import current_app
from flask_babel import lazy_gettext as _l
from limits import RateLimitItemPerSecond
from limits.storage import RedisStorage
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from config import redis_queue

from ..errors import RateLimited

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=64)
def _item(limit, window):
    """`limits` counts windows in whole seconds."""
    if window != int(window) or window < 1:
        raise ValueError(f"a rate window is a whole number of seconds, not {window}")
    return RateLimitItemPerSecond(limit, int(window))


class _Warned:
    """Says once per window that someone reached a limit, not once per refused hit."""

    def __init__(self):
        self._until = {}

    def first(self, key, window):
        now = time.time()
        if self._until.get(key, 0) > now:
            return False
        if len(self._until) > 10_000:
            self._until = {k: v for k, v in self._until.items() if v > now}
        self._until[key] = now + window
        return True


class _WindowStats:
    def __init__(self, reset_time):
        self.reset_time = reset_time


class _LocalMovingWindow:
    """The same moving window in this process's memory: the times of each key's accepted
    hits in the last window. (The `limits` library's memory storage expires entries with
    a timer thread over every key each second and starts a thread per hit: measured at
    two thirds of a worker's CPU with 1,000 people connected, docs/performance.md.)"""

    _SWEEP_AT = 100_000  # keys; past that, keys with no hit in their window are dropped

    def __init__(self):
        self._hits = {}

    def hit(self, item, *names):
        key, now = (item.amount, item.get_expiry(), *names), time.time()
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= self._SWEEP_AT:
                self._sweep(now)
            hits = self._hits[key] = deque()
        while hits and hits[0] <= now - item.get_expiry():
            hits.popleft()
        if len(hits) >= item.amount:
            return False
        hits.append(now)
        return True

    def get_window_stats(self, item, *names):
        hits = self._hits.get((item.amount, item.get_expiry(), *names))
        oldest = hits[0] if hits else time.time()
        return _WindowStats(oldest + item.get_expiry())

    def _sweep(self, now):
        self._hits = {key: hits for key, hits in self._hits.items() if hits and hits[-1] > now - key[1]}


class _LocalFixedWindow:
    """A budget's fixed window in this process's memory, as the `limits` library keeps it in
    Redis: the window starts with the first amount, and every amount is counted."""

    _SWEEP_AT = 100_000

    def __init__(self):
        self._spent = {}  # key -> [window start, amount spent]

    def hit(self, item, *names, cost=1):
        key, now = (item.amount, item.get_expiry(), *names), time.time()
        spent = self._spent.get(key)
        if spent is None or now >= spent[0] + item.get_expiry():
            if len(self._spent) >= self._SWEEP_AT:
                self._spent = {k: v for k, v in self._spent.items() if now < v[0] + k[1]}
            spent = self._spent[key] = [now, 0]
        spent[1] += cost
        return spent[1] <= item.amount

    def get_window_stats(self, item, *names):
        spent = self._spent.get((item.amount, item.get_expiry(), *names))
        return _WindowStats((spent[0] if spent else time.time()) + item.get_expiry())


class _SharedOrLocal:
    """The shared (Redis) limiter, or this worker's own while Redis is unreachable."""

    RETRY_AFTER = 5  # s between attempts to reach Redis again

    def __init__(self, shared, local):
        self._shared, self._local = shared, local
        self._away_until = 0.0

    def _call(self, name, *args, **kwargs):
        if self._shared is not None and time.monotonic() >= self._away_until:
            try:
                answer = getattr(self._shared, name)(*args, **kwargs)
            except Exception:  # noqa: BLE001 - any storage failure: count locally meanwhile
                if not self._away_until:
                    log.warning("rate-limit counters unreachable; counting in this worker meanwhile",
                                exc_info=True)
                self._away_until = time.monotonic() + self.RETRY_AFTER
            else:
                if self._away_until:
                    log.info("rate-limit counters reachable again")
                    self._away_until = 0.0
                return answer
        return getattr(self._local, name)(*args, **kwargs)

    def hit(self, *args, **kwargs):
        return self._call("hit", *args, **kwargs)

    def get_window_stats(self, *args):
        return self._call("get_window_stats", *args)


def init_app(app):
    queue = redis_queue(app.config)
    rates = budgets = None
    if queue:
        storage = RedisStorage(queue, key_prefix=f"{app.config['SOCKETIO_CHANNEL']}:rate", socket_timeout=1,
                               socket_connect_timeout=1)
        rates, budgets = MovingWindowRateLimiter(storage), FixedWindowRateLimiter(storage)
    app.extensions["heartlink_limits"] = (_SharedOrLocal(rates, _LocalMovingWindow()), _Warned())
    app.extensions["heartlink_budgets"] = _SharedOrLocal(budgets, _LocalFixedWindow())


def check(setting, who):
    """Count one hit for `who` against the rate limit `setting` (a RATE_… setting's name, so a
    search for the setting finds every place it is applied); over the limit raises RateLimited
    with a retry hint (whole seconds until the oldest hit in the window leaves it). A refused hit
    is not counted."""
    item = _item(*current_app.config[setting])
    limiter, warned = current_app.extensions["heartlink_limits"]
    who = str(who)
    if limiter.hit(item, setting, who):
        return
    reset_at = limiter.get_window_stats(item, setting, who).reset_time
    retry_after = max(1, math.ceil(reset_at - time.time()))
    if warned.first((setting, who), item.get_expiry()):
        log.warning("rate limit %s reached by %s", setting, who)
    raise RateLimited(_l("Slow down a little; try again in %(seconds)s s.", seconds=retry_after),
                      retry_after=retry_after)


def spend(setting, who, amount):
    """Take `amount` from `who`'s budget `setting` (a BUDGET_… setting's name); past it raises
    RateLimited with the time until the budget's window ends."""
    if amount <= 0:
        return
    item = _item(*current_app.config[setting])
    budgets = current_app.extensions["heartlink_budgets"]
    _, warned = current_app.extensions["heartlink_limits"]
    who = str(who)
    if budgets.hit(item, setting, who, cost=amount):
        return
    retry_after = max(1, math.ceil(budgets.get_window_stats(item, setting, who).reset_time - time.time()))
    if warned.first((setting, who), item.get_expiry()):
        log.warning("budget %s spent by %s", setting, who)
    raise RateLimited(_l("You have written a lot today; try again in %(hours)s h.",
                         hours=max(1, round(retry_after / 3600))), retry_after=retry_after)
