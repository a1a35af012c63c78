"""Rooms: who may see a heart link, catch-up after a reconnect, ending a link."""
import logging

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, select, update

from .. import wire
from ..errors import Conflict, Forbidden, NotFound
from ..extensions import db
from ..models import HiddenMessage, Message, Room, RoomMember, User, utcnow
from ..worker.database import write_transaction
from . import privacy

log = logging.getLogger(__name__)

CATCH_UP_LIMIT = 200
# An answer also stops once its texts reach this many characters (has_more carries the rest):
# 200 of the longest messages made an 8 MB answer that a socket could ask for again and again.
ANSWER_TEXT_BUDGET = 256 * 1024
MAX_PAGE = 100
MAX_RANGE = 1000  # a history answer asked down to a seq (from_seq): at most this many messages


# Room id -> its members' ids. A room's two members never change, so this per-process
# cache needs no invalidation: whether the link is still active is checked by the write
# itself (messages take their seq only from an active room).
_members = {}
_MAX_CACHED = 100_000


def members_of(room_id, user_id):
    """The member ids of a room, if `user_id` is one of them: the one membership check."""
    if not isinstance(room_id, str):
        raise NotFound(_l("No such heart link."))
    ids = _members.get(room_id)
    if ids is None:
        ids = tuple(db.session.execute(
            select(RoomMember.user_id).where(RoomMember.room_id == room_id).order_by(RoomMember.user_id)
        ).scalars())
        if not ids:
            raise NotFound(_l("No such heart link."))  # every room has its two members
        if len(_members) >= _MAX_CACHED:
            _members.clear()
        _members[room_id] = ids
    if user_id not in ids:
        raise Forbidden(_l("This heart link is not yours."))
    return ids


def room_for_member(room_id, user_id):
    """The room, if `user_id` is one of its two members."""
    members_of(room_id, user_id)
    return db.session.get(Room, room_id)


def active_room_for_member(room_id, user_id):
    """The room, if the user is a member and the link has not ended."""
    room = room_for_member(room_id, user_id)
    if not room.active:
        raise Conflict(_l("This heart link has ended."))
    return room


def _hidden_by(user_id, message=Message):
    """Whether `user_id` deleted `message` for themself: a primary-key lookup per row."""
    return exists().where(HiddenMessage.user_id == user_id, HiddenMessage.message_id == message.id)


def not_hidden_for(user_id, message=Message):
    """The one test of "delete for me" in a read: what `user_id` has not hidden (messages.hide)."""
    return ~_hidden_by(user_id, message)


def unread_count(room, user_id):
    member = next(m for m in room.members if m.user_id == user_id)
    return db.session.query(func.count(Message.id)).filter(
        Message.room_id == room.id, Message.seq > member.read_seq, Message.sender_id != user_id,
        not_hidden_for(user_id),
    ).scalar()


def room_view(room, user_id):
    """A room as one member sees it (no partner presence once the link has ended)."""
    blocked = privacy.blocked_between(*room.member_ids())
    return _as_seen(room, user_id, unread_count(room, user_id), blocked)


def _as_seen(room, user_id, unread, blocked):
    return wire.room(room, user_id, unread, keepable=not blocked)


def fresh(room_id):
    """A room as the database holds it now, its members too."""
    room = db.session.get(Room, room_id)
    db.session.refresh(room)
    for member in room.members:
        db.session.refresh(member)
    return room


def receipts(room):
    return {str(member.user_id): member.receipt() for member in room.members}


def join(room_id, user_id, since_seq=None):
    """What a member needs to (re)open a room: messages after since_seq, or the latest page."""
    room = room_for_member(room_id, user_id)
    query = _listed(room.id, user_id)
    if since_seq is None:
        page = query.order_by(Message.seq.desc()).limit(current_app.config["MESSAGE_PAGE_SIZE"] + 1).all()
        messages, has_more = _within_budget(page, current_app.config["MESSAGE_PAGE_SIZE"])
        messages.reverse()
    else:
        page = query.filter(Message.seq > since_seq).order_by(Message.seq).limit(CATCH_UP_LIMIT + 1).all()
        messages, has_more = _within_budget(page, CATCH_UP_LIMIT)
    return {
        "room": room_view(room, user_id),
        "messages": [_as_listed(row) for row in messages],
        "has_more": has_more,
        "receipts": privacy.receipts_for(user_id, receipts(room)),
    }


