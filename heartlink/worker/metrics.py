"""This worker's Prometheus metrics (`GET /metrics`, heartlink/entry/metrics.py).

Each `python app.py` process counts on its own and Prometheus scrapes every worker. Labels
stay few: no person or room ids; an event's name is one of the events the server answers
(anything else counts as "unknown"), and a code is one of the wire's error codes or "ok".
Counting is an increment under prometheus_client's own short lock, never held across I/O.
"""
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.process_collector import ProcessCollector

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)  # memory, CPU and open files of this worker
CONTENT_TYPE = CONTENT_TYPE_LATEST

# A chat's acks: most within a few milliseconds, a slow one within seconds.
_ACK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# Waiting for a heart link: from a moment to the whole HEARTLINK_MATCH_TIMEOUT (600 s).
_WAIT_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600)

UNKNOWN_EVENT = "unknown"

sockets_open = Gauge("heartlink_sockets_open", "Signed-in Socket.IO connections on this worker.",
                     registry=REGISTRY)
messages_stored = Counter("heartlink_messages_stored", "Messages this worker stored (duplicates not counted).",
                          registry=REGISTRY)
message_ack = Histogram("heartlink_message_ack_seconds",
                        "From a message:send arriving to its ack once stored (group commit included), on this worker.",
                        buckets=_ACK_BUCKETS, registry=REGISTRY)
event_acks = Counter("heartlink_event_acks", "Socket event acks by event and outcome (ok or the error's code).",
                     ["event", "code"], registry=REGISTRY)
matches = Counter("heartlink_matches", "Heart links made by pairing, by kind (random or code).", ["kind"],
                  registry=REGISTRY)
match_wait = Histogram("heartlink_match_wait_seconds", "How long the person who waited waited before a pairing.",
                       buckets=_WAIT_BUCKETS, registry=REGISTRY)
reports = Counter("heartlink_reports", "Reports filed (open) and decided (dismissed, actioned) on this worker.",
                  ["state"], registry=REGISTRY)
restrictions = Counter("heartlink_restrictions", "People held, suspended or banned, by the standing given.",
                       ["standing"], registry=REGISTRY)
queue_outages = Counter("heartlink_queue_outages", "Times this worker found the message queue (Redis) unreachable.",
                        registry=REGISTRY)
database_unavailable = Counter("heartlink_database_unavailable",
                               "Requests and events answered `unavailable` because the database was unreachable.",
                               registry=REGISTRY)

_events = set()


def known_event(name):
    """Register an event name the server answers: only these become label values."""
    _events.add(name)


def event_answered(event, code, seconds=None):
    """One ack of `event`; for message:send its latency goes in the histogram too."""
    event_acks.labels(event if event in _events else UNKNOWN_EVENT, code).inc()
    if seconds is not None and event == "message:send" and code == "ok":
        message_ack.observe(seconds)


def matched(kind, waited_seconds):
    matches.labels(kind).inc()
    match_wait.observe(max(0.0, waited_seconds))


def exposition():
    return generate_latest(REGISTRY)
