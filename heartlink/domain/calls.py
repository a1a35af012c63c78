"""Calls: the invitation state machine. The server only relays WebRTC signalling;
media flows peer to peer.

    ringing --accept--> accepted --hangup--> ended
    ringing --decline--> declined      ringing --cancel--> cancelled
    ringing --(CALL_RING_TIMEOUT)--> missed

Every transition is a conditional update on the call's state, so two workers (or
two tabs) racing on one call cannot both win. A room has at most one call at a
time (rooms.active_call_id, claimed the same way). Every finished call leaves a
`kind: "call"` message in the room's history.
"""
import logging
import uuid
from datetime import timedelta
from typing import NamedTuple

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select, update

from ..errors import Conflict, Forbidden, NotFound
from ..extensions import db
from ..models import Call, Connection, Message, Room, utcnow
from ..worker.database import write_transaction
from .messages import append_in
from .rooms import active_room_for_member

log = logging.getLogger(__name__)


class Finished(NamedTuple):
    """A call that reached its final state, and its line in the history (None when the link had
    ended, which takes no new messages)."""
    call: Call
    record: Message | None

RELAYABLE = ("ringing", "accepted")


def invite(room_id, caller_id, caller_sid, media):
    room = active_room_for_member(room_id, caller_id)
    callee_id = next(uid for uid in room.member_ids() if uid != caller_id)
    call = Call(id=str(uuid.uuid4()), room_id=room.id, caller_id=caller_id, callee_id=callee_id,
                caller_sid=caller_sid, media=media, state="ringing", created_at=utcnow())
    with write_transaction() as session:
        claimed = session.execute(
            update(Room).where(Room.id == room.id, Room.status == "active", Room.active_call_id.is_(None))
            .values(active_call_id=call.id)
        ).rowcount
        if not claimed:
            raise Conflict(_l("There is already a call in this heart link."))
        session.add(call)
    log.info("call %s: %s invites %s (%s)", call.id, caller_id, callee_id, media)
    return call


def _call_for_member(call_id, user_id):
    call = db.session.get(Call, call_id)
    if call is None:
        raise NotFound(_l("No such call."))
    if user_id not in call.member_ids():
        raise Forbidden(_l("This call is not yours."))
    return call


def accept(call_id, user_id, sid):
    call = _call_for_member(call_id, user_id)
    if user_id != call.callee_id:
        raise Forbidden(_l("Only the person called can accept."))
    with write_transaction() as session:
        moved = session.execute(
            update(Call).where(Call.id == call.id, Call.state == "ringing")
            .values(state="accepted", accepted_at=utcnow(), callee_sid=sid)
        ).rowcount
    if not moved:
        raise Conflict(_l("The call is no longer ringing."))
    db.session.refresh(call)
    return call


def rings(call_id, user_id):
    """A device of the person called shows the call (its socket got `call:incoming`). Until one
    does, the caller's page says "Calling…", then "Ringing…". Nothing is stored: the caller
    hears it through `call:state`, from whichever worker holds that socket."""
    call = _call_for_member(call_id, user_id)
    if user_id != call.callee_id:
        raise Forbidden(_l("Only the person called can say their device rings."))
    if call.state != "ringing":
        raise Conflict(_l("The call is no longer ringing."))
    return call


def decline(call_id, user_id):
    call = _call_for_member(call_id, user_id)
    if user_id != call.callee_id:
        raise Forbidden(_l("Only the person called can decline."))
    return _finish(call, "declined", user_id, from_states=("ringing",))


def cancel(call_id, user_id):
    call = _call_for_member(call_id, user_id)
    if user_id != call.caller_id:
        raise Forbidden(_l("Only the caller can cancel."))
    return _finish(call, "cancelled", user_id, from_states=("ringing",))


def hang_up(call_id, user_id):
    """Either person ends the call; hanging up while it rings cancels or declines it."""
    return _end(_call_for_member(call_id, user_id), user_id)


