"""Protections that need no moderator: the blocked-terms filter, links from new accounts, and
what they refused, counted per person and kind.

A text message, an edit, a caption, a display name or an upload's file name that holds a blocked
term is refused with `filtered` (kind "term"); a message from an account younger than
NEW_ACCOUNT_HOURS that holds a link is refused the same way (kind "link", with `allowed_at`).
The person is told it goes against the rules, never which term. Nothing refused is stored; the refusal is counted.

Every refusal by an automatic protection (a blocked term, a link from a new account, an age
under the minimum) adds one to that person's count of that kind; the moderation console shows
the counts in the person's record (moderation.person_records). The count is a row per person
and kind, raised by one upsert, so a refusal costs one statement however often it happens.

The list of terms is the worker's own, compiled once (heartlink/lib/content.py) at start and
again when the worker is sent SIGHUP (heartlink/worker/server.py), so checking a message reads
neither a file nor the database.
"""
import logging
from datetime import timedelta
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from ..errors import Filtered
from ..extensions import db
from ..lib import content
from ..models import ProtectionRefusal, User, iso, utcnow
from ..worker.database import write_transaction

log = logging.getLogger(__name__)

# The kinds of refusal, in the order the console lists them.
REFUSAL_KINDS = ("term", "link", "age")

_UPSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
_TERMS = "heartlink_blocked_terms"


def load_blocked_terms(app):
    """(Re)read BLOCKED_TERMS into this worker's filter. A line that is not a valid regex is
    logged with its number and skipped; a file that cannot be read keeps the list in force."""
    path = app.config.get("BLOCKED_TERMS")
    if not path:
        app.extensions[_TERMS] = content.NOTHING_BLOCKED
        return app.extensions[_TERMS]
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        log.error("blocked terms not read from %s (%s); %s", path, error,
                  "keeping the list in force" if _TERMS in app.extensions else "nothing is filtered")
        return app.extensions.setdefault(_TERMS, content.NOTHING_BLOCKED)
    terms, bad_lines = content.BlockedTerms.parse(lines)
    for bad in bad_lines:
        log.error("blocked terms %s line %d skipped: not a valid regex (%s)", path, bad.number, bad.error)
    app.extensions[_TERMS] = terms
    log.info("blocked terms: %d loaded from %s", terms.size, path)
    return terms


def _blocked_terms():
    return current_app.extensions.get(_TERMS, content.NOTHING_BLOCKED)


def check_message(user_id, text, joined_at):
    """Refuse (Filtered, counted) a message's text, caption or edit that holds a blocked term, or
    a link while the account is new. `joined_at` is the account's creation time (kept by the
    socket at connect, so a send reads no database); None reads it."""
    if not text:
        return
    if _blocked_terms().matches(text):
        _refuse(user_id, "term")
    if joined_at is None:
        joined_at = db.session.execute(select(User.created_at).where(User.id == user_id)).scalar_one()
    allowed_at = joined_at + timedelta(hours=current_app.config["NEW_ACCOUNT_HOURS"])
    if allowed_at > utcnow() and content.has_link(text):
        _refuse(user_id, "link", allowed_at)


_NAME_REFUSED = _l("Not saved: that name goes against Heart Link's rules.")


def check_name(name, user_id=None, message=_NAME_REFUSED):
    """Refuse (Filtered) a display name, or an upload's file name (the partner reads both), that
    holds a blocked term; counted when it is a person's (at sign-up there is nobody yet)."""
    if name and _blocked_terms().matches(name):
        _refuse(user_id, "term", message=message)


def _refuse(user_id, kind, allowed_at=None, message=None):
    if user_id is not None:
        count_refusal(user_id, kind)
    if kind == "link":
        raise Filtered(_l("Not sent: new accounts can send links from %(time)s.",
                          time=allowed_at.strftime("%Y-%m-%d %H:%M UTC")),
                       kind=kind, allowed_at=iso(allowed_at))
    raise Filtered(message, kind=kind)


def count_refusal(user_id, kind):
    """One more refusal of `kind` for this person, committed at once (the refused thing itself
    is never stored, so nothing else would keep a trace of it)."""
    if kind not in REFUSAL_KINDS:
        raise ValueError(f"unknown refusal kind {kind!r}")
    now = utcnow()
    with write_transaction() as session:
        insert = _UPSERTS[session.get_bind().dialect.name](ProtectionRefusal)
        session.execute(insert.values(user_id=user_id, kind=kind, count=1, last_at=now).on_conflict_do_update(
            index_elements=[ProtectionRefusal.user_id, ProtectionRefusal.kind],
            set_={"count": ProtectionRefusal.count + 1, "last_at": now}))


def refusals_of(user_ids):
    """{user id: {kind: count}} for these people; someone never refused is left out."""
    counts = {}
    if user_ids:
        for user_id, kind, count in db.session.execute(
                select(ProtectionRefusal.user_id, ProtectionRefusal.kind, ProtectionRefusal.count)
                .where(ProtectionRefusal.user_id.in_(list(user_ids)))):
            counts.setdefault(user_id, {})[kind] = count
    return counts
