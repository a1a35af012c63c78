"""Trust and safety: standing and its changes, links ended for safety, the append-only audit log,
reports decided together, the automatic hold, warnings, appeals, evidence pictures, and what
the moderation console reads."""
import io
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import delete, event, select, text, update
from sqlalchemy.exc import DBAPIError

from heartlink.domain import accounts, attachments, links, matching, messages, moderation, protections, safety
from heartlink.domain.moderation import CLI, by_moderator
from heartlink.domain.standing import standing_of
from heartlink.errors import BadRequest, Conflict, Forbidden, NotFound, RateLimited, Restricted, Unauthorized
from heartlink.extensions import db
from heartlink.models import AppendOnly, MatchTicket, ModerationEntry, Report, User, utcnow

import media_samples as samples
from support import PASSWORD, app_over, match, store_message, store_text

NOTE = "Insults in two links."


def _people(*names, age=timedelta(days=30)):
    """Accounts made `age` ago (old enough for their reports to count towards a hold)."""
    ids = [accounts.create_user(name, PASSWORD, vouched=True).id for name in names]
    with db.session.begin():
        db.session.execute(update(User).where(User.id.in_(ids)).values(created_at=utcnow() - age))
    return ids


def _user(user_id):
    user = db.session.get(User, user_id)
    db.session.refresh(user)
    return user


def _entries(subject_id=None):
    query = select(ModerationEntry).order_by(ModerationEntry.id)
    if subject_id is not None:
        query = query.where(ModerationEntry.subject_id == subject_id)
    return db.session.execute(query).scalars().all()


def _reports(reporter_id, reported_id, count=1, now=None):
    """`reporter_id` shares a link with `reported_id` (ended at once) and reports them: the Filed outcomes."""
    room = match(reporter_id, reported_id)
    store_text(room.id, reported_id, "rude words")
    links.leave(room.id, reporter_id)
    return [safety.report(reporter_id, room.id, "insults", now=now) for _ in range(count)]


def _moderator(name="mod"):
    (mod,) = _people(name)
    moderation.set_moderator(mod, True, CLI, "The first moderator.")
    return mod


# --- standing --------------------------------------------------------------------------------

def test_a_suspension_is_over_once_its_time_passes_and_the_sweep_writes_it_back_once(in_app):
    (bob,) = _people("bob")
    now = utcnow()
    suspended = moderation.suspend(bob, now + timedelta(days=1), NOTE, CLI, now=now)
    assert (suspended.standing, suspended.until) == ("suspended", now + timedelta(days=1))
    assert standing_of(_user(bob), now + timedelta(hours=23)) == "suspended"
    assert standing_of(_user(bob), now + timedelta(days=1, seconds=1)) == "active"  # before any sweep

    assert moderation.lift_expired(now + timedelta(hours=23)) == []
    lifted = moderation.lift_expired(now + timedelta(days=2))
    assert [(one.user_id, one.previous) for one in lifted] == [(bob, "suspended")]
    assert moderation.lift_expired(now + timedelta(days=2)) == []  # each is lifted by exactly one sweep
    user = _user(bob)
    assert (user.standing, user.standing_until, user.standing_reason) == ("active", None, None)
    last = _entries(bob)[-1]
    assert (last.id, last.action, last.actor, last.actor_id) == (lifted[0].action_id, "suspension_ended", "auto", None)


def test_a_decision_reads_the_standing_as_the_database_has_it_now(in_app):
    (bob,) = _people("bob")
    moderation.ban(bob, NOTE, CLI)
    held_here = _user(bob)  # this session keeps its copy (as a request may) while another worker restores bob
    with db.engine.begin() as elsewhere:
        elsewhere.execute(update(User.__table__).where(User.__table__.c.id == bob)
                          .values(standing="active", standing_reason=None))
    assert held_here.standing == "banned"
    with pytest.raises(Conflict):
        moderation.restore(bob, "Nothing left to restore.", CLI)
    assert [entry.action for entry in _entries(bob)] == ["ban"]


