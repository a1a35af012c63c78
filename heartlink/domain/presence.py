"""Presence: who is online, from the sockets every worker records in the database.

Online means at least one socket on any worker. Going offline is decided by the
sweeper only after PRESENCE_GRACE seconds without a socket, so a page reload does
not flicker. A worker that dies leaves rows behind; its heartbeat stops, and the
rows are removed once it is stale (or at once when it starts again).

Who may see a person's presence: only the people who share an active link with them
right now (or a link both kept), with no block either way (`audience`; privacy.py adds
the person's own "hide my presence"); in other ended links the partner's presence is
hidden (`wire.room`), and a profile change heard by a former partner carries none
(`wire.person` with `in_audience`).
"""
import logging
from datetime import timedelta
from typing import NamedTuple

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, exists, func, select, update

from .. import wire
from ..errors import RateLimited
from ..extensions import db
from ..models import Connection, MatchTicket, Room, RoomMember, User, WorkerBeat, utcnow
from ..worker.database import serialise, write_transaction
from . import privacy

log = logging.getLogger(__name__)


def socket_connected(sid, user_id, worker_id, login_id=None):
    """Record a socket. Returns True when this makes the person online."""
    with write_transaction() as session:
        # Count and insert one connect of this person at a time: under READ COMMITTED, 100
        # connects at once across two workers each counted the others' rows as absent.
        serialise(session, f"sockets:{user_id}")
        open_sockets = session.execute(
            select(func.count()).select_from(Connection).where(Connection.user_id == user_id)).scalar()
        if open_sockets >= current_app.config["MAX_SOCKETS_PER_USER"]:
            raise RateLimited(_l("Too many open tabs; close one and try again."))
        session.add(Connection(sid=sid, user_id=user_id, worker_id=worker_id, login_id=login_id))
        came_online = session.execute(
            update(User).where(User.id == user_id, User.online.is_(False)).values(online=True, last_seen=utcnow())
        ).rowcount == 1
    return came_online


def socket_disconnected(sid):
    """Forget a socket (whoever it belonged to: after a password change its session no
    longer names anyone) and note when its person was last seen."""
    with write_transaction() as session:
        user_id = session.execute(delete(Connection).where(Connection.sid == sid)
                                  .returning(Connection.user_id)).scalar()
        if user_id is not None:
            session.execute(update(User).where(User.id == user_id).values(last_seen=utcnow()))


def audience(user_id):
    """The people who may hear this person come and go: partners in an active link, or
    in a link both kept, unless either has blocked the other."""
    active_rooms = (select(RoomMember.room_id).join(Room, Room.id == RoomMember.room_id)
                    .where(RoomMember.user_id == user_id, privacy.open_to_both()))
    return db.session.execute(
        select(RoomMember.user_id).where(RoomMember.room_id.in_(active_rooms), RoomMember.user_id != user_id,
                                         RoomMember.user_id.not_in(privacy.blocked_either_way(user_id)))
    ).scalars().all()


class News(NamedTuple):
    """That someone came or went: the `presence` payload, and who may hear it."""
    payload: dict
    audience: list


def news(user_id):
    """This person's presence as it is now, for the people who share an active (or kept) link
    with them, with no block either way, and who neither hide their presence nor have it hidden."""
    user = db.session.get(User, user_id)
    db.session.refresh(user)
    payload = {"user_id": user.id, "online": user.online, "last_seen": wire.person(user)["last_seen"]}
    return News(payload, privacy.presence_audience(user, audience(user_id)))


def sockets_of(user_id, login_id=None):
    """The sids of a person's open sockets (of one sign-in, if given), on every worker."""
    query = select(Connection.sid).where(Connection.user_id == user_id)
    if login_id is not None:
        query = query.where(Connection.login_id == login_id)
    return db.session.execute(query).scalars().all()


def went_offline(grace_seconds, now=None):
    """People online with no socket for longer than the grace period: mark them
    offline, give up their place in the match queue, and return their ids to announce."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=grace_seconds)
    no_socket = ~exists().where(Connection.user_id == User.id)
    with write_transaction() as session:
        gone = session.execute(
            select(User.id).where(User.online.is_(True), User.last_seen <= cutoff, no_socket).limit(500)
        ).scalars().all()
        offline = []
        for user_id in gone:
            changed = session.execute(
                update(User).where(User.id == user_id, User.online.is_(True), no_socket).values(online=False)
            ).rowcount
            if changed:
                session.execute(delete(MatchTicket).where(MatchTicket.user_id == user_id))
                offline.append(user_id)
    return offline


def worker_started(worker_id):
    """A (re)started worker owns no sockets yet: forget the ones it had before."""
    with write_transaction() as session:
        _forget_sockets(session, [worker_id])
        session.merge(WorkerBeat(id=worker_id, beat_at=utcnow()))


def worker_beat(worker_id, stale_after, now=None):
    """Record this worker's heartbeat and forget the sockets of workers that stopped."""
    now = now or utcnow()
    with write_transaction() as session:
        session.merge(WorkerBeat(id=worker_id, beat_at=now))
        stale = session.execute(
            select(WorkerBeat.id).where(WorkerBeat.beat_at < now - timedelta(seconds=stale_after))
        ).scalars().all()
        if stale:
            log.warning("workers %s stopped beating; forgetting their sockets", stale)
            _forget_sockets(session, stale)
            session.execute(delete(WorkerBeat).where(WorkerBeat.id.in_(stale)))


def worker_stopped(worker_id):
    """A worker shutting down: its sockets are gone and it no longer beats."""
    with write_transaction() as session:
        _forget_sockets(session, [worker_id])
        session.execute(delete(WorkerBeat).where(WorkerBeat.id == worker_id))


def _forget_sockets(session, worker_ids):
    # Socket rows first, then their people, as socket_disconnected does: taking the two
    # row locks in opposite orders let a worker's shutdown deadlock with a disconnect.
    owners = session.execute(delete(Connection).where(Connection.worker_id.in_(worker_ids))
                             .returning(Connection.user_id)).scalars().all()
    if owners:
        session.execute(update(User).where(User.id.in_(sorted(set(owners)))).values(last_seen=utcnow()))
