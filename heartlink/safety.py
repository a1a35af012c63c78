"""Safety: blocking people and reporting them to moderators."""
import logging

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from . import links
from .database import write_transaction
from .errors import BadRequest, NotFound
from .extensions import db
from .models import Block, Message, Report, Room, RoomMember, User, iso
from .rooms import room_for_member

log = logging.getLogger(__name__)

SNAPSHOT_MESSAGES = 50
MAX_REASON = 1000


def block(user_id, target_id):
    """Block a person: any link with them ends at once and they are never matched again.

    Returns the links.Ended of the link that ended, or None."""
    if target_id == user_id:
        raise BadRequest(_l("You cannot block yourself."))
    if db.session.get(User, target_id) is None:
        raise NotFound(_l("No such person."))
    with write_transaction() as session:
        if session.get(Block, (user_id, target_id)) is None:
            session.add(Block(blocker_id=user_id, blocked_id=target_id))
    shared = db.session.execute(
        select(Room.id)
        .join(RoomMember, RoomMember.room_id == Room.id)
        .where(Room.status == "active", RoomMember.user_id == target_id,
               Room.id.in_(select(RoomMember.room_id).where(RoomMember.user_id == user_id)))
    ).scalar()
    log.info("user %s blocked %s", user_id, target_id)
    return links.end(shared, user_id, "blocked") if shared else None


def unblock(user_id, target_id):
    with write_transaction() as session:
        session.execute(delete(Block).where(Block.blocker_id == user_id, Block.blocked_id == target_id))


def blocked_by(user_id):
    rows = db.session.execute(
        select(User, Block.created_at).join(Block, Block.blocked_id == User.id)
        .where(Block.blocker_id == user_id).order_by(Block.created_at.desc())
    ).all()
    return [{**user.to_dict(), "blocked_at": iso(created)} for user, created in rows]


def report(user_id, room_id, reason, message_id=None):
    """Record a report about the partner in a link, with a copy of what it is about:
    the reported message, or the link's latest messages."""
    room = room_for_member(room_id, user_id)
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not 1 <= len(reason) <= MAX_REASON:
        raise BadRequest(_l("Say in a few words what happened (at most 1000 characters)."), field="reason")
    query = select(Message).where(Message.room_id == room.id)
    if message_id is not None:
        query = query.where(Message.id == message_id)
    quoted = db.session.execute(query.order_by(Message.seq.desc()).limit(SNAPSHOT_MESSAGES)).scalars().all()
    if message_id is not None and not quoted:
        raise NotFound(_l("No such message in this heart link."))
    partner = next(uid for uid in room.member_ids() if uid != user_id)
    snapshot = {
        "room": {"id": room.id, "status": room.status, "created_at": room.to_dict()["created_at"]},
        "members": [member.user.to_dict() for member in room.members],
        "messages": [m.to_dict() for m in reversed(quoted)],
    }
    with write_transaction() as session:
        filed = Report(reporter_id=user_id, reported_id=partner, room_id=room.id, message_id=message_id,
                       reason=reason, snapshot=snapshot)
        session.add(filed)
    log.warning("report %s: user %s reported %s in link %s", filed.id, user_id, partner, room.id)
    return filed


def reports(limit=100):
    return db.session.execute(select(Report).order_by(Report.created_at.desc()).limit(limit)).scalars().all()
