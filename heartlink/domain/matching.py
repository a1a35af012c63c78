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

Who is paired with whom (docs/protocol.md, "Matching controls"): only people with a
language in common; first whoever shares the most interests, the longest-waiting
among equals; someone who shares none only once both of them are "open", that is
have no interests or have waited INTEREST_WAIT, and neither asked `only_shared`.
A person who becomes open while waiting is paired by whoever asks next, or, if
nobody does, by the sweeper (`look_again`), which tries again once for each ticket
whose wait has just ended, under the same lock, claiming it with `looked_again`.
Code matches ignore interests and languages.
"""
import logging
import uuid
from datetime import timedelta
from typing import NamedTuple

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, insert, select, update

from ..errors import BadRequest, Conflict
from ..extensions import db
from ..models import MatchTicket, Room, RoomMember, TicketInterest, TicketLanguage, User, utcnow
from ..worker import metrics, offload
from ..worker.database import serialise, write_transaction
from . import age, privacy, protections, standing
from .rooms import room_view

log = logging.getLogger(__name__)

_CANDIDATES = 20
_ATTEMPTS = 3
_LOOK_AGAIN_BATCH = 100
MAX_INTERESTS = 5
MAX_INTEREST_CHARS = 24
MAX_LANGUAGES = 5
DEFAULT_LANGUAGE = "en"


class _Raced(Exception):
    """Someone else paired one of the two first; roll back and look again."""


class Looking(NamedTuple):
    """What a person asks for: interests (ordered as they gave them), languages, only_shared."""
    interests: tuple = ()
    languages: tuple = (DEFAULT_LANGUAGE,)
    only_shared: bool = False

    def open_at(self, since):
        """From when this person may be paired with someone who shares none of their
        interests: at once without interests, after INTEREST_WAIT with them, never if they
        asked only for people who share one."""
        if not self.interests:
            return since
        if self.only_shared:
            return None
        return since + timedelta(seconds=current_app.config["INTEREST_WAIT"])

    def to_settings(self):
        return {"interests": list(self.interests), "languages": list(self.languages),
                "only_shared": self.only_shared}


def clean_interest(value):
    """An interest as kept: trimmed and lowercased, 1 to MAX_INTEREST_CHARS characters
    (emoji are fine). The wire schema applies this to every interest it reads."""
    tag = " ".join(value.split()).lower()
    if not 1 <= len(tag) <= MAX_INTEREST_CHARS:
        raise ValueError(f"an interest has 1 to {MAX_INTEREST_CHARS} characters")
    return tag


def clean_language(value):
    """A language code such as "en", "zh" or "pt-br", lowercased."""
    code = value.strip().lower()
    parts = code.split("-")
    if not (2 <= len(parts[0]) <= 3 and parts[0].isascii() and parts[0].isalpha()
            and all(1 <= len(part) <= 8 and part.isascii() and part.isalnum() for part in parts[1:])):
        raise ValueError("a language is a code such as en, zh or pt-br")
    return code


def _distinct(values):
    return tuple(dict.fromkeys(values))


_INTEREST_REFUSED = _l("Not saved: that interest goes against Heart Link's rules.")


def interests_of(user_id, interests, check_terms=True):
    """Interests as one person may look for them: each clean (clean_interest), each once,
    at most MAX_INTERESTS, none holding a blocked term (`filtered`, counted: protections).
    `check_terms` False only where they were checked already, inside a pairing transaction
    (a refusal is counted in a transaction of its own)."""
    try:
        tags = _distinct(clean_interest(tag) for tag in interests)
    except ValueError:
        raise BadRequest(_l("An interest has 1 to %(count)s characters.", count=MAX_INTEREST_CHARS),
                         field="interests") from None
    if len(tags) > MAX_INTERESTS:
        raise BadRequest(_l("Choose at most %(count)s interests.", count=MAX_INTERESTS), field="interests")
    if check_terms:
        for tag in tags:
            protections.check_name(tag, user_id, message=_INTEREST_REFUSED)
    return tags


# The languages the lobby offers, each named in itself (the API takes any code).
LANGUAGE_CHOICES = (("en", "English"), ("zh", "中文"), ("ja", "日本語"), ("ko", "한국어"), ("es", "Español"),
                    ("fr", "Français"), ("de", "Deutsch"), ("pt", "Português"))


def last_asked(user, ui_language=None):
    """What the lobby offers to look for: what the person last asked with, else their
    profile's interests in their language."""
    if user.match_settings:
        return user.match_settings
    return looking_for(user, ui_language=ui_language).to_settings()


