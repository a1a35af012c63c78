"""Trust and safety: changing a person's standing, the moderator flag, decisions on reports,
warnings, appeals, the automatic hold, and the audit log. The one home of these rules.

Who decides is an `Actor`: a moderator (`by_moderator(user_id)`: checked to be a moderator in
good standing, and never about themselves), the operator at the command line (`CLI`), or the
service itself (`AUTO`: the automatic hold, and suspensions that end).

Every decision is one transaction: the change, the reports it decides and exactly one row of
the audit log (`moderation_log`, append-only) commit together. A suspension or ban then ends the
person's active link with reason `safety` (links.end, after the commit, as a block does). Nothing
here emits: each function returns a typed outcome (`Restriction`, `Restored`, `Warned`,
`Dismissed`, `ModeratorChanged`, `Appealed`, `AppealDecided`) for delivery to announce
(heartlink/live/announce.py). What a standing allows is read in heartlink/domain/standing.py.

Standing changes take the matching lock (database.serialise "heartlink-matching"): a person is
either paired before their standing changes (and the link is then ended) or finds it changed,
never paired after.
"""
import logging
from datetime import UTC, timedelta
from typing import NamedTuple

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from .. import wire
from ..errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized
from ..extensions import db
from ..lib.text import visible
from ..models import (
    AccountWarning,
    Appeal,
    Block,
    Connection,
    MatchTicket,
    ModerationEntry,
    Report,
    ReportEvidence,
    RoomMember,
    User,
    iso,
    utcnow,
)
from ..worker.database import serialise, write_transaction
from . import accounts, links, protections
from .standing import SIGNED_OUT, STANDINGS, ensure_may_sign_in, restriction, standing_of  # noqa: F401  (the API)

log = logging.getLogger(__name__)

MAX_NOTE = 1000  # a moderator's note, and the reason a person is told
MAX_APPEAL = 2000
MAX_SUSPENSION = timedelta(days=3650)
# The automatic hold counts the open reports of the last HOLD_WINDOW, one per reporter, leaving
# out reporters whose account was younger than YOUNG_REPORTER when they reported, and reporters
# the reported person had blocked before the report (docs/decisions.md says why).
HOLD_WINDOW = timedelta(hours=24)
YOUNG_REPORTER = timedelta(hours=1)
_HOLD_ROWS = 1000  # reports read to count reporters; far more than any setting needs
RECORD_ROWS = 50  # the latest warnings and audit rows a person's record shows

# The audit log's actions. Standing changes: hold, suspend, ban, restore, suspension_ended
# (AUTO, when `until` passed), appeal_restored. The rest: warn, dismiss, moderator_add,
# moderator_remove, appeal_upheld.
ACTIONS = ("hold", "suspend", "ban", "restore", "suspension_ended", "warn", "dismiss", "moderator_add",
           "moderator_remove", "appeal_upheld", "appeal_restored")
# The actions an appeal answers: the latest of these about a person is what they appeal.
APPEALABLE = ("suspend", "ban")
# What decide() does with a set of reports, and the state each leaves them in.
DECISIONS = {"dismiss": "dismissed", "restore": "dismissed", "warn": "actioned", "suspend": "actioned",
             "ban": "actioned"}


class Actor(NamedTuple):
    """Who decides: kind "moderator" (with their user id), "cli" or "auto"."""
    kind: str
    user_id: int | None = None


CLI = Actor("cli")
AUTO = Actor("auto")


def by_moderator(user_id):
    """A moderator as the actor of a decision (checked when the decision is made)."""
    return Actor("moderator", user_id)


# --- outcomes: what was committed, for announce to deliver -----------------------------------

class Restriction(NamedTuple):
    """A person was held, suspended or banned. `ended` holds the links.Ended of the link that
    ended with reason "safety" (suspended and banned only); `cancelled_wait`: their place in the
    match queue was removed."""
    action_id: int
    user_id: int
    standing: str
    until: object  # naive UTC datetime, for a suspension
    reason: str
    report_ids: tuple
    ended: list
    cancelled_wait: bool


class Restored(NamedTuple):
    """A person is active again (restore, an appeal upheld in their favour, a suspension that ended)."""
    action_id: int
    user_id: int
    previous: str
    report_ids: tuple


class Warned(NamedTuple):
    action_id: int
    user_id: int
    warning_id: int
    reason: str
    report_ids: tuple


class Dismissed(NamedTuple):
    action_id: int
    user_id: int
    report_ids: tuple