def test_a_suspension_ends_in_the_future_within_ten_years(in_app):
    (bob,) = _people("bob")
    for until in (utcnow() - timedelta(minutes=1), utcnow() + timedelta(days=3651), "tomorrow", None):
        with pytest.raises(BadRequest) as refused:
            moderation.suspend(bob, until, NOTE, CLI)
        assert refused.value.details["field"] == "until"
    assert _entries() == [] and _user(bob).standing == "active"


def test_a_ban_ends_the_link_for_safety_and_keeps_the_person_out_of_matching(in_app):
    alice, bob = _people("alice", "bob")
    room = match(alice, bob)
    banned = moderation.ban(bob, NOTE, CLI, reason="You sent threats.")
    (ended,) = banned.ended
    assert ended.ended_now and ended.room.id == room.id
    assert (ended.room.status, ended.room.end_reason, ended.room.ended_by) == ("ended", "safety", None)
    assert _user(alice).active_room_id is None and _user(bob).active_room_id is None
    assert (banned.standing, banned.until, banned.reason) == ("banned", None, "You sent threats.")
    with pytest.raises(Restricted) as refused:
        matching.start(bob)
    assert refused.value.to_wire()["standing"] == "banned"
    assert refused.value.to_wire()["reason"] == "You sent threats."
    assert matching.start(alice)[0] == "waiting"  # the partner goes on as before


def test_a_suspension_removes_the_waiting_place(in_app):
    (carol,) = _people("carol")
    assert matching.start(carol)[0] == "waiting"
    suspended = moderation.suspend(carol, utcnow() + timedelta(days=7), NOTE, CLI)
    assert suspended.cancelled_wait and suspended.ended == []
    assert db.session.get(MatchTicket, carol) is None


def test_a_held_person_keeps_their_link_but_cannot_look_for_a_new_one(in_app):
    alice, bob = _people("alice", "bob")
    room = match(alice, bob)
    held = moderation.hold(bob, "Waiting for review.", CLI)
    assert (held.standing, held.ended) == ("held", [])
    assert _user(bob).active_room_id == room.id
    links.leave(room.id, alice)
    with pytest.raises(Restricted) as refused:
        matching.start(bob)
    assert refused.value.to_wire()["standing"] == "held" and refused.value.to_wire()["until"] is None
    with pytest.raises(Conflict):
        moderation.hold(bob, "Again.", CLI)  # only an active person can be held


def test_a_kept_link_with_a_banned_person_cannot_be_reopened(in_app):
    alice, bob = _people("alice", "bob")
    room = match(alice, bob)
    links.keep(room.id, alice, True)
    links.keep(room.id, bob, True)
    links.leave(room.id, alice)
    moderation.ban(bob, NOTE, CLI)
    with pytest.raises(Conflict):
        links.reopen(room.id, alice)


def test_restore_makes_a_person_active_again_and_only_a_restricted_one(in_app):
    (bob,) = _people("bob")
    with pytest.raises(Conflict):
        moderation.restore(bob, "Nothing to restore.", CLI)
    moderation.ban(bob, NOTE, CLI)
    restored = moderation.restore(bob, "Ban lifted after review.", CLI)
    assert restored.previous == "banned" and standing_of(_user(bob)) == "active"
    assert matching.start(bob)[0] == "waiting"


# --- who decides, and the note ------------------------------------------------------------------

def test_only_moderators_decide_and_never_about_themselves(in_app):
    mod = _moderator()
    bob, carol = _people("bob", "carol")
    with pytest.raises(Forbidden):
        moderation.ban(mod, NOTE, by_moderator(mod))
    with pytest.raises(Forbidden):
        moderation.ban(carol, NOTE, by_moderator(bob))  # not a moderator
    banned = moderation.ban(carol, NOTE, by_moderator(mod))
    entry = _entries(carol)[-1]
    assert (entry.id, entry.actor, entry.actor_id) == (banned.action_id, "moderator", mod)
    moderation.suspend(mod, utcnow() + timedelta(days=1), NOTE, CLI)
    with pytest.raises(Forbidden):
        moderation.restore(carol, "A suspended moderator decides nothing.", by_moderator(mod))