def looking_for(user, interests=None, languages=None, only_shared=False, ui_language=None):
    """What `user` looks for: their profile's interests when they name none, and the
    language they use Heart Link in when they name no language."""
    tags = interests_of(user.id, user.interests or () if interests is None else interests, check_terms=False)
    spoken = _distinct(clean_language(code) for code in languages or ())[:MAX_LANGUAGES]
    if not spoken:
        spoken = (user.language or ui_language or DEFAULT_LANGUAGE,)
    return Looking(tags, spoken, bool(only_shared and tags))


def start(user_id, code=None, interests=None, languages=None, only_shared=False, ui_language=None, now=None):
    """Ask for a heart link. Returns ("matched", room) or ("waiting", ticket). Restricted
    unless the person's standing is active (standing.ensure_may_match); Forbidden (`needs:
    "birth_date"`) while they have not said their date of birth (age.ensure_known). `interests`
    None: the profile's; `languages` empty: the person's language (else `ui_language`)."""
    if interests is not None and not code:
        interests = list(interests_of(user_id, interests))  # the filter, before the pairing transaction
    offload.release_database()  # the wait at the gate holds no connection
    for _attempt in range(_ATTEMPTS):
        try:
            with offload.gate("matching", 1), write_transaction() as session:
                return _pair_or_wait(session, user_id, code, (interests, languages, only_shared, ui_language),
                                     now or utcnow())
        except _Raced:
            log.info("match race for user %s, trying again", user_id)
    raise Conflict(_l("Too many people are pairing right now; try again."))


def start_again(user_id, ui_language=None, now=None):
    """Look again with the settings of the person's last `start` (match:next)."""
    settings = db.session.execute(select(User.match_settings).where(User.id == user_id)).scalar() or {}
    return start(user_id, interests=settings.get("interests"), languages=settings.get("languages"),
                 only_shared=settings.get("only_shared", False), ui_language=ui_language, now=now)


def _pair_or_wait(session, user_id, code, asked, now):
    serialise(session, "heartlink-matching")
    asking = session.execute(select(User).where(User.id == user_id)
                             .execution_options(populate_existing=True)).scalar_one()
    standing.ensure_may_match(asking, now)  # held, suspended and banned people are not paired
    age.ensure_known(asking)  # nor anyone who has not yet said their date of birth
    if asking.active_room_id:
        room = session.get(Room, asking.active_room_id)
        raise Conflict(_l("You are already in a heart link."), room=room_view(room, user_id))
    looking = Looking(languages=()) if code else looking_for(asking, *asked)
    if not code and asking.match_settings != looking.to_settings():
        asking.match_settings = looking.to_settings()

    if code:
        partners = _with_code(session, user_id, code, now)
    else:
        partners = _candidates(session, user_id, looking, looking.open_at(now) == now, now)
    room = _pair_with_first(session, user_id, looking, partners, now, by_code=bool(code))
    if room is not None:
        session.execute(delete(MatchTicket).where(MatchTicket.user_id == user_id))
        return "matched", room
    return "waiting", _wait(session, user_id, code, looking, now)


def _pair_with_first(session, user_id, looking, partners, now, by_code=False):
    """Pair the person with the first of `partners` whose ticket can still be claimed; the
    new room, or None."""
    for partner_id in partners:
        claimed = session.execute(delete(MatchTicket).where(MatchTicket.user_id == partner_id)
                                  .returning(MatchTicket.interests, MatchTicket.created_at)).first()
        if claimed is None:
            continue
        theirs = set(claimed.interests or ())
        reveal_after = 0 if by_code else current_app.config["REVEAL_AFTER"]
        room = Room(id=str(uuid.uuid4()), created_at=now, last_activity_at=now,
                    shared_interests=[tag for tag in looking.interests if tag in theirs],
                    reveal_after=reveal_after, revealed_at=None if reveal_after else now,
                    members=[RoomMember(user_id=uid) for uid in sorted((user_id, partner_id))])
        linked = session.execute(
            update(User)
            .where(User.id.in_([user_id, partner_id]), User.active_room_id.is_(None))
            .values(active_room_id=room.id)
        ).rowcount
        if linked != 2:
            raise _Raced()
        session.add(room)
        session.flush()
        log.info("matched users %s and %s in link %s", user_id, partner_id, room.id)
        metrics.matched("code" if by_code else "random", (now - claimed.created_at).total_seconds())
        return room
    return None


