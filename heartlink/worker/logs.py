"""Logging for a worker: one handler on the root logger, as text or as JSON lines.

`python app.py --log-json` or HEARTLINK_LOG_FORMAT=json gives one JSON object per line
(for a log shipper); the default is text for a person. Fields passed with `extra=` (such
as the redis_exception python-socketio adds when a publish fails) are kept in both.
"""
import json
import logging
import sys
import time
from datetime import UTC, datetime

_handled = logging.getLogger("heartlink.events")
# What every LogRecord has; anything else on a record came from `extra=` and is context.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


def _context(record):
    return {key: value for key, value in vars(record).items() if key not in _STANDARD}


class JsonFormatter(logging.Formatter):
    def format(self, record):
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_context(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record):
        line = super().formatMessage(record)
        extra = _context(record)
        if extra:
            line += " " + " ".join(f"{key}={value}" for key, value in extra.items())
        return line


def setup(log_format="text", level="INFO", stream=None):
    """Send every logger's records to one stream handler in the chosen format."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper() if isinstance(level, str) else level)
    # python-socketio and engineio give their loggers a handler of their own when the root
    # has none yet; through ours instead, so that each line is written once, in our format.
    for name in ("socketio", "socketio.server", "socketio.client", "engineio", "engineio.server",
                 "engineio.client"):
        logging.getLogger(name).handlers.clear()


def event_handled(event, user_id, room_id, duration_ms, outcome):
    """One line per handled socket event, at DEBUG (HEARTLINK_LOG_LEVEL=DEBUG shows them).

    `outcome` is "ok" or the error code the ack carried ("forbidden", "internal", ...).
    """
    if not _handled.isEnabledFor(logging.DEBUG):
        return  # the hot path pays one level check when nobody reads these lines
    _handled.debug("event %s %s in %.1f ms", event, outcome, duration_ms, extra={
        "event": event, "user_id": user_id, "room_id": room_id,
        "duration_ms": round(duration_ms, 2), "outcome": outcome})


def flush():
    for handler in logging.getLogger().handlers:
        handler.flush()


class LogBudget:
    """At most `lines` log lines per `window` seconds for each client address: what one address
    sends can never fill the log. Remembers a bounded number of addresses."""

    def __init__(self, lines=3, window=60.0, addresses=10_000):
        self.lines, self.window, self.addresses = lines, window, addresses
        self._spent = {}  # address -> [window start, lines logged in it]

    def allows(self, address, now=None):
        now = time.monotonic() if now is None else now
        spent = self._spent.get(address)
        if spent is None or now - spent[0] >= self.window:
            if len(self._spent) >= self.addresses:
                self._spent.clear()  # a flood of addresses: start counting again
            spent = self._spent[address] = [now, 0]
        spent[1] += 1
        return spent[1] <= self.lines
