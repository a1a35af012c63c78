"""Matching: the queue of people looking for a heart link, and pairing them.

The queue is the `match_tickets` table, so every worker sees the same queue.
Pairing transactions run one at a time (database.serialise): two people who ask
at the same moment on two workers find each other instead of both waiting. In
front of that database lock each worker lets one of its own people at a time
(offload.gate), so a crowd asking at once waits in the worker, not in the
database: a hundred waiting at the database lock would hold a hundred pooled
connections, more than PostgreSQL allows.
Inside, two conditional writes guard the result: claiming the partner's ticket
(a delete that must remove exactly one row) and setting both people's active
room (an update that must change exactly two rows, those with no active room).
If either finds the world has moved, the transaction is rolled back and pairing
is tried again.
"""
import logging
import uuid
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update

from ..errors import Conflict
from ..extensions import db
from ..models import MatchTicket, Room, RoomMember, User, utcnow
from ..worker import metrics, offload
from ..worker.database import serialise, write_transaction
from . import age, privacy, standing
from .rooms import room_view

log = logging.getLogger(__name__)

_CANDIDATES = 20
_ATTEMPTS = 3


class _Raced(Exception):
    """Someone else paired one of the two first; roll back and look again."""


def start(user_id, code=None):
    """Ask for a heart link. Returns ("matched", room) or ("waiting", ticket). Restricted
    unless the person's standing is active (standing.ensure_may_match); Forbidden (`needs:
    "birth_date"`) while they have not said their date of birth (age.ensure_known)."""
    offload.release_database()  # the wait at the gate holds no connection
    for _attempt in range(_ATTEMPTS):
        try:
            with offload.gate("matching", 1), write_transaction() as session:
                return _pair_or_wait(session, user_id, code)
        except _Raced:
            log.info("match race for user %s, trying again", user_id)
    raise Conflict(_l("Too many people are pairing right now; try again."))


def _pair_or_wait(session, user_id, code):
    serialise(session, "heartlink-matching")
    now = utcnow()
    asking = session.execute(
        select(User.active_room_id, User.standing, User.standing_until, User.standing_reason, User.birth_date,
               User.birth_vouched)
        .where(User.id == user_id)).one()
    standing.ensure_may_match(asking, now)  # held, suspended and banned people are not paired
    age.ensure_known(asking)  # nor anyone who has not yet said their date of birth
    active_room_id = asking.active_room_id
    if active_room_id:
        room = session.get(Room, active_room_id)
        raise Conflict(_l("You are already in a heart link."), room=room_view(room, user_id))

    for partner_id in _candidates(session, user_id, code, now):
        waited_since = session.execute(delete(MatchTicket).where(MatchTicket.user_id == partner_id)
                                       .returning(MatchTicket.created_at)).scalar()
        if waited_since is None:
            continue
        room = Room(id=str(uuid.uuid4()), created_at=now, last_activity_at=now,
                    members=[RoomMember(user_id=uid) for uid in sorted((user_id, partner_id))])
        linked = session.execute(
            update(User)
            .where(User.id.in_([user_id, partner_id]), User.active_room_id.is_(None))
            .values(active_room_id=room.id)
        ).rowcount
        if linked != 2:
            raise _Raced()
        session.execute(delete(MatchTicket).where(MatchTicket.user_id == user_id))
        session.add(room)
        session.flush()
        log.info("matched users %s and %s in link %s", user_id, partner_id, room.id)
        metrics.matched("code" if code else "random", (now - waited_since).total_seconds())
        return "matched", room

    ticket = session.get(MatchTicket, user_id) or MatchTicket(user_id=user_id)
    ticket.code = code
    ticket.created_at = now
    ticket.expires_at = now + timedelta(seconds=current_app.config["MATCH_TIMEOUT"])
    session.add(ticket)
    return "waiting", ticket


def _candidates(session, user_id, code, now):
    """Who this person may be paired with, first come first served; the partner of
    their last link goes last, so they are paired again only if nobody else waits."""
    same_code = MatchTicket.code == code if code else MatchTicket.code.is_(None)
    waiting = session.execute(
        select(MatchTicket.user_id)
        .where(same_code, MatchTicket.user_id != user_id, MatchTicket.expires_at > now,
               MatchTicket.user_id.not_in(privacy.blocked_either_way(user_id)))
        .order_by(MatchTicket.created_at)
        .limit(_CANDIDATES)
    ).scalars().all()
    last = _last_partner(session, user_id)
    return [uid for uid in waiting if uid != last] + [uid for uid in waiting if uid == last]


def _last_partner(session, user_id):
    last_room = session.execute(
        select(RoomMember.room_id)
        .join(Room, Room.id == RoomMember.room_id)
        .where(RoomMember.user_id == user_id)
        .order_by(Room.created_at.desc())
        .limit(1)
    ).scalar()
    if last_room is None:
        return None
    return session.execute(
        select(RoomMember.user_id).where(RoomMember.room_id == last_room, RoomMember.user_id != user_id)
    ).scalar()


def cancel(user_id):
    """Stop waiting. Returns whether the person was waiting."""
    with write_transaction() as session:
        return session.execute(delete(MatchTicket).where(MatchTicket.user_id == user_id)).rowcount == 1


def expire_waiting(now=None):
    """Remove tickets that waited past MATCH_TIMEOUT; returns the people to tell.

    Each ticket is removed by its own conditional delete, so when several workers
    sweep at once exactly one of them reports each person.
    """
    now = now or utcnow()
    expired = db.session.execute(
        select(MatchTicket.user_id).where(MatchTicket.expires_at <= now).limit(500)
    ).scalars().all()
    timed_out = []
    with write_transaction() as session:
        for uid in expired:
            gone = session.execute(
                delete(MatchTicket).where(MatchTicket.user_id == uid, MatchTicket.expires_at <= now)
            ).rowcount
            if gone:
                timed_out.append(uid)
    return timed_out
