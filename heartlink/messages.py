"""Messages: sending with a per-room gapless seq, idempotent by client_id."""
import logging
import uuid
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from . import attachments
from .database import write_transaction
from .emoji import is_one_emoji
from .errors import BadRequest, Conflict, Forbidden, NotFound
from .extensions import db
from .models import Message, Reaction, Room, RoomMember, utcnow
from .rooms import active_room_for_member, members_of, room_for_member

log = logging.getLogger(__name__)

MAX_TEXT = 4000


class Sent(NamedTuple):
    member_ids: list
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


def send(room_id, sender_id, client_id, kind="text", text=None, reply_to=None, attachment_id=None):
    """Store a message. Returns Sent(member_ids, message, duplicate).

    A retry with a client_id already stored returns the stored message with
    duplicate=True and stores nothing new, so a resend after a reconnect is safe.
    """
    member_ids = members_of(room_id, sender_id)
    existing = _stored(sender_id, client_id)
    if existing is not None:
        return _as_duplicate(room_id, member_ids, existing)
    if kind == "text":
        if attachment_id is not None:
            raise BadRequest(_l("A text message has no attachment."), field="attachment_id")
        text = clean_text(text)
    elif kind in attachments.KINDS:
        if attachment_id is None:
            raise BadRequest(_l("This message needs an attachment."), field="attachment_id")
        text = clean_text(text) if text and text.strip() else None  # an optional caption
    else:
        raise BadRequest(_l("This kind of message cannot be sent."), field="kind")
    try:
        with write_transaction() as session:
            if reply_to is not None and session.execute(
                select(Message.id).where(Message.id == reply_to, Message.room_id == room_id)
            ).scalar() is None:
                raise NotFound(_l("The message you reply to is not in this heart link."))
            if attachment_id is not None:
                attachments.claim(session, room_id, sender_id, kind, attachment_id)
            message = append_in(session, room_id, sender_id=sender_id, client_id=client_id, kind=kind, text=text,
                              reply_to=reply_to, attachment_id=attachment_id)
    except IntegrityError:
        # The same client_id raced in from another socket and won: that one is the message.
        existing = _stored(sender_id, client_id)
        if existing is None:
            raise
        return _as_duplicate(room_id, member_ids, existing)
    return Sent(member_ids, message, False)


def append_in(session, room_id, **fields):
    """Add a message at the room's next seq, inside the caller's write transaction.
    Messages the server writes itself (a call's outcome) come through here too."""
    fields.setdefault("client_id", str(uuid.uuid4()))
    now = utcnow()
    # Taking the next seq is the write that serialises senders in one room
    # (a row lock on PostgreSQL, the write lock on SQLite): no gaps, one order.
    seq = session.execute(
        update(Room)
        .where(Room.id == room_id, Room.status == "active")
        .values(last_seq=Room.last_seq + 1, last_activity_at=now)
        .returning(Room.last_seq)
    ).scalar()
    if seq is None:
        raise Conflict(_l("This heart link has ended."))
    # A new message has no reactions yet: saying so spares a query when it is put on the wire.
    message = Message(room_id=room_id, seq=seq, created_at=now, reactions=[], **fields)
    session.add(message)
    session.flush()
    return message


def _as_duplicate(room_id, member_ids, message):
    if message.room_id != room_id:
        raise Conflict(_l("That client_id was already used in another heart link."))
    return Sent(member_ids, message, True)


def mark(room_id, user_id, up_to_seq, read):
    """Move the member's delivered (and, if `read`, read) mark forward to up_to_seq.

    Marks never move back and never pass the room's last seq; reading implies
    delivery. Returns the member's receipt if it moved, else None.
    """
    room = room_for_member(room_id, user_id)
    target = min(up_to_seq, room.last_seq)
    columns = [RoomMember.delivered_seq] + ([RoomMember.read_seq] if read else [])
    moved = False
    with write_transaction() as session:
        for column in columns:
            moved |= session.execute(
                update(RoomMember)
                .where(RoomMember.room_id == room.id, RoomMember.user_id == user_id, column < target)
                .values({column: target})
            ).rowcount == 1
    if not moved:
        return None
    member = session.get(RoomMember, (room.id, user_id))
    session.refresh(member)
    return room, {"room_id": room.id, "user_id": user_id, **member.receipt()}


def _own_message(room_id, user_id, message_id):
    """A message of the caller's in an active link they are a member of."""
    room = active_room_for_member(room_id, user_id)
    message = db.session.get(Message, message_id)
    if message is None or message.room_id != room.id:
        raise NotFound(_l("No such message in this heart link."))
    if message.sender_id != user_id or message.kind not in ("text", *attachments.KINDS):
        raise Forbidden(_l("You can only change your own messages."))
    if message.deleted:
        raise Conflict(_l("That message was deleted."))
    return room, message


def edit(room_id, user_id, message_id, text):
    room, message = _own_message(room_id, user_id, message_id)
    if message.kind == "text":
        text = clean_text(text)
    else:
        text = clean_text(text) if text and text.strip() else None
    with write_transaction():
        message.text = text
        message.edited_at = utcnow()
    return room, message


def delete(room_id, user_id, message_id):
    """Delete for everyone: a tombstone stays in its place; its upload goes at once."""
    room, message = _own_message(room_id, user_id, message_id)
    upload = message.attachment
    with write_transaction() as session:
        message.deleted = True
        message.text = None
        message.attachment_id = None
        message.reactions.clear()
        if upload is not None:
            session.delete(upload)
    if upload is not None:
        attachments.discard_files(upload.id)
    return room, message


def _check_emoji(emoji):
    """A reaction is exactly one emoji (the rule: heartlink/emoji.py)."""
    if not is_one_emoji(emoji):
        raise BadRequest(_l("A reaction is one emoji."), field="emoji")


def react(room_id, user_id, message_id, emoji):
    """Toggle the caller's one reaction on a message: the same emoji again removes it."""
    _check_emoji(emoji)
    room = active_room_for_member(room_id, user_id)
    message = db.session.get(Message, message_id)
    if message is None or message.room_id != room.id:
        raise NotFound(_l("No such message in this heart link."))
    if message.deleted:
        raise Conflict(_l("That message was deleted."))
    with write_transaction() as session:
        mine = session.get(Reaction, (message.id, user_id))
        if mine is None:
            session.add(Reaction(message_id=message.id, user_id=user_id, emoji=emoji))
        elif mine.emoji == emoji:
            session.delete(mine)
        else:
            mine.emoji = emoji
    db.session.refresh(message)
    return room, message