class ModeratorChanged(NamedTuple):
    action_id: int
    user_id: int
    moderator: bool


class Appealed(NamedTuple):
    appeal_id: int
    user_id: int
    action_id: int  # the audit row appealed against


class AppealDecided(NamedTuple):
    """`state` is "upheld" or "restored"; `restored` is the Restored outcome when it is the latter."""
    appeal_id: int
    action_id: int
    user_id: int
    state: str
    restored: Restored | None


class Evidence(NamedTuple):
    data: bytes
    mime: str


def summary(outcome):
    """A decision as the moderation consoles learn of it (`moderation:decided`, and the console's
    answer): {action_id, subject_id, report_ids, appeal_id, standing, until}. `standing` is the
    person's standing after it, or None where it did not change (a warning, a dismissal, an appeal
    upheld)."""
    standing = until = appeal_id = None
    if isinstance(outcome, Restriction):
        standing, until = outcome.standing, outcome.until
    elif isinstance(outcome, Restored):
        standing = "active"
    elif isinstance(outcome, AppealDecided):
        appeal_id, standing = outcome.appeal_id, "active" if outcome.restored else None
    return {"action_id": outcome.action_id, "subject_id": outcome.user_id,
            "report_ids": list(getattr(outcome, "report_ids", ())), "appeal_id": appeal_id,
            "standing": standing, "until": iso(until)}


# --- checks ----------------------------------------------------------------------------------

def text_rule(limit):
    """What a person or moderator is told when a text of theirs is empty or over `limit`."""
    return _l("Write a few words (at most %(count)s characters).", count=limit)


def _text(value, field, limit):
    """Required text: control characters removed, trimmed, 1 to `limit` characters."""
    text = visible(value, keep_newlines=True).strip() if isinstance(value, str) else ""
    if not 1 <= len(text) <= limit:
        raise BadRequest(text_rule(limit), field=field)
    return text


def _naive_utc(moment):
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _fresh(session, model, key):
    """A row as the database has it now: the session keeps its objects across commits
    (expire_on_commit is off), and a standing may have changed by a statement since."""
    return session.get(model, key, populate_existing=True)


def _subject(session, subject_id):
    user = _fresh(session, User, subject_id) if isinstance(subject_id, int) else None
    if user is None:
        raise NotFound(_l("No such person."))
    return user


def _check_actor(session, actor, subject_id, now):
    """A moderator must be one, in good standing, and may not decide about themselves."""
    if actor.kind not in ("moderator", "cli", "auto"):
        raise ValueError(f"not an actor: {actor!r}")
    if actor.kind != "moderator":
        return
    deciding = _fresh(session, User, actor.user_id) if isinstance(actor.user_id, int) else None
    if deciding is None or not deciding.moderator or standing_of(deciding, now) != "active":
        raise Forbidden(_l("Only moderators may do that."))
    if actor.user_id == subject_id:
        raise Forbidden(_l("You cannot decide about yourself."))


def _audit(session, actor, subject_id, action, note, now, report_ids=(), until=None, told=None):
    """The one way a row reaches the audit log. `told`: what the person was told, where they are."""
    entry = ModerationEntry(created_at=now, actor=actor.kind, actor_id=actor.user_id, subject_id=subject_id,
                            action=action, note=note, report_ids=sorted(report_ids), until=until, told=told)
    session.add(entry)
    session.flush()
    log.warning("moderation: %s of user %s by %s %s (until %s, reports %s)", action, subject_id, actor.kind,
                actor.user_id or "-", iso(until) or "-", entry.report_ids or "-")
    return entry


def _report_ids(report_ids):
    ids = tuple(report_ids or ())
    if not all(isinstance(report_id, int) and not isinstance(report_id, bool) for report_id in ids):
        raise BadRequest(_l("Report ids are numbers."), field="report_ids")
    return tuple(sorted(set(ids)))


def _decide_reports(session, report_ids, subject_id, state, now):
    """Move open reports about `subject_id` to `state`, all or none: a report already decided
    (by another moderator at the same moment too) or about someone else is a Conflict."""
    if not report_ids:
        return
    decided = session.execute(
        update(Report)
        .where(Report.id.in_(report_ids), Report.state == "open", Report.reported_id == subject_id)
        .values(state=state, decided_at=now)
    ).rowcount
    if decided != len(report_ids):
        raise Conflict(_l("Some of these reports were decided already, or are about someone else."))


