"""Standing: what an account's standing lets it do, read by every part of the domain.

A standing is `active`, `held` (kept out of matching until a moderator has looked), `suspended`
(until a time) or `banned`. It is changed only by heartlink/domain/moderation.py, always with an
audit row; this module only reads it, so that matching, links and sign-in can ask without
importing the module that ends links.

A suspension whose `until` has passed counts as `active` at once, before any sweep has written
it back (moderation.lift_expired does that, and audits it).
"""
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..errors import Restricted
from ..extensions import db
from ..models import Connection, User, iso, utcnow
from ..worker.database import fetch_all

STANDINGS = ("active", "held", "suspended", "banned")
# Standings that take sign-in away: every sign-in and token stops working, links end.
SIGNED_OUT = ("suspended", "banned")


def standing_of(user, now=None):
    """The standing in force for `user` (a User, or any row with `standing` and `standing_until`)
    at `now` (default: the present): an expired suspension counts as `active`."""
    standing = user.standing or "active"
    if standing == "suspended" and user.standing_until is not None and user.standing_until <= (now or utcnow()):
        return "active"
    return standing


def _until_text(until):
    return until.strftime("%Y-%m-%d %H:%M UTC")


def restriction(user, now=None):
    """The Restricted error that says what `user`'s standing forbids, or None while it is active.

    Its details are `standing`, `until` (ISO time or None) and `reason` (what the person is told)."""
    standing = standing_of(user, now)
    if standing == "active":
        return None
    if standing == "held":
        message = _l("Your account is held while moderators look at it: you cannot start a heart link for now.")
    elif standing == "suspended" and user.standing_until is not None:
        message = _l("Your account is suspended until %(until)s. You can appeal from the sign-in page.",
                     until=_until_text(user.standing_until))
    elif standing == "suspended":
        message = _l("Your account is suspended. You can appeal from the sign-in page.")
    else:
        message = _l("Your account is banned. You can appeal from the sign-in page.")
    until = user.standing_until if standing == "suspended" else None
    return Restricted(message, standing=standing, until=iso(until), reason=user.standing_reason)


def ensure_may_sign_in(user, now=None):
    """Raise Restricted if `user` is suspended or banned: no sign-in, token or socket for them.
    A held person may sign in (only matching is closed to them)."""
    if standing_of(user, now) in SIGNED_OUT:
        raise restriction(user, now)


def ensure_may_match(user, now=None):
    """Raise Restricted unless `user` is active: held, suspended and banned people are not paired."""
    error = restriction(user, now)
    if error is not None:
        raise error


def _standings():
    return select(User.standing, User.standing_until, User.standing_reason)


_STANDING_SQL = "SELECT standing FROM users WHERE id = :user_id"


def ensure_still_signed_in(user_id, now=None):
    """For a socket already open: raise Restricted if its person has since been suspended or
    banned. Read from the database, the truth on every worker, on every event: a worker that
    missed the broadcast of a restriction (the message queue was away) still refuses. One plain
    statement (an ORM query per event cost more than the event itself); the details only when
    there is something to refuse."""
    found = fetch_all(db.session, _STANDING_SQL, {"user_id": user_id})
    if found and found[0][0] in SIGNED_OUT:
        row = db.session.execute(_standings().where(User.id == user_id)).one()
        ensure_may_sign_in(row, now)


def locked_out_sockets(worker_id, now=None):
    """This worker's open sockets whose person is suspended or banned, as (sid, Restricted):
    the sweeper closes them, so a restriction whose broadcast this worker missed still closes
    them within a sweep."""
    rows = db.session.execute(
        _standings().add_columns(Connection.sid).join(Connection, Connection.user_id == User.id)
        .where(Connection.worker_id == worker_id, User.standing.in_(SIGNED_OUT))
    ).all()
    return [(row.sid, restriction(row, now)) for row in rows if standing_of(row, now) in SIGNED_OUT]