@pytest.mark.parametrize("note", ["", "   \n ", "\u200b\u202e", "x" * 1001, None, 7])
def test_every_decision_needs_a_note_of_at_most_1000_characters(in_app, note):
    (bob,) = _people("bob")
    decisions = [lambda: moderation.ban(bob, note, CLI), lambda: moderation.hold(bob, note, CLI),
                 lambda: moderation.warn(bob, note, CLI), lambda: moderation.set_moderator(bob, True, CLI, note),
                 lambda: moderation.suspend(bob, utcnow() + timedelta(days=1), note, CLI)]
    for decide in decisions:
        with pytest.raises(BadRequest) as refused:
            decide()
        assert refused.value.details["field"] == "note"
    assert _entries() == [] and _user(bob).standing == "active"


# --- the audit log ---------------------------------------------------------------------------

def test_every_decision_writes_exactly_one_audit_row_with_its_reports(in_app):
    mod = _moderator()
    bob, carol, dave, erin = _people("bob", "carol", "dave", "erin")
    first = [filed.report.id for filed in _reports(carol, bob, 2)]
    second = [filed.report.id for filed in _reports(dave, bob)]
    about_erin = [filed.report.id for filed in _reports(carol, erin)]
    actor = by_moderator(mod)
    before = len(_entries())
    told = "Please be kind to the people you meet."
    # (step, action, reports, what the person was told: kept in the row, as the account keeps only the last)
    steps = [
        (lambda: moderation.dismiss(second, "Not against the rules.", actor), "dismiss", second, None),
        (lambda: moderation.decide("warn", "Be kind.", actor, report_ids=first, reason=told), "warn", first, told),
        (lambda: moderation.hold(bob, "Watching.", actor), "hold", [], "Watching."),
        (lambda: moderation.suspend(bob, utcnow() + timedelta(days=7), NOTE, actor), "suspend", [], NOTE),
        (lambda: moderation.ban(bob, NOTE, actor, reason=told), "ban", [], told),
        (lambda: moderation.restore(bob, "Appeal heard.", actor), "restore", [], None),
        (lambda: moderation.decide("ban", "Threats.", actor, subject_id=erin), "ban", about_erin, "Threats."),
        (lambda: moderation.set_moderator(dave, True, CLI, "Joins the team."), "moderator_add", [], None),
        (lambda: moderation.set_moderator(dave, False, CLI, "Leaves the team."), "moderator_remove", [], None),
    ]
    for step, action, report_ids, person_told in steps:
        outcome = step()
        rows = _entries()[before:]
        assert len(rows) == 1, action
        assert (rows[0].id, rows[0].action, rows[0].report_ids) == (outcome.action_id, action, sorted(report_ids))
        assert rows[0].told == person_told, action
        assert rows[0].note and rows[0].created_at
        before += 1
    states = dict(db.session.execute(select(Report.id, Report.state)).all())
    assert {states[i] for i in first} == {"actioned"} and {states[i] for i in second} == {"dismissed"}
    assert {states[i] for i in about_erin} == {"actioned"}
    assert all(filed.decided_at for filed in db.session.execute(select(Report)).scalars())


