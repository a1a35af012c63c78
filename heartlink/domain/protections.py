"""Protections that need no moderator: what they refused, counted per person and kind.

Every refusal by an automatic protection (a blocked term, a link from a new account, an age
under the minimum) adds one to that person's count of that kind; the moderation console shows
the counts in the person's record (moderation.person_records). The count is a row per person
and kind, raised by one upsert, so a refusal costs one statement however often it happens.
"""
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..models import ProtectionRefusal, utcnow
from ..worker.database import write_transaction

# The kinds of refusal, in the order the console lists them.
REFUSAL_KINDS = ("term", "link", "age")

_UPSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


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