def _listed(room_id, user_id):
    """A room's messages as one member lists them: (message, hidden) rows, where `hidden` says
    the member deleted it for themself. One query: the test is an EXISTS on hidden_messages'
    primary key."""
    return db.session.query(Message, _hidden_by(user_id).label("hidden")).filter(Message.room_id == room_id)


def _as_listed(row):
    """A listed message on the wire; one the member hid is a stub in its place, {id, room_id, seq,
    hidden: true}, so that seqs stay gapless for the client (store.js) and nothing of it is read."""
    message, hidden = row
    if hidden:
        return {"id": message.id, "room_id": message.room_id, "seq": message.seq, "hidden": True}
    return wire.stored_message(message)


def _within_budget(page, limit):
    """The first (message, hidden) rows of `page` (in the order asked for) up to `limit` of them
    and ANSWER_TEXT_BUDGET characters of text (at least one), and whether any remain."""
    taken, spent = [], 0
    for row in page[:limit]:
        spent += 0 if row.hidden else len(row.Message.text or "")
        if taken and spent > ANSWER_TEXT_BUDGET:
            break
        taken.append(row)
    return taken, len(page) > len(taken)


def history(room_id, user_id, before_seq=None, limit=None, from_seq=None):
    """An older page of a room's history, oldest first: MESSAGE_PAGE_SIZE messages unless
    `limit` says otherwise (at most MAX_PAGE). With `from_seq`, every message from that seq on
    (below `before_seq`) in one answer, up to MAX_RANGE of the newest of them: a jump far back
    in a long chat (to a quoted or found message) costs one or a few requests, not one per page."""
    room = room_for_member(room_id, user_id)
    limit = max(1, min(limit or current_app.config["MESSAGE_PAGE_SIZE"], MAX_PAGE))
    query = _listed(room.id, user_id)
    if before_seq is not None:
        query = query.filter(Message.seq < before_seq)
    if from_seq is not None:
        top = before_seq if before_seq is not None else room.last_seq + 1
        limit = max(limit, min(top - from_seq, MAX_RANGE))
    page = query.order_by(Message.seq.desc()).limit(limit + 1).all()
    taken, has_more = _within_budget(page, limit)
    return {"messages": [_as_listed(row) for row in reversed(taken)], "has_more": has_more}


def rooms_of(user_id):
    """A person's links, newest activity first, each with its last message and unread count."""
    rooms = (
        db.session.query(Room)
        .join(RoomMember, RoomMember.room_id == Room.id)
        .filter(RoomMember.user_id == user_id)
        .order_by(Room.last_activity_at.desc())
        .limit(200)
        .all()
    )
    if not rooms:
        return []
    ids = [room.id for room in rooms]
    # Each room's newest message the person has not deleted for themself: per room, one
    # backward step along (room_id, seq) that passes over the hidden ones (usually none).
    newest = Message.__table__.alias("newest")
    newest_id = (select(newest.c.id)
                 .where(newest.c.room_id == Room.id, not_hidden_for(user_id, newest.c))
                 .order_by(newest.c.seq.desc()).limit(1).scalar_subquery())
    last = {
        message.room_id: message
        for message in db.session.query(Message)
        .filter(Message.id.in_(select(newest_id).where(Room.id.in_(ids))))
    }
    unread = dict(
        db.session.query(Message.room_id, func.count(Message.id))
        .join(RoomMember, and_(RoomMember.room_id == Message.room_id, RoomMember.user_id == user_id))
        .filter(Message.room_id.in_(ids), Message.seq > RoomMember.read_seq, Message.sender_id != user_id,
                not_hidden_for(user_id))
        .group_by(Message.room_id)
    )
    blocked = privacy.blocked_with(user_id)
    return [
        {**_as_seen(room, user_id, unread.get(room.id, 0), any(uid in blocked for uid in room.member_ids())),
         "last_message": wire.stored_message(last[room.id]) if room.id in last else None}
        for room in rooms
    ]


def end_link(room_id, by_user_id, reason):
    """End an active link for both members. Returns the ended room, or None if it had already ended."""
    with write_transaction() as session:
        ended = session.execute(
            update(Room)
            .where(Room.id == room_id, Room.status == "active")
            .values(status="ended", ended_at=utcnow(), ended_by=by_user_id, end_reason=reason)
        ).rowcount
        if not ended:
            return None
        session.execute(update(User).where(User.active_room_id == room_id).values(active_room_id=None))
    room = db.session.get(Room, room_id)
    db.session.refresh(room)
    log.info("link %s ended by %s (%s)", room_id, by_user_id, reason)
    return room