def _reported_in(report_ids):
    """The one person the reports are about; NotFound for an unknown id, BadRequest for several people."""
    people = db.session.execute(
        select(Report.reported_id, func.count()).where(Report.id.in_(report_ids)).group_by(Report.reported_id)
    ).all()
    if sum(count for _, count in people) != len(report_ids):
        raise NotFound(_l("No such report."))
    if len(people) != 1:
        raise BadRequest(_l("Decide reports about one person at a time."), field="report_ids")
    return people[0][0]


# --- standing changes ------------------------------------------------------------------------

def _restrict(subject_id, standing, action, note, actor, report_ids=(), until=None, reason=None, now=None,
              decide_reports=True, only_if_active=False):
    now = now or utcnow()
    note = _text(note, "note", MAX_NOTE)
    reason = _text(reason, "reason", MAX_NOTE) if reason is not None else note
    report_ids = _report_ids(report_ids)
    with write_transaction() as session:
        serialise(session, "heartlink-matching")
        user = _subject(session, subject_id)
        _check_actor(session, actor, user.id, now)
        if only_if_active and standing_of(user, now) != "active":
            if actor == AUTO:
                return None
            raise Conflict(_l("Only an account in good standing can be held."))
        if decide_reports:
            _decide_reports(session, report_ids, user.id, "actioned", now)
        user.standing, user.standing_until, user.standing_reason = standing, until, reason
        cancelled = session.execute(delete(MatchTicket).where(MatchTicket.user_id == user.id)).rowcount == 1
        entry = _audit(session, actor, user.id, action, note, now, report_ids, until, told=reason)
    ended = _end_links(user.id) if standing in SIGNED_OUT else []
    return Restriction(entry.id, user.id, standing, until, reason, report_ids, ended, cancelled)


def _end_links(user_id):
    """End the person's active link (reason "safety", by nobody: the partner learns nothing more),
    read after the standing changed, so a pairing that got in first is ended too."""
    room_id = db.session.execute(select(User.active_room_id).where(User.id == user_id)).scalar()
    if room_id is None:
        return []
    ended = links.end(room_id, None, "safety")
    return [ended] if ended.ended_now else []


def suspend(subject_id, until, note, actor, report_ids=(), reason=None, now=None):
    """Suspend a person until `until` (a datetime; naive means UTC): no sign-in until then, their
    active link ends, their waiting place goes. The reports given become "actioned". `reason`
    (default: the note) is what the person is told. Returns Restriction."""
    now = now or utcnow()
    until = _naive_utc(until) if hasattr(until, "tzinfo") else None
    if until is None or not now < until <= now + MAX_SUSPENSION:
        raise BadRequest(_l("A suspension ends in the future, within ten years."), field="until")
    return _restrict(subject_id, "suspended", "suspend", note, actor, report_ids, until, reason, now)


def ban(subject_id, note, actor, report_ids=(), reason=None, now=None):
    """Ban a person: as a suspension without an end. Returns Restriction."""
    return _restrict(subject_id, "banned", "ban", note, actor, report_ids, None, reason, now)


def hold(subject_id, note, actor, report_ids=(), reason=None, now=None):
    """Hold an active person for review: no new heart link until a moderator decides (their
    current link and sign-in stay). The reports given are recorded, not decided. Returns
    Restriction; Conflict if they are not active."""
    return _restrict(subject_id, "held", "hold", note, actor, report_ids, None, reason, now, decide_reports=False,
                     only_if_active=True)


def restore(subject_id, note, actor, report_ids=(), now=None):
    """Back to active, from held, suspended or banned; the reports given become "dismissed"
    and the person's open appeals "restored". Returns Restored; Conflict if already active."""
    now = now or utcnow()
    note = _text(note, "note", MAX_NOTE)
    report_ids = _report_ids(report_ids)
    with write_transaction() as session:
        serialise(session, "heartlink-matching")
        user = _subject(session, subject_id)
        _check_actor(session, actor, user.id, now)
        previous = user.standing
        if previous == "active":
            raise Conflict(_l("This account is in good standing already."))
        _decide_reports(session, report_ids, user.id, "dismissed", now)
        user.standing, user.standing_until, user.standing_reason = "active", None, None
        session.execute(update(Appeal).where(Appeal.user_id == user.id, Appeal.state == "open")
                        .values(state="restored", decided_at=now, decided_by=actor.user_id))
        entry = _audit(session, actor, user.id, "restore", note, now, report_ids)
    return Restored(entry.id, user.id, previous, report_ids)