def _wait(session, user_id, code, looking, now):
    """Put the person in the queue (again: a second ask keeps one place, from now)."""
    session.execute(delete(MatchTicket).where(MatchTicket.user_id == user_id))
    open_at = None if code else looking.open_at(now)
    ticket = MatchTicket(user_id=user_id, code=code, created_at=now,
                         expires_at=now + timedelta(seconds=current_app.config["MATCH_TIMEOUT"]),
                         interests=list(looking.interests), languages=list(looking.languages),
                         only_shared=looking.only_shared, open_at=open_at,
                         looked_again=open_at is None or open_at <= now)
    session.add(ticket)
    session.flush()
    if looking.interests:
        session.execute(insert(TicketInterest), [{"user_id": user_id, "interest": tag} for tag in looking.interests])
    if looking.languages:
        session.execute(insert(TicketLanguage), [{"user_id": user_id, "language": code}
                                                 for code in looking.languages])
    return ticket


def _with_code(session, user_id, code, now):
    waiting = session.execute(
        select(MatchTicket.user_id)
        .where(MatchTicket.code == code, MatchTicket.user_id != user_id, MatchTicket.expires_at > now,
               MatchTicket.user_id.not_in(privacy.blocked_either_way(user_id)))
        .order_by(MatchTicket.created_at)
        .limit(_CANDIDATES)
    ).scalars().all()
    return _last_partner_last(session, user_id, waiting)


def _candidates(session, user_id, looking, is_open, now):
    """Who this person may be paired with, best first: people who share the most interests,
    longest waiting first among equals; then, if the person is open, open people who share
    none, longest waiting first. Only people with a language in common. The partner of
    their last link goes last, so they are paired again only if nobody else waits."""
    eligible = (MatchTicket.code.is_(None), MatchTicket.user_id != user_id, MatchTicket.expires_at > now,
                MatchTicket.user_id.in_(select(TicketLanguage.user_id)
                                        .where(TicketLanguage.language.in_(looking.languages))),
                MatchTicket.user_id.not_in(privacy.blocked_either_way(user_id)))

    def in_order():
        sharing = []
        if looking.interests:
            sharing = session.execute(
                select(MatchTicket.user_id)
                .join(TicketInterest, TicketInterest.user_id == MatchTicket.user_id)
                .where(TicketInterest.interest.in_(looking.interests), *eligible)
                .group_by(MatchTicket.user_id, MatchTicket.created_at)
                .order_by(func.count().desc(), MatchTicket.created_at)
                .limit(_CANDIDATES)
            ).scalars().all()
            yield from sharing
        if is_open:
            yield from session.execute(
                select(MatchTicket.user_id)
                .where(MatchTicket.open_at <= now, MatchTicket.user_id.not_in(sharing), *eligible)
                .order_by(MatchTicket.created_at)
                .limit(_CANDIDATES)
            ).scalars()

    return _last_partner_last(session, user_id, in_order())


def _last_partner_last(session, user_id, waiting):
    last = _last_partner(session, user_id)
    passed = False
    for partner_id in waiting:
        if partner_id == last:
            passed = True
        else:
            yield partner_id
    if passed:
        yield last


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


def look_again(now=None):
    """Pair, if anyone fits now, the people whose interest wait has just ended: nobody else
    may ask after them. Each ticket is tried once, by whichever worker claims its
    `looked_again` first. Returns the new rooms."""
    now = now or utcnow()
    due = db.session.execute(
        select(MatchTicket.user_id)
        .where(MatchTicket.looked_again.is_(False), MatchTicket.open_at <= now)
        .order_by(MatchTicket.open_at).limit(_LOOK_AGAIN_BATCH)
    ).scalars().all()
    db.session.rollback()  # release the read; each try below is a write transaction of its own
    paired = []
    for user_id in due:
        for _attempt in range(_ATTEMPTS):
            try:
                with offload.gate("matching", 1), write_transaction() as session:
                    room = _look_again_for(session, user_id, now)
                break
            except _Raced:
                log.info("match race looking again for user %s, trying again", user_id)
                room = None
        if room is not None:
            paired.append(room)
    return paired


def _look_again_for(session, user_id, now):
    serialise(session, "heartlink-matching")
    claimed = session.execute(
        update(MatchTicket)
        .where(MatchTicket.user_id == user_id, MatchTicket.looked_again.is_(False), MatchTicket.open_at <= now,
               MatchTicket.expires_at > now)
        .values(looked_again=True)
        .returning(MatchTicket.interests, MatchTicket.languages)
    ).first()
    if claimed is None:
        return None
    looking = Looking(tuple(claimed.interests), tuple(claimed.languages))
    room = _pair_with_first(session, user_id, looking, _candidates(session, user_id, looking, True, now), now)
    if room is not None:
        session.execute(delete(MatchTicket).where(MatchTicket.user_id == user_id))
    return room


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
