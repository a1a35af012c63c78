"""flask commands for operators: users, demo people, cleanup, moderators and decisions."""
from datetime import UTC, timedelta
from functools import wraps

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from ..domain import accounts, age, attachments, challenges, links, moderation, own_data, profiles, retention, safety
from ..errors import DomainError
from ..extensions import db
from ..lib.text import for_terminal
from ..live import announce
from ..models import User, utcnow
from ..worker import backups

users_cli = AppGroup("users", help="Manage accounts.")
rooms_cli = AppGroup("rooms", help="Maintain heart links.")

# Each with profile interests (what "Find a heart link" offers to look for): Alice and Bob share
# hiking, Bob and Carol jazz, so who meets whom shows what they share.
DEMO_PEOPLE = [("alice", "Alice", ["hiking", "photography", "🍜 ramen"]),
               ("bob", "Bob", ["hiking", "jazz", "chess"]),
               ("carol", "Carol", ["jazz", "baking", "travel"])]
DEMO_PASSWORD = "heartlink-demo"


_BIRTH_DATE = click.option(
    "--birth-date", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
    help="The person's date of birth, YYYY-MM-DD (refused under HEARTLINK_MIN_AGE). Without it, you vouch "
         "that they are old enough, and they are never asked.")


def _age_answer(birth_date):
    """(birth_date, vouched) for the domain: the date given, checked as sign-up checks it, or the
    operator's word."""
    if birth_date is None:
        return None, True
    return age.check_sign_up(birth_date.date()), False


@users_cli.command("create")
@click.argument("username")
@click.option("--password", required=True)
@click.option("--display-name", default=None)
@_BIRTH_DATE
def create_user(username, password, display_name, birth_date):
    """Create one account."""
    try:
        birth_date, vouched = _age_answer(birth_date)
        user = accounts.create_user(username, password, display_name, birth_date=birth_date, vouched=vouched)
    except DomainError as error:
        raise click.ClickException(str(error.message)) from None
    click.echo(f"created {user.username} (id {user.id})")


@users_cli.command("list")
def list_users():
    """List accounts."""
    for user in db.session.query(User).order_by(User.id):
        click.echo(f"{user.id}\t{user.username}\t{for_terminal(user.display_name)}\t"
                   f"{'online' if user.online else 'offline'}")


@users_cli.command("bulk-create")
@click.option("--prefix", required=True)
@click.option("--count", required=True, type=click.IntRange(1, 100000))
@click.option("--password", required=True)
@_BIRTH_DATE
def bulk_create(prefix, count, password, birth_date):
    """Create PREFIX1..PREFIXN accounts for load tests (existing names are kept)."""
    try:
        birth_date, vouched = _age_answer(birth_date)
        created = accounts.bulk_create_users(prefix, count, password, birth_date=birth_date, vouched=vouched)
    except DomainError as error:
        raise click.ClickException(str(error.message)) from None
    click.echo(f"created {created} accounts")


# --- trust and safety: every decision here is audited with actor "cli" -----------------------

moderators_cli = AppGroup("moderators", help="Who may use the moderation console.")
moderation_cli = AppGroup("moderation", help="The moderation audit log.")


