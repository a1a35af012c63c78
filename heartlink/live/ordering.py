"""Delivery of each room's messages in seq order, on one worker and across many.

A worker's writer hands a room's new messages on in seq order. With several workers,
two messages of one room are committed by different processes and reach every worker
through the message queue in whichever order they were published, and a client that
rejoins with since_seq = the highest seq it holds would never see one overtaken by a
later one. So every worker passes `message:new` to its sockets only in seq order:

- the next seq of a room is delivered at once;
- one that arrives ahead of a gap brings the missing ones from the database first:
  they are committed, because a room's seqs are taken under its row lock (the write
  lock on SQLite), so seq n has committed before n+1 could be taken, and a message is
  published only after its commit;
- one that arrives after it was already delivered that way is dropped;
- if the database cannot be read at that moment, the one that arrived is delivered alone:
  clients that see a seq past a gap catch up themselves (docs/protocol.md, section 8).

The seq a worker has delivered up to is known for rooms it saw created (`match:found`)
or opened (`room:join`) since it started, and learnt from the first message otherwise.
The managers below are the python-socketio client managers with this one rule added.
"""
import logging
import threading

import socketio
from sqlalchemy import select

from config import redis_queue

log = logging.getLogger(__name__)

_EVENT = "message:new"
_MAX_ROOMS = 200_000


class RoomOrder:
    """Per worker: the highest seq of each room handed to this worker's sockets."""

    def __init__(self, app):
        self._app = app
        self._delivered = {}
        self._lock = threading.Lock()

    def seen(self, room_id, seq):
        """A room's seq as this worker's sockets know it (a new room, a room opened)."""
        with self._lock:
            if room_id not in self._delivered:
                self._remember(room_id, seq)

    def admit(self, message, skip_sid):
        """The messages to deliver now, in order, for one that arrived: [(message, skip_sid)]."""
        room_id, seq = message["room_id"], message["seq"]
        with self._lock:
            last = self._delivered.get(room_id)
            if last is not None and seq <= last:
                return []  # delivered already, ahead of its own publication
            if last is None or seq == last + 1:
                self._remember(room_id, seq)
                return [(message, skip_sid)]
        try:
            missing = self._load(room_id, last, seq)
        except Exception:  # noqa: BLE001 - the database is away: deliver what arrived, clients catch up
            # A client that gets a seq past a gap asks for the difference (docs/protocol.md,
            # section 8); holding this one back would lose it for this worker's sockets, and
            # raising would keep the sending worker from publishing it to the others.
            log.exception("room %s: seqs %s..%s could not be read; delivering %s without them",
                          room_id, last + 1, seq - 1, seq)
            missing = []
        with self._lock:
            floor = self._delivered.get(room_id, last)
            if seq <= floor:
                return []  # delivered meanwhile, with the ones it was missing
            self._remember(room_id, seq)
        log.info("room %s: seq %s arrived before %s..%s; those were read from the database",
                 room_id, seq, last + 1, seq - 1)
        # The sockets that sent the missing ones have them in their acks already; a
        # repeat is harmless to a client, which keeps each seq once.
        return [(found, None) for found in missing if found["seq"] > floor] + [(message, skip_sid)]

    def _remember(self, room_id, seq):
        if len(self._delivered) >= _MAX_ROOMS:
            for stale in list(self._delivered)[: _MAX_ROOMS // 4]:
                del self._delivered[stale]
        self._delivered[room_id] = seq

    def _load(self, room_id, after_seq, before_seq):
        from .. import wire
        from ..extensions import db
        from ..models import Message

        with self._app.app_context():
            found = db.session.execute(
                select(Message).where(Message.room_id == room_id, Message.seq > after_seq,
                                      Message.seq < before_seq).order_by(Message.seq)
            ).scalars().all()
            return [wire.stored_message(message) for message in found]


def _note(order, event, data):
    if event == "match:found" and isinstance(data, dict) and "room" in data:
        order.seen(data["room"]["id"], data["room"]["last_seq"])


class OrderedManager(socketio.Manager):
    """One process, no message queue."""

    def __init__(self, order):
        super().__init__()
        self.order = order

    def emit(self, event, data, namespace, room=None, skip_sid=None, callback=None, to=None, **kwargs):
        room = to or room
        if event != _EVENT:
            _note(self.order, event, data)
            return super().emit(event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, **kwargs)
        for message, skip in self.order.admit(data["message"], skip_sid):
            super().emit(event, {"message": message}, namespace, room=room, skip_sid=skip, callback=callback,
                         **kwargs)
        return None


class OrderedRedisManager(socketio.RedisManager):
    """Several workers on a Redis message queue: the rule applies where each worker
    hands the queue's events to its own sockets (its own emits included), python-socketio's
    private _handle_emit (heartlink/worker/borrowed.py lists it)."""

    def __init__(self, order, url, channel):
        super().__init__(url, channel=channel)
        self.order = order

    def _handle_emit(self, message):
        event, data = message.get("event"), message.get("data") or [None]
        if event != _EVENT:
            _note(self.order, event, data[0])
            return super()._handle_emit(message)
        for found, skip in self.order.admit(data[0]["message"], message.get("skip_sid")):
            super()._handle_emit({**message, "data": [{"message": found}], "skip_sid": skip})
        return None


def client_manager(app, order):
    """The client manager for this app's Socket.IO server."""
    queue = app.config["SOCKETIO_MESSAGE_QUEUE"]
    if not queue:
        return OrderedManager(order)
    if redis_queue(app.config):
        return OrderedRedisManager(order, queue, app.config["SOCKETIO_CHANNEL"])
    raise RuntimeError("SOCKETIO_MESSAGE_QUEUE must be a redis:// URL")


def room_opened(app, room):
    """A socket of this worker opened a room (room:join's answer): from here on, this worker
    delivers the room's messages in seq order after the ones the socket was given."""
    app.extensions["heartlink_order"].seen(room["id"], room["last_seq"])