def test_the_audit_log_refuses_every_update_and_delete(in_app):
    (bob,) = _people("bob")
    moderation.warn(bob, "Be kind.", CLI)
    entry = _entries()[0]
    entry.note = "nothing happened"
    with pytest.raises(AppendOnly):
        db.session.commit()
    db.session.rollback()
    db.session.delete(entry)
    with pytest.raises(AppendOnly):
        db.session.flush()
    db.session.rollback()
    for statement in (update(ModerationEntry).values(note="nothing happened"), delete(ModerationEntry),
                      update(ModerationEntry.__table__).values(note="nothing happened")):
        with pytest.raises(AppendOnly):
            db.session.execute(statement)
        db.session.rollback()
    # Past the ORM, the database refuses it too (a trigger).
    for sql in ("UPDATE moderation_log SET note = 'nothing happened'", "DELETE FROM moderation_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(sql))
        db.session.rollback()
    db.session.expire_all()
    assert [(row.note, row.action) for row in _entries()] == [("Be kind.", "warn")]


def test_on_postgresql_the_audit_log_refuses_update_and_delete_too(postgres_url):
    with app_over(postgres_url) as app, app.app_context():
        bob = accounts.create_user("bob", PASSWORD, vouched=True).id
        moderation.ban(bob, NOTE, CLI)
        for sql in ("UPDATE moderation_log SET note = 'nothing happened'", "DELETE FROM moderation_log"):
            with pytest.raises(DBAPIError, match="append-only"):
                db.session.execute(text(sql))
            db.session.rollback()
        assert [row["note"] for row in moderation.audit_log()] == [NOTE]


def test_the_log_pages_backwards_and_names_the_people(in_app):
    mod = _moderator()
    bob, carol = _people("bob", "carol")
    moderation.warn(bob, "One.", by_moderator(mod))
    moderation.warn(carol, "Two.", CLI)
    moderation.ban(bob, "Three.", by_moderator(mod))
    newest = moderation.audit_log(limit=2)
    assert [row["note"] for row in newest] == ["Three.", "Two."]
    assert (newest[0]["actor_username"], newest[0]["subject_username"]) == ("mod", "bob")
    assert newest[1]["actor_username"] is None and newest[1]["actor"] == "cli"
    older = moderation.audit_log(limit=2, before_id=newest[-1]["id"])
    assert [row["note"] for row in older] == ["One.", "The first moderator."]
    assert [row["note"] for row in moderation.audit_log(subject_id=bob)] == ["Three.", "One."]


# --- deciding reports ------------------------------------------------------------------------

def test_reports_about_one_person_are_decided_together_once(in_app):
    mod = _moderator()
    bob, carol, dave = _people("bob", "carol", "dave")
    about_bob = [filed.report.id for filed in _reports(carol, bob) + _reports(dave, bob)]
    about_dave = [filed.report.id for filed in _reports(carol, dave)]
    with pytest.raises(BadRequest):
        moderation.decide("warn", NOTE, by_moderator(mod), report_ids=about_bob + about_dave)
    with pytest.raises(BadRequest):
        moderation.decide("warn", NOTE, by_moderator(mod), report_ids=about_bob, subject_id=dave)
    with pytest.raises(NotFound):
        moderation.dismiss([about_bob[0], 999], NOTE, by_moderator(mod))
    for bad in (["1"], [True], [about_bob[0], "x"]):
        with pytest.raises(BadRequest):
            moderation.dismiss(bad, NOTE, by_moderator(mod))
    suspended = moderation.decide("suspend", NOTE, by_moderator(mod), subject_id=bob,
                                  until=utcnow() + timedelta(days=7))
    assert suspended.report_ids == tuple(about_bob) and suspended.standing == "suspended"
    with pytest.raises(Conflict):  # another moderator, a moment later
        moderation.dismiss(about_bob, "Looks fine to me.", CLI)
    assert len(_entries(bob)) == 1
    with pytest.raises(Conflict):
        moderation.decide("dismiss", NOTE, CLI, subject_id=bob)  # nothing open about bob any more


# --- the automatic hold ----------------------------------------------------------------------

def test_three_different_reporters_within_a_day_hold_a_person_automatically(in_app):
    bob, carol, dave, erin, fred = _people("bob", "carol", "dave", "erin", "fred")
    earlier = match(fred, bob)
    links.leave(earlier.id, fred)
    assert [filed.held for filed in _reports(carol, bob, 2) + _reports(dave, bob)] == [None, None, None]
    (third,) = _reports(erin, bob)
    held = third.held
    assert (held.user_id, held.standing, held.ended) == (bob, "held", [])
    entry = _entries(bob)[-1]
    assert (entry.id, entry.actor, entry.actor_id, entry.action) == (held.action_id, "auto", None, "hold")
    assert len(entry.report_ids) == 4  # every report counted, carol's two included
    open_states = db.session.execute(select(Report.state).where(Report.reported_id == bob)).scalars().all()
    assert set(open_states) == {"open"}  # held for a moderator: nothing decided yet
    assert safety.report(fred, earlier.id, "insults").held is None  # held already: no second hold
    assert [entry.action for entry in _entries(bob)] == ["hold"]


def test_the_same_reporter_again_counts_once(in_app):
    bob, carol, dave = _people("bob", "carol", "dave")
    assert all(filed.held is None for filed in _reports(carol, bob, 3) + _reports(dave, bob))
    assert _user(bob).standing == "active"


def test_only_reports_of_the_last_24_hours_count(in_app):
    bob, carol, dave, erin = _people("bob", "carol", "dave", "erin")
    now = utcnow()
    _reports(carol, bob, now=now - timedelta(hours=25))
    _reports(dave, bob, now=now - timedelta(hours=23))
    assert _reports(erin, bob, now=now)[0].held is None
    assert moderation.counted_reports(bob, now)[1] == 2
    assert _reports(_people("fred")[0], bob, now=now)[0].held.standing == "held"


def test_reports_from_accounts_younger_than_an_hour_do_not_count(in_app):
    bob, carol, dave = _people("bob", "carol", "dave")
    fresh, almost = _people("fresh", "almost", age=timedelta(minutes=59))
    _reports(carol, bob)
    _reports(dave, bob)
    assert _reports(fresh, bob)[0].held is None
    assert _reports(almost, bob)[0].held is None
    # The same account, reporting when it is older than an hour, counts.
    assert _reports(fresh, bob, now=utcnow() + timedelta(minutes=2))[0].held.standing == "held"


def test_reports_from_someone_the_reported_person_blocked_before_do_not_count(in_app):
    bob, carol, dave, erin, fred = _people("bob", "carol", "dave", "erin", "fred")
    _reports(carol, bob)
    _reports(dave, bob)
    room = match(erin, bob)
    safety.block(bob, erin)  # bob blocked erin first (the link ends); erin reports bob after
    assert safety.report(erin, room.id, "retaliation").held is None
    assert moderation.counted_reports(bob)[1] == 2
    # Blocked after the report: the report still counts.
    room = match(fred, bob)
    filed = safety.report(fred, room.id, "insults")
    assert filed.held.standing == "held"
    safety.block(bob, fred)
    assert moderation.counted_reports(bob)[1] == 3


def test_a_restricted_person_is_not_held_and_the_setting_is_the_number_of_reporters(in_app, app):
    app.config["HOLD_REPORTERS"] = 2
    bob, carol, dave, erin = _people("bob", "carol", "dave", "erin")
    _reports(carol, bob)
    assert _reports(dave, bob)[0].held.standing == "held"
    _reports(carol, erin)
    room = match(dave, erin)
    links.leave(room.id, dave)
    moderation.suspend(erin, utcnow() + timedelta(days=1), NOTE, CLI)
    assert safety.report(dave, room.id, "insults").held is None  # reports about an ended link count too
    assert _user(erin).standing == "suspended"
    assert [entry.action for entry in _entries(erin)] == ["suspend"]


# --- warnings --------------------------------------------------------------------------------

def test_a_warning_is_pending_until_its_person_acknowledges_it(in_app):
    bob, carol = _people("bob", "carol")
    warned = moderation.warn(bob, "Internal: third time.", CLI, reason="Please keep it friendly.")
    (pending,) = moderation.pending_warnings(bob)
    assert (pending["id"], pending["reason"]) == (warned.warning_id, "Please keep it friendly.")
    assert _entries(bob)[-1].note == "Internal: third time."
    with pytest.raises(NotFound):
        moderation.acknowledge_warning(carol, warned.warning_id)
    assert moderation.acknowledge_warning(bob, warned.warning_id)["acknowledged_at"]
    assert moderation.pending_warnings(bob) == []


# --- appeals ---------------------------------------------------------------------------------

def test_a_suspended_person_appeals_once_per_action(in_app):
    mod = _moderator()
    (bob,) = _people("bob")
    suspended = moderation.suspend(bob, utcnow() + timedelta(days=7), NOTE, by_moderator(mod))
    appealed = moderation.appeal("bob", PASSWORD, "It was a misunderstanding.")
    assert (appealed.user_id, appealed.action_id) == (bob, suspended.action_id)
    with pytest.raises(Conflict):
        moderation.appeal("BOB", PASSWORD, "Please, again.")
    (listed,) = moderation.open_appeals()
    assert listed["text"] == "It was a misunderstanding." and listed["person"]["username"] == "bob"
    assert listed["action"]["action"] == "suspend"

    upheld = moderation.decide_appeal(appealed.appeal_id, "upheld", "The messages were clear.", by_moderator(mod))
    assert (upheld.state, upheld.restored) == ("upheld", None) and _user(bob).standing == "suspended"
    with pytest.raises(Conflict):
        moderation.decide_appeal(appealed.appeal_id, "restored", NOTE, by_moderator(mod))
    banned = moderation.ban(bob, "Came back and did it again.", by_moderator(mod))
    second = moderation.appeal("bob", PASSWORD, "I will not do it again.")  # a new action: a new appeal
    assert second.action_id == banned.action_id
    restored = moderation.decide_appeal(second.appeal_id, "restored", "One more chance.", by_moderator(mod))
    assert restored.restored.previous == "banned" and _user(bob).standing == "active"
    assert [entry.action for entry in _entries(bob)] == ["suspend", "appeal_upheld", "ban", "appeal_restored"]
    assert moderation.open_appeals() == []


def test_only_a_suspended_or_banned_person_with_the_right_password_appeals(in_app):
    bob, carol, dave = _people("bob", "carol", "dave")
    moderation.ban(bob, NOTE, CLI)
    moderation.hold(dave, NOTE, CLI)
    with pytest.raises(Unauthorized):
        moderation.appeal("bob", "not the password", "Sorry.")
    with pytest.raises(Unauthorized):
        moderation.appeal("nobody", PASSWORD, "Sorry.")
    for name in ("carol", "dave"):
        with pytest.raises(Forbidden):
            moderation.appeal(name, PASSWORD, "Sorry.")
    for text_ in ("", "  ", "x" * 2001):
        with pytest.raises(BadRequest) as refused:
            moderation.appeal("bob", PASSWORD, text_)
        assert refused.value.details["field"] == "text"
    moderation.suspend(carol, utcnow() + timedelta(days=1), NOTE, CLI)
    with pytest.raises(Forbidden):  # the suspension is over, so there is nothing to appeal
        moderation.appeal("carol", PASSWORD, "Sorry.", now=utcnow() + timedelta(days=2))


def test_wrong_passwords_in_appeals_back_off_as_sign_ins_do(in_app, app):
    (bob,) = _people("bob")
    moderation.ban(bob, NOTE, CLI)
    for _ in range(app.config["LOGIN_FREE_FAILURES"] + 1):
        with pytest.raises(Unauthorized):
            moderation.appeal("bob", "not the password", "Sorry.", address="203.0.113.9")
    with pytest.raises(RateLimited):
        moderation.appeal("bob", PASSWORD, "Sorry.", address="203.0.113.9")
    assert moderation.appeal("bob", PASSWORD, "Sorry.", address="198.51.100.7").user_id == bob


# --- evidence pictures -------------------------------------------------------------------------

def _picture_message(room_id, sender_id):
    uploaded = attachments.upload(room_id, sender_id, "image", "p.png", io.BytesIO(samples.png((800, 600))))
    sent = store_message(room_id, sender_id, str(uuid.uuid4()), "image", attachment_id=uploaded.id)
    return uploaded, sent.message


def test_a_reported_picture_outlives_its_message_and_its_upload(in_app, app):
    alice, bob = _people("alice", "bob")
    room = match(alice, bob)
    store_text(room.id, bob, "look at this")
    uploaded, picture = _picture_message(room.id, bob)
    thumbnail = attachments.read_thumbnail(uploaded)
    assert thumbnail and uploaded.thumb_mime == "image/png"

    filed = safety.report(alice, room.id, "an unwanted picture").report
    by_message = {entry["id"]: entry for entry in filed.snapshot["messages"]}
    assert by_message[picture["id"]]["evidence_item"] == 1
    assert all("evidence_item" not in entry for entry in by_message.values() if entry["id"] != picture["id"])

    messages.delete(room.id, bob, picture["id"])  # its upload row and files go at once
    links.leave(room.id, alice)
    attachments.remove_orphans(utcnow() + timedelta(days=365))
    assert db.session.get(type(uploaded), uploaded.id) is None
    kept = moderation.evidence_picture(filed.id, 1)
    assert (kept.data, kept.mime) == (thumbnail, "image/png")
    with pytest.raises(NotFound):
        moderation.evidence_picture(filed.id, 2)
    with pytest.raises(NotFound):
        moderation.evidence_picture(filed.id + 1, 1)


def test_evidence_stops_at_its_budget_per_report_newest_first(in_app, app):
    alice, bob = _people("alice", "bob")
    room = match(alice, bob)
    first = _picture_message(room.id, bob)
    second = _picture_message(room.id, bob)
    app.config["REPORT_EVIDENCE_BYTES"] = len(attachments.read_thumbnail(second[0])) + 10
    filed = safety.report(alice, room.id, "pictures").report
    by_message = {entry["id"]: entry for entry in filed.snapshot["messages"]}
    assert by_message[second[1]["id"]]["evidence_item"] == 1
    assert "evidence_item" not in by_message[first[1]["id"]]


# --- what the console reads --------------------------------------------------------------------

def _count_queries(engine):
    """The SELECTs run on `engine` from now on (a list that grows)."""
    statements = []

    def seen(_connection, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    return statements


def test_open_reports_come_held_people_first_then_oldest_with_a_fixed_number_of_queries(in_app, app):
    app.config["HOLD_REPORTERS"] = 100
    bob, carol, dave, erin = _people("bob", "carol", "dave", "erin")
    now = utcnow()
    older = _reports(carol, bob, now=now - timedelta(hours=3))[0].report.id
    newer = _reports(dave, bob, now=now - timedelta(hours=1))[0].report.id
    about_carol = _reports(erin, carol, now=now - timedelta(hours=2))[0].report.id
    moderation.hold(carol, "Looking into it.", CLI)

    statements = _count_queries(db.engine)
    page = moderation.open_reports(page=1, limit=2)
    few = len(statements)
    assert [filed["id"] for filed in page["reports"]] == [about_carol, older]
    assert (page["total"], page["has_more"]) == (3, True)
    assert page["reports"][0]["reported"]["standing"] == "held"
    assert page["reports"][1]["reporter"]["username"] == "carol"
    assert page["reports"][1]["snapshot"]["messages"][-1]["text"] == "rude words"
    assert [filed["id"] for filed in moderation.open_reports(page=2, limit=2)["reports"]] == [newer]

    for name in ("fred", "gina", "hal", "ivy", "joan"):
        _reports(_people(name)[0], dave)
    statements.clear()
    assert len(moderation.open_reports(limit=50)["reports"]) == 8
    assert len(statements) == few  # no query per report


def test_a_person_s_record_says_who_they_are_and_what_came_before(in_app):
    mod = _moderator()
    bob, carol, dave = _people("bob", "carol", "dave", age=timedelta(days=10))
    now = utcnow()
    _reports(carol, bob, 2, now=now - timedelta(days=3))
    _reports(dave, bob, now=now)
    moderation.warn(bob, "Be kind.", by_moderator(mod))
    for kind in ("term", "term", "link"):
        protections.count_refusal(bob, kind)
    record = moderation.person_record(bob, now)
    assert record["person"]["username"] == "bob" and record["person"]["standing"] == "active"
    assert 9.9 <= record["account_age_days"] <= 10.1
    assert (record["links"], record["open_reports"]) == (2, 3)
    assert (record["reporters_24h"], record["reporters_30d"]) == (1, 2)
    assert record["refusals"] == {"term": 2, "link": 1, "age": 0}
    assert [warning["reason"] for warning in record["warnings"]] == ["Be kind."]
    assert [action["action"] for action in record["actions"]] == ["warn"]
    with pytest.raises(NotFound):
        moderation.person_record(9999)
    with pytest.raises(ValueError):
        protections.count_refusal(bob, "mood")


def test_the_records_of_a_page_of_people_take_as_few_statements_as_one_record(in_app, monkeypatch):
    monkeypatch.setattr(moderation, "RECORD_ROWS", 2)
    mod = _moderator()
    people = _people("bob", "carol", "dave", "erin", "fred", "gina", age=timedelta(days=60))
    bob, carol, dave, erin, _fred, gina = people
    now = utcnow()
    _reports(carol, bob, now=now - timedelta(days=3))
    _reports(dave, bob, now=now)
    _reports(erin, carol, now=now - timedelta(days=40))
    for reason in ("One.", "Two.", "Three."):
        moderation.warn(bob, reason, by_moderator(mod))
    moderation.warn(carol, "Be kind.", by_moderator(mod))
    protections.count_refusal(carol, "link")

    statements = _count_queries(db.engine)
    one = moderation.person_records([bob], now)
    few = len(statements)
    statements.clear()
    page = moderation.person_records([*people, bob, 9999, None], now)
    assert len(statements) == few  # however many people: no statement per person
    assert sorted(page) == sorted(people)  # nobody for an id of nobody
    assert page[bob] == one[bob] == moderation.person_record(bob, now)
    assert [warning["reason"] for warning in page[bob]["warnings"]] == ["Three.", "Two."]  # the latest RECORD_ROWS
    assert [(action["action"], action["actor_username"]) for action in page[bob]["actions"]] == [("warn", "mod")] * 2
    assert (page[bob]["links"], page[bob]["open_reports"], page[bob]["reporters_24h"], page[bob]["reporters_30d"]) \
        == (2, 2, 1, 2)
    assert (page[carol]["links"], page[carol]["open_reports"], page[carol]["reporters_30d"]) == (2, 1, 0)
    assert [warning["reason"] for warning in page[carol]["warnings"]] == ["Be kind."]
    assert page[carol]["refusals"] == {"term": 0, "link": 1, "age": 0}
    nothing = page[gina]
    assert (nothing["links"], nothing["open_reports"], nothing["reporters_24h"], nothing["reporters_30d"],
            nothing["warnings"], nothing["actions"]) == (0, 0, 0, 0, [], [])
    assert nothing["refusals"] == {"term": 0, "link": 0, "age": 0}
    assert 59.9 <= nothing["account_age_days"] <= 60.1 and nothing["person"]["username"] == "gina"
    assert moderation.person_records([]) == {}


def test_moderators_are_listed_and_the_console_is_theirs_only(in_app):
    mod = _moderator()
    (bob,) = _people("bob")
    assert [person["username"] for person in moderation.moderators()] == ["mod"]
    assert moderation.require_moderator(mod).id == mod
    for anyone in (bob, 9999, None):
        with pytest.raises(NotFound):
            moderation.require_moderator(anyone)
    with pytest.raises(Conflict):
        moderation.set_moderator(mod, True, CLI, "Again.")
