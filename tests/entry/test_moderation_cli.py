"""The operator's moderation commands: each decision prints one line and is audited with actor
`cli`; a ban ends the person's link for their partner at once."""
from datetime import timedelta

from heartlink.domain import accounts, moderation
from heartlink.extensions import db
from heartlink.models import ModerationEntry, User, utcnow

from support import received


def _lines(result):
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def _entries(app):
    with app.app_context():
        return [(entry.actor, entry.actor_id, entry.action, entry.note)
                for entry in db.session.query(ModerationEntry).order_by(ModerationEntry.id)]


def _standing(app, username):
    with app.app_context():
        user = accounts.find_user(username)
        return user.standing, user.standing_until, user.standing_reason


def test_moderators_are_added_listed_and_removed_in_one_line_each(app, runner, make_user):
    alice = make_user("alice", "Alice")
    assert _lines(runner.invoke(args=["moderators", "list"])) == ["no moderators"]
    assert _lines(runner.invoke(args=["moderators", "add", "ALICE"])) == ["alice is now a moderator (audit entry 1)"]
    assert _lines(runner.invoke(args=["moderators", "list"])) == [f"{alice}\talice\tAlice"]
    again = runner.invoke(args=["moderators", "add", "alice"])
    assert again.exit_code == 1 and again.output.strip() == "Error: alice is a moderator already."
    removed = runner.invoke(args=["moderators", "remove", "alice", "--note", "Left the team."])
    assert _lines(removed) == ["alice is no longer a moderator (audit entry 2)"]
    assert _entries(app) == [("cli", None, "moderator_add", "Made a moderator at the command line."),
                             ("cli", None, "moderator_remove", "Left the team.")]
    with app.app_context():
        assert not db.session.get(User, alice).moderator


def test_suspend_ban_restore_and_warn_each_print_one_line_and_are_audited(app, runner, make_user):
    make_user("bob")
    suspended = _lines(runner.invoke(args=["users", "suspend", "bob", "--days", "7", "--reason", "Insults."]))
    standing, until, reason = _standing(app, "bob")
    assert (standing, reason) == ("suspended", "Insults.")
    assert timedelta(days=6, hours=23) < until - utcnow() <= timedelta(days=7)
    assert suspended == [f"suspended bob until {until:%Y-%m-%d %H:%M} UTC (audit entry 1)"]
    day = (utcnow() + timedelta(days=40)).date()
    assert _lines(runner.invoke(args=["users", "suspend", "bob", "--until", day.isoformat(), "--reason", "Again."])) \
        == [f"suspended bob until {day:%Y-%m-%d} 00:00 UTC (audit entry 2)"]
    assert _lines(runner.invoke(args=["users", "ban", "bob", "--reason", "Threats."])) \
        == ["banned bob (audit entry 3)"]
    assert _standing(app, "bob") == ("banned", None, "Threats.")
    assert _lines(runner.invoke(args=["users", "restore", "bob", "--reason", "Appeal heard."])) \
        == ["restored bob, who was banned (audit entry 4)"]
    assert _standing(app, "bob") == ("active", None, None)
    assert _lines(runner.invoke(args=["users", "warn", "bob", "--reason", "Keep it friendly."])) \
        == ["warned bob (audit entry 5)"]
    assert [(actor, action) for actor, _, action, _ in _entries(app)] == [
        ("cli", "suspend"), ("cli", "suspend"), ("cli", "ban"), ("cli", "restore"), ("cli", "warn")]
    with app.app_context():
        assert [warning["reason"] for warning in moderation.pending_warnings(accounts.find_user("bob").id)] \
            == ["Keep it friendly."]


def test_a_refused_command_is_one_line_and_changes_nothing(app, runner, make_user):
    make_user("bob")
    for args in (["users", "ban", "nobody", "--reason", "x"], ["users", "ban", "bob", "--reason", "   "],
                 ["users", "restore", "bob", "--reason", "Nothing to restore."],
                 ["users", "suspend", "bob", "--until", "2001-01-01", "--reason", "Too late."]):
        refused = runner.invoke(args=args)
        assert refused.exit_code == 1 and len(refused.output.strip().splitlines()) == 1, (args, refused.output)
    for args in (["users", "suspend", "bob", "--reason", "How long?"],
                 ["users", "suspend", "bob", "--days", "1", "--until", "2099-01-01", "--reason", "Which?"],
                 ["users", "ban", "bob"]):
        assert runner.invoke(args=args).exit_code == 2, args
    assert _entries(app) == [] and _standing(app, "bob") == ("active", None, None)


def test_a_ban_at_the_command_line_ends_the_link_for_the_partner(app, runner, linked_sockets):
    alice, _bob, room_id = linked_sockets
    alice.get_received()
    assert _lines(runner.invoke(args=["users", "ban", "bob", "--reason", "Threats."])) == ["banned bob (audit entry 1)"]
    assert received(alice, "room:ended") == [{"room_id": room_id, "by": None, "reason": "safety"}]
    with app.app_context():
        assert accounts.find_user("alice").active_room_id is None


def test_the_log_prints_one_line_per_decision_newest_first(app, runner, make_user):
    make_user("bob")
    make_user("carol")
    runner.invoke(args=["users", "warn", "bob", "--reason", "One."])
    runner.invoke(args=["users", "ban", "carol", "--reason", "Two\nlines\x1b[2J."])
    runner.invoke(args=["users", "ban", "bob", "--reason", "Three."])
    every = _lines(runner.invoke(args=["moderation", "log"]))
    assert len(every) == 3 and every[0].startswith("#3 ") and every[0].endswith("cli: ban bob: Three.")
    # Stored without the escape sequence's ESC; printed with its newline escaped: still one line.
    assert every[1].endswith("cli: ban carol: Two\\x0alines[2J.")
    about_bob = _lines(runner.invoke(args=["moderation", "log", "--user", "bob", "--limit", "1"]))
    assert len(about_bob) == 1 and about_bob[0].endswith("ban bob: Three.")
