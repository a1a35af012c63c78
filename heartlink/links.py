"""Ending a heart link, and what goes with it: a call under way ends first, so its
line still lands in the history, then the link ends for both members."""
from datetime import timedelta
from typing import NamedTuple, Optional

from flask import current_app

from . import calls, rooms
from .extensions import db
from .models import Room, utcnow


class Ended(NamedTuple):
    room: Room
    ended_now: bool
    call: Optional[tuple] = None  # (call, history record) when a call was cut off


def end(room_id, by_user_id, reason):
    call = calls.end_for_link(room_id, by_user_id)
    room = rooms.end_link(room_id, by_user_id, reason)
    if room is None:
        return Ended(db.session.get(Room, room_id), False, call)
    return Ended(room, True, call)


def leave(room_id, user_id):
    """A member ends their link: it ends for both."""
    room = rooms.room_for_member(room_id, user_id)
    return end(room.id, user_id, "left")


def end_idle(now=None):
    """Links nobody has written in for LINK_IDLE_HOURS are ended with reason `idle`."""
    cutoff = (now or utcnow()) - timedelta(hours=current_app.config["LINK_IDLE_HOURS"])
    stale = db.session.query(Room.id).filter(Room.status == "active", Room.last_activity_at < cutoff).all()
    return [ended for ended in (end(room_id, None, "idle") for (room_id,) in stale) if ended.ended_now]