def warn(subject_id, note, actor, report_ids=(), reason=None, now=None):
    """Warn a person: they see `reason` (default: the note) until they acknowledge it. The
    reports given become "actioned". Returns Warned."""
    now = now or utcnow()
    note = _text(note, "note", MAX_NOTE)
    reason = _text(reason, "reason", MAX_NOTE) if reason is not None else note
    report_ids = _report_ids(report_ids)
    with write_transaction() as session:
        user = _subject(session, subject_id)
        _check_actor(session, actor, user.id, now)
        _decide_reports(session, report_ids, user.id, "actioned", now)
        warning = AccountWarning(user_id=user.id, reason=reason, created_at=now)
        session.add(warning)
        entry = _audit(session, actor, user.id, "warn", note, now, report_ids, told=reason)
    return Warned(entry.id, user.id, warning.id, reason, report_ids)


def dismiss(report_ids, note, actor, now=None):
    """Dismiss open reports about one person: nothing happens to them. Returns Dismissed."""
    now = now or utcnow()
    note = _text(note, "note", MAX_NOTE)
    report_ids = _report_ids(report_ids)
    if not report_ids:
        raise BadRequest(_l("Choose the reports to dismiss."), field="report_ids")
    subject_id = _reported_in(report_ids)
    with write_transaction() as session:
        _check_actor(session, actor, subject_id, now)
        _decide_reports(session, report_ids, subject_id, "dismissed", now)
        entry = _audit(session, actor, subject_id, "dismiss", note, now, report_ids)
    return Dismissed(entry.id, subject_id, report_ids)


def decide(action, note, actor, report_ids=(), subject_id=None, until=None, reason=None, now=None):
    """Decide open reports about one person together: `action` is one of DECISIONS ("dismiss",
    "warn", "suspend" with `until`, "ban", "restore"). The reports are `report_ids`, or, given only
    `subject_id`, every open report about that person. One audit row names them all. Returns the
    action's outcome (Dismissed, Warned, Restriction or Restored)."""
    if action not in DECISIONS:
        raise BadRequest(_l("Not a decision."), field="action")
    report_ids = _report_ids(report_ids)
    if report_ids:
        about = _reported_in(report_ids)
        if subject_id is not None and subject_id != about:
            raise BadRequest(_l("These reports are about someone else."), field="report_ids")
        subject_id = about
    elif subject_id is not None:
        report_ids = tuple(db.session.execute(
            select(Report.id).where(Report.reported_id == subject_id, Report.state == "open").order_by(Report.id)
        ).scalars())
    else:
        raise BadRequest(_l("Choose the reports or the person."), field="report_ids")
    if action == "dismiss":
        if not report_ids:
            raise Conflict(_l("There are no open reports about this person."))
        return dismiss(report_ids, note, actor, now)
    if action == "warn":
        return warn(subject_id, note, actor, report_ids, reason, now)
    if action == "suspend":
        return suspend(subject_id, until, note, actor, report_ids, reason, now)
    if action == "ban":
        return ban(subject_id, note, actor, report_ids, reason, now)
    return restore(subject_id, note, actor, report_ids, now)


def lift_expired(now=None, limit=500):
    """Suspensions whose `until` has passed become active in the database too, each audited
    ("suspension_ended", actor "auto"). The sweeper calls this on every worker; each person is
    lifted by exactly one of them (a conditional update). Returns the Restored outcomes."""
    now = now or utcnow()
    due = db.session.execute(
        select(User.id).where(User.standing == "suspended", User.standing_until <= now).limit(limit)
    ).scalars().all()
    if not due:
        return []
    lifted = []
    with write_transaction() as session:
        for user_id in due:
            changed = session.execute(
                update(User).where(User.id == user_id, User.standing == "suspended", User.standing_until <= now)
                .values(standing="active", standing_until=None, standing_reason=None)
            ).rowcount
            if changed:
                entry = _audit(session, AUTO, user_id, "suspension_ended", "The suspension ended.", now)
                lifted.append(Restored(entry.id, user_id, "suspended", ()))
    return lifted


# --- the automatic hold ----------------------------------------------------------------------

