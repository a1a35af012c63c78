"""Ending a heart link, and what goes with it: a call under way ends first, so its
line still lands in the history, then the link ends for both members. Keeping a
link, so that it can be opened again after it ended."""
import logging
from datetime import timedelta
from typing import NamedTuple

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, exists, select, update

from ..errors import Conflict, Forbidden
from ..extensions import db
from ..models import MatchTicket, Room, RoomMember, User, utcnow
from ..worker.database import serialise, write_transaction
from . import age, calls, privacy, rooms, standing

log = logging.getLogger(__name__)


class Ended(NamedTuple):
    room: Room
    ended_now: bool
    call: calls.Finished | None = None  # when a call was cut off


def end(room_id, by_user_id, reason):
    call = calls.end_for_link(room_id, by_user_id)
    room = rooms.end_link(room_id, by_user_id, reason)
    if room is None:
        return Ended(db.session.get(Room, room_id), False, call)
    return Ended(room, True, call)


def leave(room_id, user_id, reason="left"):
    """A member ends their link: it ends for both. `next`: they go on to look for another."""
    room = rooms.room_for_member(room_id, user_id)
    return end(room.id, user_id, reason)


def end_idle(now=None):
    """Links nobody has written in for LINK_IDLE_HOURS are ended with reason `idle`."""
    cutoff = (now or utcnow()) - timedelta(hours=current_app.config["LINK_IDLE_HOURS"])
    stale = db.session.query(Room.id).filter(Room.status == "active", Room.last_activity_at < cutoff).all()
    return [ended for ended in (end(room_id, None, "idle") for (room_id,) in stale) if ended.ended_now]


# --- "keep this link" -----------------------------------------------------------------------

class Reopened(NamedTuple):
    room: Room
    cancelled: list  # people who were waiting for a new link and no longer are


def keep(room_id, user_id, keep_it):
    """A member keeps (or stops keeping) their link, active or ended. When both keep it,
    either can reopen it after it ends. Not across a block."""
    room = rooms.room_for_member(room_id, user_id)
    if keep_it and privacy.blocked_between(*room.member_ids()):
        raise Forbidden(_l("You cannot keep a heart link with someone blocked."))
    with write_transaction() as session:
        session.execute(update(RoomMember).where(RoomMember.room_id == room.id, RoomMember.user_id == user_id)
                        .values(kept=keep_it))
        # Both keeping it is the other way to the gradual reveal: they chose each other.
        session.execute(update(Room).where(Room.id == room.id, Room.revealed_at.is_(None), ~exists(
            select(RoomMember.user_id).where(RoomMember.room_id == room.id, RoomMember.kept.is_(False))))
            .values(revealed_at=utcnow()))
    db.session.refresh(room)
    for member in room.members:
        db.session.refresh(member)
    return room


def drop_keeps(first_id, second_id):
    """A block ends keeping: both members' keeps go from every link the two share.
    Returns every link the two share (each is no longer keepable), as it is now."""
    with write_transaction() as session:
        session.execute(
            update(RoomMember)
            .where(RoomMember.room_id.in_(privacy.shared_rooms(first_id, second_id)), RoomMember.kept.is_(True))
            .values(kept=False))
    return shared_links(first_id, second_id)


def shared_links(first_id, second_id):
    """Every link the two people share, fresh from the database."""
    room_ids = db.session.execute(privacy.shared_rooms(first_id, second_id)).scalars().all()
    found = [db.session.get(Room, room_id) for room_id in sorted(room_ids)]
    for room in found:
        db.session.refresh(room)
        for member in room.members:
            db.session.refresh(member)
    return found


def reopen(room_id, user_id):
    """Either member opens a kept link that ended again: the same room, its history and
    its seq. Refused while either of them is in another link, with the same conditional
    update as matching, so that nobody is ever in two rooms."""
    room = rooms.room_for_member(room_id, user_id)
    member_ids = room.member_ids()
    if privacy.blocked_between(*member_ids):
        raise Forbidden(_l("You cannot reopen a heart link with someone blocked."))
    with write_transaction() as session:
        serialise(session, "heartlink-matching")
        session.refresh(room)
        for member in room.members:
            session.refresh(member)
            session.refresh(member.user)
            if standing.standing_of(member.user) in standing.SIGNED_OUT:
                # A suspended or banned member's links stay ended; the partner learns nothing more.
                raise Conflict(_l("This heart link cannot be opened again."))
            if member.user_id == user_id:
                age.ensure_known(member.user)  # as for a new heart link: the date of birth first
            elif age.needs_birth_date(member.user):
                raise Conflict(_l("This heart link cannot be opened again."))
        if room.active:
            return Reopened(room, [])
        if not room.kept:
            raise Conflict(_l("Only a heart link you both kept can be opened again."))
        linked = session.execute(
            update(User).where(User.id.in_(member_ids), User.active_room_id.is_(None))
            .values(active_room_id=room.id)
        ).rowcount
        if linked != len(member_ids):
            raise Conflict(_l("One of you is in another heart link right now."))
        now = utcnow()
        session.execute(
            update(Room).where(Room.id == room.id, Room.status == "ended")
            .values(status="active", ended_at=None, ended_by=None, end_reason=None, last_activity_at=now)
        )
        cancelled = session.execute(
            delete(MatchTicket).where(MatchTicket.user_id.in_(member_ids)).returning(MatchTicket.user_id)
        ).scalars().all()
    db.session.refresh(room)
    log.info("link %s reopened by %s", room.id, user_id)
    return Reopened(room, cancelled)
