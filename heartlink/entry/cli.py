"""flask commands for operators: users, demo people, cleanup."""
import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from ..domain import accounts, attachments, links, safety
from ..errors import DomainError
from ..extensions import db
from ..lib.text import for_terminal
from ..live import announce
from ..models import User

users_cli = AppGroup("users", help="Manage accounts.")
rooms_cli = AppGroup("rooms", help="Maintain heart links.")

DEMO_PEOPLE = [("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol")]
DEMO_PASSWORD = "heartlink-demo"


@users_cli.command("create")
@click.argument("username")
@click.option("--password", required=True)
@click.option("--display-name", default=None)
def create_user(username, password, display_name):
    """Create one account."""
    try:
        user = accounts.create_user(username, password, display_name)
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
def bulk_create(prefix, count, password):
    """Create PREFIX1..PREFIXN accounts for load tests (existing names are kept)."""
    try:
        created = accounts.bulk_create_users(prefix, count, password)
    except DomainError as error:
        raise click.ClickException(str(error.message)) from None
    click.echo(f"created {created} accounts")


@click.command("demo")
@with_appcontext
def demo():
    """Create the demo people and print how to sign in."""
    for username, name in DEMO_PEOPLE:
        if accounts.find_user(username) is None:
            accounts.create_user(username, DEMO_PASSWORD, name)
    host, port = current_app.config["HOST"], current_app.config["PORT"]
    click.echo(f"Demo people: {', '.join(u for u, _ in DEMO_PEOPLE)} (password: {DEMO_PASSWORD})")
    click.echo(f"Open http://{host}:{port}/ in two browser windows (one private), sign in as two of them,")
    click.echo("and press 'Find a heart link' in both.")


@rooms_cli.command("cleanup")
def cleanup():
    """End links idle for HEARTLINK_LINK_IDLE_HOURS; delete uploads no message refers to."""
    ended = links.end_idle()
    for link in ended:
        announce.link_ended(link)
    click.echo(f"ended {len(ended)} idle links")
    click.echo(f"deleted {attachments.remove_orphans()} unsent uploads")
    revoked, failures = accounts.forget_expired()
    click.echo(f"forgot {revoked} expired sign-outs and {failures} old wrong-password counts")


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
    app.cli.add_command(demo)