def counted_reports(reported_id, now=None):
    """The open reports of the last HOLD_WINDOW about a person that count towards a hold: not
    from accounts younger than YOUNG_REPORTER at the time, nor from someone the reported person
    had blocked before the report. Returns (report ids, distinct reporters)."""
    now = now or utcnow()
    reporter = aliased(User)
    rows = db.session.execute(
        select(Report.id, Report.reporter_id, Report.created_at, reporter.created_at.label("reporter_since"))
        .join(reporter, reporter.id == Report.reporter_id)
        .where(Report.reported_id == reported_id, Report.state == "open", Report.created_at > now - HOLD_WINDOW)
        .order_by(Report.id).limit(_HOLD_ROWS)
    ).all()
    blocked_at = dict(db.session.execute(
        select(Block.blocked_id, Block.created_at)
        .where(Block.blocker_id == reported_id, Block.blocked_id.in_({row.reporter_id for row in rows}))
    ).all()) if rows else {}
    counted = [row for row in rows
               if row.created_at - row.reporter_since >= YOUNG_REPORTER
               and not (row.reporter_id in blocked_at and blocked_at[row.reporter_id] < row.created_at)]
    return tuple(row.id for row in counted), len({row.reporter_id for row in counted})


def hold_if_reported(reported_id, now=None):
    """After a report: hold the person once HOLD_REPORTERS (HEARTLINK_HOLD_REPORTERS) different
    people count against them (counted_reports), unless they are not active. Audited with actor
    "auto" and the reports counted. Returns the Restriction, or None."""
    now = now or utcnow()
    user = _fresh(db.session, User, reported_id)
    if user is None or standing_of(user, now) != "active":
        return None
    report_ids, reporters = counted_reports(reported_id, now)
    if reporters < current_app.config["HOLD_REPORTERS"]:
        return None
    held = _restrict(reported_id, "held", "hold", f"Reported by {reporters} people within 24 hours.", AUTO,
                     report_ids, None, "Reports about this account are waiting for a moderator.", now,
                     decide_reports=False, only_if_active=True)
    if held is not None:
        log.warning("user %s held: reported by %s people within 24 hours", reported_id, reporters)
    return held


# --- moderators --------------------------------------------------------------------------------

def set_moderator(subject_id, on, actor, note, now=None):
    """Give or take the moderator flag (audited moderator_add / moderator_remove). Returns
    ModeratorChanged; Conflict if it is already so."""
    now = now or utcnow()
    note = _text(note, "note", MAX_NOTE)
    with write_transaction() as session:
        user = _subject(session, subject_id)
        _check_actor(session, actor, user.id, now)
        if bool(user.moderator) == bool(on):
            raise Conflict(_l("%(name)s is a moderator already.", name=user.username) if on
                           else _l("%(name)s is not a moderator.", name=user.username))
        user.moderator = bool(on)
        entry = _audit(session, actor, user.id, "moderator_add" if on else "moderator_remove", note, now)
    return ModeratorChanged(entry.id, user.id, bool(on))


def moderators():
    """Every moderator, by username: [{id, username, display_name}]."""
    rows = db.session.execute(select(User).where(User.moderator.is_(True)).order_by(User.username_key)).scalars()
    return [{"id": user.id, "username": user.username, "display_name": user.display_name} for user in rows]


def moderates(user, now=None):
    """Whether `user` (a User) may moderate now: the moderator flag, and an account in good standing."""
    return user is not None and bool(user.moderator) and standing_of(user, now) == "active"