def _end(call, by):
    """End a call however far it got: a ringing call is declined (by the person called) or
    cancelled (by the caller, or by the link ending); an accepted one is ended."""
    if call.state == "ringing":
        return _finish(call, "declined" if by == call.callee_id else "cancelled", by, ("ringing",))
    return _finish(call, "ended", by, from_states=("accepted",))


def relay_target(call_id, user_id, sid):
    """The socket a signal from this member goes to; only while the call rings or is under way."""
    call = _call_for_member(call_id, user_id)
    if call.state not in RELAYABLE:
        raise Conflict(_l("The call is over."))
    if user_id == call.caller_id:
        return call, call.callee_sid  # None while ringing: the callee has not picked a tab yet
    if sid != call.callee_sid and call.state == "accepted":
        raise Forbidden(_l("This call was answered in another tab."))
    return call, call.caller_sid


def _finish(call, state, by, from_states):
    """Move a call to a final state, free its room, and write its history message."""
    now = utcnow()
    with write_transaction() as session:
        moved = session.execute(
            update(Call).where(Call.id == call.id, Call.state.in_(from_states))
            .values(state=state, ended_at=now, ended_by=by)
        ).rowcount
        if not moved:
            raise Conflict(_l("The call is already over."))
        session.execute(update(Room).where(Room.id == call.room_id, Room.active_call_id == call.id)
                        .values(active_call_id=None))
        session.refresh(call)
        summary = {"call_id": call.id, "media": call.media, "outcome": state, "duration_ms": call.duration_ms()}
        record = _record_if_possible(session, call, summary)
    log.info("call %s %s by %s", call.id, state, by)
    return Finished(call, record)


def _record_if_possible(session, call, summary):
    """The call's line in the history; an ended link takes no new messages, so none then."""
    room_active = session.execute(select(Room.status).where(Room.id == call.room_id)).scalar() == "active"
    if not room_active:
        return None
    return append_in(session, call.room_id, sender_id=call.caller_id, kind="call", call_summary=summary)


def expire_ringing(now=None):
    """Calls that rang past CALL_RING_TIMEOUT become missed; returns (call, record) pairs."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=current_app.config["CALL_RING_TIMEOUT"])
    ringing = db.session.execute(
        select(Call).where(Call.state == "ringing", Call.created_at <= cutoff).limit(200)
    ).scalars().all()
    finished = []
    for call in ringing:
        try:
            finished.append(_finish(call, "missed", None, from_states=("ringing",)))
        except Conflict:
            pass  # answered, or another worker got there first
    return finished


def end_abandoned():
    """Calls whose ringing or talking tab is gone (closed, reloaded, or its worker died)
    end as if that person hung up. Returns (call, record) pairs."""
    live_sids = select(Connection.sid)
    abandoned = db.session.execute(
        select(Call).where(Call.state.in_(RELAYABLE), or_(
            Call.caller_sid.not_in(live_sids),
            and_(Call.state == "accepted", Call.callee_sid.not_in(live_sids)),
        )).limit(200)
    ).scalars().all()
    finished = []
    for call in abandoned:
        gone = call.caller_id if call.caller_sid not in _live(call) else call.callee_id
        try:
            finished.append(_end(call, gone))
        except Conflict:
            pass  # finished meanwhile
    return finished


def _live(call):
    sids = [sid for sid in (call.caller_sid, call.callee_sid) if sid]
    return set(db.session.execute(select(Connection.sid).where(Connection.sid.in_(sids))).scalars())


def end_for_link(room_id, by):
    """A link that ends takes its call with it. Returns (call, record) or None."""
    call_id = db.session.execute(select(Room.active_call_id).where(Room.id == room_id)).scalar()
    call = db.session.get(Call, call_id) if call_id else None
    if call is None:
        return None
    try:
        return _end(call, by)
    except Conflict:
        return None