def _answers_domain_errors(command):
    """A refused decision (no such person, a note missing ...) is one line on stderr and status 1."""
    @wraps(command)
    def run(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except DomainError as error:
            raise click.ClickException(str(error.message)) from None
    return run


def _person(username):
    user = accounts.find_user(username)
    if user is None:
        raise click.ClickException(f"no such user: {for_terminal(username)}")
    return user


@moderators_cli.command("add")
@click.argument("username")
@click.option("--note", default="Made a moderator at the command line.", help="Why (kept in the audit log).")
@_answers_domain_errors
def add_moderator(username, note):
    """Give USERNAME access to the moderation console."""
    user = _person(username)
    changed = moderation.set_moderator(user.id, True, moderation.CLI, note)
    announce.decided(changed)  # their open sockets join the moderators' room
    click.echo(f"{user.username} is now a moderator (audit entry {changed.action_id})")


@moderators_cli.command("remove")
@click.argument("username")
@click.option("--note", default="No longer a moderator, at the command line.", help="Why (kept in the audit log).")
@_answers_domain_errors
def remove_moderator(username, note):
    """Take access to the moderation console from USERNAME."""
    user = _person(username)
    changed = moderation.set_moderator(user.id, False, moderation.CLI, note)
    announce.decided(changed)  # their open sockets leave the moderators' room: no more reports reach them
    click.echo(f"{user.username} is no longer a moderator (audit entry {changed.action_id})")


@moderators_cli.command("list")
def list_moderators():
    """One line per moderator: id, username, display name."""
    found = moderation.moderators()
    for person in found:
        click.echo(f"{person['id']}\t{person['username']}\t{for_terminal(person['display_name'])}")
    if not found:
        click.echo("no moderators")


def _until_text(moment):
    return f"{moment:%Y-%m-%d %H:%M} UTC"


@users_cli.command("suspend")
@click.argument("username")
@click.option("--days", type=click.IntRange(1, 3650), help="For this many days from now.")
@click.option("--until", "until_day", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Until the start of this day (UTC), YYYY-MM-DD.")
@click.option("--reason", required=True, help="What the person is told; kept in the audit log.")
@_answers_domain_errors
def suspend_user(username, days, until_day, reason):
    """Suspend USERNAME for --days N or --until a day: no sign-in until then; their link ends."""
    if (days is None) == (until_day is None):
        raise click.UsageError("give either --days or --until")
    until = utcnow() + timedelta(days=days) if days else until_day.replace(tzinfo=UTC)
    user = _person(username)
    outcome = moderation.suspend(user.id, until, reason, moderation.CLI)
    announce.decided(outcome)
    click.echo(f"suspended {user.username} until {_until_text(outcome.until)} (audit entry {outcome.action_id})")


@users_cli.command("ban")
@click.argument("username")
@click.option("--reason", required=True, help="What the person is told; kept in the audit log.")
@_answers_domain_errors
def ban_user(username, reason):
    """Ban USERNAME: no sign-in any more; their link ends."""
    user = _person(username)
    outcome = moderation.ban(user.id, reason, moderation.CLI)
    announce.decided(outcome)
    click.echo(f"banned {user.username} (audit entry {outcome.action_id})")


@users_cli.command("restore")
@click.argument("username")
@click.option("--reason", required=True, help="Why; kept in the audit log.")
@_answers_domain_errors
def restore_user(username, reason):
    """Make USERNAME active again (from held, suspended or banned)."""
    user = _person(username)
    outcome = moderation.restore(user.id, reason, moderation.CLI)
    click.echo(f"restored {user.username}, who was {outcome.previous} (audit entry {outcome.action_id})")


@users_cli.command("warn")
@click.argument("username")
@click.option("--reason", required=True, help="What the person is told; kept in the audit log.")
@_answers_domain_errors
def warn_user(username, reason):
    """Warn USERNAME: they see the reason on their next page load until they acknowledge it."""
    user = _person(username)
    outcome = moderation.warn(user.id, reason, moderation.CLI)
    announce.decided(outcome)
    click.echo(f"warned {user.username} (audit entry {outcome.action_id})")


@moderation_cli.command("log")
@click.option("--user", "username", default=None, help="Only the entries about this person.")
@click.option("--limit", default=50, type=click.IntRange(1, 500))
def moderation_log(username, limit):
    """The audit log, newest first: one line per decision. Notes are printed escaped."""
    subject_id = _person(username).id if username else None
    for entry in moderation.audit_log(subject_id=subject_id, limit=limit):
        actor = entry["actor"] + (f" {entry['actor_username']}" if entry["actor_username"] else "")
        until = f" until {entry['until']}" if entry["until"] else ""
        reports = f" reports {','.join(map(str, entry['report_ids']))}" if entry["report_ids"] else ""
        told = f" (told: {for_terminal(entry['told'])})" if entry["told"] and entry["told"] != entry["note"] else ""
        click.echo(f"#{entry['id']} {entry['created_at']} {actor}: {entry['action']} {entry['subject_username']}"
                   f"{until}{reports}: {for_terminal(entry['note'])}{told}")


@click.command("demo")
@with_appcontext
def demo():
    """Create the demo people and print how to sign in."""
    for username, name, interests in DEMO_PEOPLE:
        person = accounts.find_user(username) or accounts.create_user(
            username, DEMO_PASSWORD, name, vouched=True)  # made up, and of age
        if not person.interests:
            profiles.update(person.id, {"interests": interests})
    host, port = current_app.config["HOST"], current_app.config["PORT"]
    click.echo(f"Demo people: {', '.join(u for u, *_ in DEMO_PEOPLE)} (password: {DEMO_PASSWORD})")
    for username, _name, interests in DEMO_PEOPLE:
        click.echo(f"  {username}: into {', '.join(interests)}")
    click.echo(f"Open http://{host}:{port}/ in two browser windows (one private), sign in as two of them,")
    click.echo("and press 'Find a heart link' in both.")


@rooms_cli.command("cleanup")
def cleanup():
    """End links idle for HEARTLINK_LINK_IDLE_HOURS; delete uploads no message refers to; forget
    expired sign-outs, wrong-password counts and spent sign-up challenges; apply HEARTLINK_RETENTION_DAYS
    and HEARTLINK_REPORT_RETENTION_DAYS, in short batches."""
    ended = links.end_idle()
    for link in ended:
        announce.link_ended(link)
    click.echo(f"ended {len(ended)} idle links")
    click.echo(f"deleted {attachments.remove_orphans()} unsent uploads")
    revoked, failures = accounts.forget_expired()
    click.echo(f"forgot {revoked} expired sign-outs and {failures} old wrong-password counts")
    click.echo(f"forgot {challenges.forget_expired()} expired sign-up challenges")
    click.echo(f"freed {own_data.free_usernames()} usernames of accounts deleted long ago")
    removed = retention.remove_expired()
    click.echo(f"retention: deleted {removed.messages} messages and {removed.uploads} uploads of {removed.links} "
               f"links that ended long ago, and {removed.evidence} evidence pictures of old reports")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
@with_appcontext
def backup(path):
    """Write a consistent copy of the database to PATH while the workers serve (SQLite's online
    backup; with PostgreSQL, a pg_dump custom-format file). Uploads are copied apart (docs/operations.md)."""
    try:
        size = backups.backup(path)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"backed up the database to {path} ({size} bytes)")


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite a database that is not empty.")
@with_appcontext
def restore(path, force):
    """Restore the backup at PATH into the database (stop the workers first). Refuses a database
    that is not empty unless --force. Run `flask db upgrade` after it, for a backup of an older schema."""
    try:
        backups.restore(path, force=force)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"restored the database from {path}")


reports_cli = AppGroup("reports", help="Reports for moderators.")


@reports_cli.command("list")
@click.option("--limit", default=50, type=click.IntRange(1, 10000))
def list_reports(limit):
    """The newest reports, with the messages they quote. Everything people wrote is
    printed escaped: control characters and ANSI sequences show as \\x1b and the like."""
    for filed in safety.reports(limit):
        click.echo(f"#{filed.id} {filed.created_at:%Y-%m-%d %H:%M} user {filed.reporter_id} reported "
                   f"user {filed.reported_id} in link {for_terminal(filed.room_id)}: {for_terminal(filed.reason)}")
        for message in (filed.snapshot or {}).get("messages", []):
            click.echo(f"    [{for_terminal(message.get('seq'))}] user {for_terminal(message.get('sender_id'))}: "
                       f"{for_terminal(message.get('text'))}")


def register_cli(app):
    app.cli.add_command(users_cli)
    app.cli.add_command(rooms_cli)
    app.cli.add_command(reports_cli)
    app.cli.add_command(moderators_cli)
    app.cli.add_command(moderation_cli)
    app.cli.add_command(demo)
    app.cli.add_command(backup)
    app.cli.add_command(restore)