def moderator_now(user_id, now=None):
    """None for someone without the moderator flag; for a moderator, whether they may moderate now
    (not while held, suspended or banned)."""
    user = _fresh(db.session, User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.moderator:
        return None
    return moderates(user, now)


def no_longer_moderating(sids, now=None):
    """Of these sockets (in the moderators' room), those whose person may not moderate now: the
    flag was taken away, or the account is held or restricted."""
    rows = db.session.execute(
        select(Connection.sid, User.moderator, User.standing, User.standing_until)
        .join(User, User.id == Connection.user_id).where(Connection.sid.in_(list(sids)))).all()
    return [row.sid for row in rows if not moderates(row, now)]


def require_moderator(user_id, now=None):
    """The moderator `user_id` (a User), or NotFound, as the console answers everyone else."""
    user = _fresh(db.session, User, user_id) if isinstance(user_id, int) else None
    if not moderates(user, now):
        raise NotFound()
    return user


# --- warnings ----------------------------------------------------------------------------------

def pending_warnings(user_id):
    """The person's warnings not yet acknowledged, oldest first: [{id, reason, created_at, acknowledged_at}]."""
    rows = db.session.execute(
        select(AccountWarning).where(AccountWarning.user_id == user_id, AccountWarning.acknowledged_at.is_(None))
        .order_by(AccountWarning.id)
    ).scalars()
    return [wire.warning(warning) for warning in rows]


def acknowledge_warning(user_id, warning_id, now=None):
    """The person has read a warning of theirs: it is not shown again. NotFound for anyone else's."""
    with write_transaction() as session:
        warning = session.get(AccountWarning, warning_id) if isinstance(warning_id, int) else None
        if warning is None or warning.user_id != user_id:
            raise NotFound(_l("No such warning."))
        if warning.acknowledged_at is None:
            warning.acknowledged_at = now or utcnow()
    return wire.warning(warning)


# --- appeals -----------------------------------------------------------------------------------

def appeal(username, password, text, address=None, now=None):
    """A suspended or banned person appeals against the action that restricted them (the latest
    suspend or ban about them), once per action. The password is checked as at sign-in, with its
    back-off per username and address (accounts.sign_in). Returns Appealed. Unauthorized for a
    wrong password, Forbidden unless suspended or banned, Conflict if already appealed."""
    now = now or utcnow()
    text = _text(text, "text", MAX_APPEAL)
    user = accounts.sign_in(username, password, address)
    if user is None:
        raise Unauthorized(_l("Wrong username or password."))
    if standing_of(_fresh(db.session, User, user.id), now) not in SIGNED_OUT:
        raise Forbidden(_l("Only a suspended or banned account can appeal."))
    try:
        with write_transaction() as session:
            action_id = session.execute(_appealable_action(user.id)).scalar()
            if action_id is None:
                raise Forbidden(_l("Only a suspended or banned account can appeal."))
            if session.execute(select(Appeal.id).where(Appeal.action_id == action_id)).scalar() is not None:
                raise Conflict(_l("You have appealed against this decision already."))
            filed = Appeal(user_id=user.id, action_id=action_id, text=text, created_at=now)
            session.add(filed)
    except IntegrityError:  # the same appeal sent twice at once
        raise Conflict(_l("You have appealed against this decision already.")) from None
    log.warning("user %s appealed against action %s", user.id, action_id)
    return Appealed(filed.id, user.id, action_id)


def _appealable_action(user_id):
    """The id of the action an appeal by this person is against: the latest suspension or ban."""
    return (select(ModerationEntry.id)
            .where(ModerationEntry.subject_id == user_id, ModerationEntry.action.in_(APPEALABLE))
            .order_by(ModerationEntry.id.desc()).limit(1))


def appeal_against_restriction(user_id):
    """This person's appeal against the action that restricts them, as their sign-in page tells
    it ({state: "open" or "upheld", created_at, decided_at}), or None while they have not appealed."""
    found = db.session.execute(
        select(Appeal).where(Appeal.action_id == _appealable_action(user_id).scalar_subquery())).scalar()
    if found is None:
        return None
    return {"state": found.state, "created_at": iso(found.created_at), "decided_at": iso(found.decided_at)}


def decide_appeal(appeal_id, decision, note, actor, now=None):
    """Answer an open appeal: "upheld" (the action stands) or "restored" (the person is active
    again). One audit row (appeal_upheld / appeal_restored). Returns AppealDecided."""
    if decision not in ("upheld", "restored"):
        raise BadRequest(_l("An appeal is upheld or the person restored."), field="decision")
    now = now or utcnow()
    note = _text(note, "note", MAX_NOTE)
    with write_transaction() as session:
        serialise(session, "heartlink-matching")
        found = _fresh(session, Appeal, appeal_id) if isinstance(appeal_id, int) else None
        if found is None:
            raise NotFound(_l("No such appeal."))
        _check_actor(session, actor, found.user_id, now)
        claimed = session.execute(
            update(Appeal).where(Appeal.id == found.id, Appeal.state == "open")
            .values(state=decision, decided_at=now, decided_by=actor.user_id)
        ).rowcount
        if not claimed:
            raise Conflict(_l("This appeal was decided already."))
        user = _fresh(session, User, found.user_id)
        previous = user.standing
        if decision == "restored":
            user.standing, user.standing_until, user.standing_reason = "active", None, None
        entry = _audit(session, actor, user.id, f"appeal_{decision}", note, now)
    restored = Restored(entry.id, user.id, previous, ()) if decision == "restored" else None
    return AppealDecided(found.id, entry.id, user.id, decision, restored)


# --- what the console reads ----------------------------------------------------------------------

def open_reports(page=1, limit=50, now=None):
    """A page of the open reports: reports about held people first, then oldest first. Two
    queries whatever the page (the reporter and the reported person come joined). Returns
    {"reports": [{id, created_at, reason, room_id, message_id, snapshot, reporter, reported}],
    "total", "page", "has_more"}; each person as {id, username, display_name, standing, until,
    reason, moderator, created_at}."""
    now = now or utcnow()
    page, limit = max(1, int(page)), max(1, min(int(limit), 200))
    reporter, reported = aliased(User), aliased(User)
    rows = db.session.execute(
        select(Report, reporter, reported)
        .join(reporter, reporter.id == Report.reporter_id)
        .join(reported, reported.id == Report.reported_id)
        .where(Report.state == "open")
        .order_by(case((reported.standing == "held", 0), else_=1), Report.created_at, Report.id)
        .offset((page - 1) * limit).limit(limit)
    ).all()
    total = db.session.execute(select(func.count()).select_from(Report).where(Report.state == "open")).scalar()
    return {
        "reports": [_report_view(filed, who, about, now) for filed, who, about in rows],
        "total": total, "page": page, "has_more": page * limit < total,
    }


def open_report(report_id, now=None):
    """One open report as open_reports shapes it (for the live `moderation:report`), or None
    once it is decided."""
    now = now or utcnow()
    reporter, reported = aliased(User), aliased(User)
    row = db.session.execute(
        select(Report, reporter, reported)
        .join(reporter, reporter.id == Report.reporter_id)
        .join(reported, reported.id == Report.reported_id)
        .where(Report.id == report_id, Report.state == "open")
        .execution_options(populate_existing=True)
    ).first()
    return _report_view(*row, now) if row else None


def _report_view(filed, who, about, now):
    return {"id": filed.id, "created_at": iso(filed.created_at), "reason": filed.reason, "room_id": filed.room_id,
            "message_id": filed.message_id, "snapshot": filed.snapshot,
            "reporter": wire.person_on_record(who, now), "reported": wire.person_on_record(about, now)}


def person_record(user_id, now=None):
    """What a moderator sees about a person: who they are and their standing, account age,
    links, open reports, distinct reporters in 24 h and 30 days, the refusals by the automatic
    protections by kind, and the latest RECORD_ROWS warnings and audit rows about them. NotFound for nobody."""
    record = person_records([user_id], now).get(user_id) if isinstance(user_id, int) else None
    if record is None:
        raise NotFound(_l("No such person."))
    return record


def person_records(user_ids, now=None):
    """The records (as person_record shapes them) of several people at once, {user id: record},
    in seven statements however many they are: the console shows one with each report of a page,
    and a statement per person and figure cost a page of 40 people 280 round trips (0.3 to 0.5 s
    on PostgreSQL, docs/performance.md). Ids of nobody are left out."""
    now = now or utcnow()
    ids = sorted({user_id for user_id in user_ids if isinstance(user_id, int) and not isinstance(user_id, bool)})
    if not ids:
        return {}
    people = db.session.execute(
        select(User).where(User.id.in_(ids)).execution_options(populate_existing=True)).scalars().all()
    if not people:
        return {}
    links_of = dict(db.session.execute(
        select(RoomMember.user_id, func.count()).where(RoomMember.user_id.in_(ids)).group_by(RoomMember.user_id)
    ).all())
    open_of = dict(db.session.execute(
        select(Report.reported_id, func.count()).where(Report.reported_id.in_(ids), Report.state == "open")
        .group_by(Report.reported_id)
    ).all())
    day_ago, month_ago = now - timedelta(hours=24), now - timedelta(days=30)
    reporters_of = {row.reported_id: row for row in db.session.execute(
        select(Report.reported_id,
               func.count(func.distinct(case((Report.created_at > day_ago, Report.reporter_id)))).label("day"),
               func.count(func.distinct(Report.reporter_id)).label("month"))
        .where(Report.reported_id.in_(ids), Report.created_at > month_ago).group_by(Report.reported_id)
    )}
    ranked = select(AccountWarning, func.row_number().over(
        partition_by=AccountWarning.user_id, order_by=AccountWarning.id.desc()).label("rank")
    ).where(AccountWarning.user_id.in_(ids)).subquery()
    latest = aliased(AccountWarning, ranked)
    warnings_of = {}
    for warning in db.session.execute(
            select(latest).where(ranked.c.rank <= RECORD_ROWS).order_by(ranked.c.user_id, ranked.c.id.desc())
    ).scalars():
        warnings_of.setdefault(warning.user_id, []).append(wire.warning(warning))
    refused_of = protections.refusals_of(ids)
    actions_of = {}
    for action in _audit_rows(_latest_entries(ids)):
        actions_of.setdefault(action["subject_id"], []).append(action)
    return {user.id: {
        "person": wire.person_on_record(user, now),
        "account_age_days": round((now - user.created_at).total_seconds() / 86400, 1),
        "links": links_of.get(user.id, 0),
        "open_reports": open_of.get(user.id, 0),
        "reporters_24h": reporters_of[user.id].day if user.id in reporters_of else 0,
        "reporters_30d": reporters_of[user.id].month if user.id in reporters_of else 0,
        "refusals": {kind: refused_of.get(user.id, {}).get(kind, 0) for kind in protections.REFUSAL_KINDS},
        "warnings": warnings_of.get(user.id, []),
        "actions": actions_of.get(user.id, []),
    } for user in people}


def _latest_entries(subject_ids):
    """The audit log's latest RECORD_ROWS rows about each of these people, newest first per person."""
    ranked = select(ModerationEntry, func.row_number().over(
        partition_by=ModerationEntry.subject_id, order_by=ModerationEntry.id.desc()).label("rank")
    ).where(ModerationEntry.subject_id.in_(subject_ids)).subquery()
    entry = aliased(ModerationEntry, ranked)
    actor, subject = aliased(User), aliased(User)
    return (select(entry, actor.username, subject.username)
            .outerjoin(actor, actor.id == entry.actor_id)
            .join(subject, subject.id == entry.subject_id)
            .where(ranked.c.rank <= RECORD_ROWS)
            .order_by(ranked.c.subject_id, ranked.c.id.desc()))


def _audit_rows(query):
    """Audit rows as the console shows them (wire.audit_entry with `actor_username` and `subject_username`)."""
    return [{**wire.audit_entry(entry), "actor_username": actor_name, "subject_username": subject_name}
            for entry, actor_name, subject_name in db.session.execute(query).all()]


def audit_log(subject_id=None, limit=50, before_id=None):
    """The audit log, newest first (about one person if given): `limit` rows (at most 500)
    older than `before_id` when paging. Each row as wire.audit_entry shapes it, with
    `actor_username` and `subject_username`."""
    limit = max(1, min(int(limit), 500))
    actor, subject = aliased(User), aliased(User)
    query = (select(ModerationEntry, actor.username, subject.username)
             .outerjoin(actor, actor.id == ModerationEntry.actor_id)
             .join(subject, subject.id == ModerationEntry.subject_id))
    if subject_id is not None:
        query = query.where(ModerationEntry.subject_id == subject_id)
    if before_id is not None:
        query = query.where(ModerationEntry.id < before_id)
    return _audit_rows(query.order_by(ModerationEntry.id.desc()).limit(limit))


def open_appeals(limit=100, now=None):
    """Open appeals, oldest first, each with the person and the audit row it answers:
    [{...wire.appeal, "person", "action"}]."""
    now = now or utcnow()
    rows = db.session.execute(
        select(Appeal, User, ModerationEntry)
        .join(User, User.id == Appeal.user_id)
        .join(ModerationEntry, ModerationEntry.id == Appeal.action_id)
        .where(Appeal.state == "open").order_by(Appeal.id).limit(max(1, min(int(limit), 500)))
    ).all()
    return [_appeal_view(found, user, entry, now) for found, user, entry in rows]


def open_appeal(appeal_id, now=None):
    """One open appeal as open_appeals shapes it (for the live `moderation:appeal`), or None."""
    now = now or utcnow()
    row = db.session.execute(
        select(Appeal, User, ModerationEntry)
        .join(User, User.id == Appeal.user_id)
        .join(ModerationEntry, ModerationEntry.id == Appeal.action_id)
        .where(Appeal.id == appeal_id, Appeal.state == "open")
        .execution_options(populate_existing=True)
    ).first()
    return _appeal_view(*row, now) if row else None


def _appeal_view(found, user, entry, now):
    return {**wire.appeal(found), "person": wire.person_on_record(user, now), "action": wire.audit_entry(entry)}


def evidence_picture(report_id, item):
    """A picture a report quotes, as copied at report time (the snapshot's `evidence_item`):
    Evidence(data, mime), or NotFound. The caller checks who may see it (require_moderator)."""
    found = db.session.get(ReportEvidence, (report_id, item)) \
        if isinstance(report_id, int) and isinstance(item, int) else None
    if found is None:
        raise NotFound(_l("No such picture."))
    return Evidence(found.data, found.mime)
