"""The message writer: one per worker, it stores the sends of everyone on the worker in
batches (group commit, messages.store) and broadcasts them once stored.

A send is acked and broadcast only after the transaction holding it has committed, so
nothing acknowledged is ever lost; the batch's new messages are handed to announce in
seq order. While one batch commits, the sends that arrive queue up and become the next
batch, so under load a transaction carries many messages, and alone it carries one.

Under the threading mode (the Flask-SocketIO test client) a send is stored at once in
its caller's thread, as a batch of one.
"""
import logging

from flask import current_app

from ..domain import messages, rooms
from ..errors import DomainError
from ..extensions import socketio
from ..worker import borrowed, database, metrics, offload
from . import announce

log = logging.getLogger(__name__)


_WAIT = 30  # s; a send still unsettled by then is answered `internal` (a resend is safe)


class Writer:
    def __init__(self, app):
        self._app = app
        self._queue = None

    def send(self, draft, skip_sid=None):
        """Store a checked send and broadcast it; returns its messages.Sent (or raises)."""
        server = borrowed.engineio_server(socketio.server)
        if server.async_mode == "threading":
            self.store_batch([(draft, skip_sid, None)])
            return draft.outcome()
        if self._queue is None:
            self._queue = server.create_queue()
            socketio.start_background_task(self._run)
        # The wait holds no pooled connection: sends queued behind a batch would otherwise
        # hold them all, and the writer could not get one to store the batch.
        offload.release_database()
        settled = server.create_event()
        self._queue.put((draft, skip_sid, settled))
        if not settled.wait(_WAIT):
            log.error("send %s of user %s not stored within %s s", draft.client_id, draft.sender_id, _WAIT)
            raise DomainError()
        return draft.outcome()

    def _run(self):
        empty = borrowed.engineio_server(socketio.server).get_queue_empty_exception()
        while True:
            batch = [self._queue.get()]
            # Let the handlers that are ready run first: their sends join this batch.
            socketio.sleep(0)
            while len(batch) < messages.MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except empty:
                    break
            with self._app.app_context():
                self.store_batch(batch)

    def store_batch(self, batch):
        """Store a batch of sends, [(draft, skip_sid, settled event or None)], broadcast the
        new messages and settle every send."""
        drafts = [draft for draft, _skip, _settled in batch]
        try:
            new = set(map(id, messages.store(drafts)))
        except Exception as error:  # noqa: BLE001 - logged; every send of the batch is answered
            failed = database.failure(error, log, "storing a batch of %d sends failed", len(batch))
            new = set()
            for draft in drafts:
                if draft.sent is None and draft.error is None:
                    draft.error = failed
        metrics.messages_stored.inc(len(new))
        for draft, skip_sid, settled in batch:
            if id(draft) in new:
                self._broadcast(draft, skip_sid)
            if settled is not None:
                settled.set()
        for draft in drafts:
            if draft.reveals and id(draft) in new:
                self._revealed(draft)

    @staticmethod
    def _revealed(draft):
        # The batch made both members' counts reach HEARTLINK_REVEAL_AFTER: they now see each other.
        try:
            announce.room_updated(rooms.fresh(draft.room_id))
        except Exception:  # noqa: BLE001 - logged; the room's next read shows it revealed
            log.exception("announcing the reveal of room %s failed", draft.room_id)

    @staticmethod
    def _broadcast(draft, skip_sid):
        # A stored message is acked whatever happens here; one that fails to go out is not
        # allowed to keep the rest of its batch from going out. Its partner gets it with
        # the room's next message (heartlink.ordering) or by catch-up.
        try:
            announce.message_new(draft.sent.member_ids, draft.sent.message, skip_sid=skip_sid)
        except Exception:  # noqa: BLE001 - logged with the message it concerns
            log.exception("broadcasting message %s of room %s failed", draft.sent.message["seq"], draft.room_id)


def writer():
    """This app's writer."""
    app = current_app._get_current_object()
    found = app.extensions.get("heartlink_writer")
    if found is None:
        found = app.extensions["heartlink_writer"] = Writer(app)
    return found
