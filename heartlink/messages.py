"""Messages: sending with a per-room gapless seq, idempotent by client_id."""
import logging
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from .database import write_transaction
from .errors import BadRequest, Conflict, NotFound
from .extensions import db
from .models import Message, Room, utcnow
from .rooms import room_for_member

log = logging.getLogger(__name__)

MAX_TEXT = 4000


class Sent(NamedTuple):
    room: Room
    message: Message
    duplicate: bool


def clean_text(text):
    """Text is 1–4000 characters after trimming; it is stored as typed."""
    if not isinstance(text, str) or not text.strip():
        raise BadRequest(_l("A message needs some text."))
    if len(text.strip()) > MAX_TEXT:
        raise BadRequest(_l("A message has at most 4000 characters."))
    return text


def _stored(sender_id, client_id):
    return db.session.execute(
        select(Message).where(Message.sender_id == sender_id, Message.client_id == client_id)
    ).scalar_one_or_none()


def send(room_id, sender_id, client_id, kind="text", text=None, reply_to=None):
    """Store a message. Returns Sent(room, message, duplicate).

    A retry with a client_id already stored returns the stored message with
    duplicate=True and stores nothing new, so a resend after a reconnect is safe.
    """
    room = room_for_member(room_id, sender_id)
    existing = _stored(sender_id, client_id)
    if existing is not None:
        return _as_duplicate(room, existing)
    if kind != "text":
        raise BadRequest(_l("This kind of message is not supported."))
    text = clean_text(text)
    try:
        with write_transaction() as session:
            if reply_to is not None and session.execute(
                select(Message.id).where(Message.id == reply_to, Message.room_id == room.id)
            ).scalar() is None:
                raise NotFound(_l("The message you reply to is not in this heart link."))
            now = utcnow()
            # Taking the next seq is the write that serialises senders in one room
            # (a row lock on PostgreSQL, the write lock on SQLite): no gaps, one order.
            seq = session.execute(
                update(Room)
                .where(Room.id == room.id, Room.status == "active")
                .values(last_seq=Room.last_seq + 1, last_activity_at=now)
                .returning(Room.last_seq)
            ).scalar()
            if seq is None:
                raise Conflict(_l("This heart link has ended."))
            message = Message(room_id=room.id, seq=seq, client_id=client_id, sender_id=sender_id,
                              kind=kind, text=text, reply_to=reply_to, created_at=now)
            session.add(message)
    except IntegrityError:
        # The same client_id raced in from another socket and won: that one is the message.
        existing = _stored(sender_id, client_id)
        if existing is None:
            raise
        return _as_duplicate(room, existing)
    return Sent(room, message, False)


def _as_duplicate(room, message):
    if message.room_id != room.id:
        raise Conflict(_l("That client_id was already used in another heart link."))
    return Sent(room, message, True)
