"""A person's own data: all of it to take away (an export), or their account deleted.

The export is a zip (heartlink/lib/zipstream.py) written as it is sent: account.json, links.json
(every link with its messages, as the person sees them) and the person's own uploads, never
anybody else's.

Deleting an account leaves a tombstone, not a hole: the users row stays (the audit log, which
nothing may change, and reports refer to it) with nothing of the person left in it. Their messages
stay in their partners' histories as deleted messages from "Deleted account"; their uploads and
picture are deleted; every sign-in stops working. The username stays taken for
USERNAME_RESERVED_DAYS, so nobody can pose as them to their former partners at once; then
`flask rooms cleanup` frees it (free_usernames). Report evidence and the audit log keep what they
hold: docs/decisions.md.
"""
import json
import logging
from datetime import timedelta
from typing import NamedTuple

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update

from .. import wire
from ..errors import Unauthorized
from ..extensions import db
from ..models import Attachment, Block, MatchTicket, Message, Reaction, Report, Room, RoomMember, User, iso, utcnow
from ..worker.database import write_transaction
from . import accounts, attachments, links, privacy, profiles, rooms, safety

log = logging.getLogger(__name__)

_PAGE = 500  # messages read at a time for an export
_BATCH = 5000  # messages turned into tombstones per transaction
_READ_CHUNK = 64 * 1024
# A tombstone's username and key: "~" is in no username a person can choose.
_TOMBSTONE = "~{}"
UNUSABLE_PASSWORD = "!deleted"


# --- the export ----------------------------------------------------------------------------------

def export_members(user_id):
    """The export's zip members, [(name, pieces)], each produced only as it is written."""
    return [("account.json", _account(user_id)), ("links.json", _links(user_id)), *_uploads(user_id)]


def export_name(user_id):
    user = db.session.get(User, user_id)
    return f"heartlink-{user.username}-{utcnow():%Y-%m-%d}.zip"


def _account(user_id):
    user = db.session.get(User, user_id)
    filed = db.session.execute(select(Report).where(Report.reporter_id == user_id).order_by(Report.id)).scalars()
    account = {
        "exported_at": iso(utcnow()),
        "account": {**wire.person(user, user.id), "created_at": iso(user.created_at),
                    "birth_date": user.birth_date.isoformat() if user.birth_date else None,
                    "standing": user.standing, "settings": user.settings(),
                    "profile_picture": _avatar_name(user)},
        "blocked": safety.blocked_by(user_id),
        "reports_filed": [{"id": report.id, "created_at": iso(report.created_at), "link_id": report.room_id,
                           "reason": report.reason, "state": report.state} for report in filed],
    }
    yield json.dumps(account, ensure_ascii=False, indent=2)


def _links(user_id):
    """Every link of the person, oldest first, with all its messages, as `room:join` shows them."""
    room_ids = db.session.execute(
        select(Room.id).join(RoomMember, RoomMember.room_id == Room.id)
        .where(RoomMember.user_id == user_id).order_by(Room.created_at, Room.id)).scalars().all()
    yield "[\n"
    for index, room_id in enumerate(room_ids):
        room = rooms.room_for_member(room_id, user_id)
        shown = json.dumps(rooms.room_view(room, user_id), ensure_ascii=False)
        yield ("" if index == 0 else ",\n") + shown[:-1] + ', "messages": ['
        after = 0
        while True:
            page = db.session.execute(
                select(Message).where(Message.room_id == room_id, Message.seq > after)
                .order_by(Message.seq).limit(_PAGE)).scalars().all()
            if not page:
                break
            yield ("" if after == 0 else ",") + ",".join(
                json.dumps(wire.stored_message(message), ensure_ascii=False) for message in page)
            after = page[-1].seq  # the session's identity map is weak: pages read are let go
        yield "]}"
    yield "\n]\n"


def _avatar_name(user):
    return f"uploads/profile-picture-{user.avatar_id[:8]}" if user.avatar_id else None


def _uploads(user_id):
    """The person's own uploads (what they sent, and their picture), never their partners'."""
    user = db.session.get(User, user_id)
    found = []
    if user.avatar_id:
        found.append((_avatar_name(user), profiles.picture_file(user.avatar_id)))
    mine = db.session.execute(
        select(Attachment.id, Attachment.filename).where(Attachment.uploader_id == user_id)
        .order_by(Attachment.created_at)).all()
    for attachment_id, filename in mine:
        found.append((f"uploads/{attachment_id[:8]}-{filename}", attachments.stored_file(attachment_id)))
    return [(name, _file(path)) for name, path in found if path.exists()]


def _file(path):
    with open(path, "rb") as source:
        while piece := source.read(_READ_CHUNK):
            yield piece


# --- deleting an account -------------------------------------------------------------------------

class Deleted(NamedTuple):
    """An account deleted: the link it ended (links.Ended or None), the people who shared a link
    with it (to hear of the tombstone) and its messages now tombstones in their latest pages."""
    user_id: int
    ended: links.Ended | None
    partners: list
    tombstones: list  # [(room, message)] the partners' open chats show at once


def delete_account(user_id, password, now=None):
    """Delete the signed-in person's account, after their password: see the module's docstring.
    Returns Deleted; Unauthorized for a wrong password."""
    now = now or utcnow()
    user = db.session.get(User, user_id)
    if user is None or user.deleted_at is not None or accounts.authenticate(user.username, password) is None:
        raise Unauthorized(_l("Your password is not right."))
    ended = links.end(user.active_room_id, user_id, "left") if user.active_room_id else None
    partners = sorted(privacy.profile_audience(user_id))
    avatar_id = user.avatar_id
    with write_transaction() as session:
        session.execute(update(User).where(User.id == user_id).values(
            username=_TOMBSTONE.format(user_id), display_name="Deleted account", password_hash=UNUSABLE_PASSWORD,
            session_epoch=User.session_epoch + 1, avatar_id=None, avatar_mime=None, read_receipts=False,
            show_presence=False, language=None, birth_date=None, online=False, last_seen=None,
            active_room_id=None, deleted_at=now))
        session.execute(delete(MatchTicket).where(MatchTicket.user_id == user_id))
        session.execute(delete(Block).where(Block.blocker_id == user_id))
        session.execute(delete(Reaction).where(Reaction.user_id == user_id))
        # Their links can no longer be opened again: kept by nobody on their side.
        session.execute(update(RoomMember).where(RoomMember.user_id == user_id).values(kept=False))
    _tombstone_messages(user_id)
    uploads = db.session.execute(select(Attachment.id).where(Attachment.uploader_id == user_id)).scalars().all()
    with write_transaction() as session:
        session.execute(delete(Attachment).where(Attachment.uploader_id == user_id))
    for attachment_id in uploads:
        attachments.discard_files(attachment_id)
    if avatar_id:
        profiles.picture_file(avatar_id).unlink(missing_ok=True)
    log.info("account %s deleted: %d uploads removed", user_id, len(uploads))
    db.session.expire_all()
    return Deleted(user_id, ended, partners, _latest_tombstones(user_id))


def _tombstone_messages(user_id):
    """Every message of theirs becomes a deleted message, by ranges of ids, a batch a transaction."""
    after = 0
    while True:
        ids = db.session.execute(
            select(Message.id).where(Message.sender_id == user_id, Message.id > after)
            .order_by(Message.id).limit(_BATCH)).scalars().all()
        db.session.commit()
        if not ids:
            return
        with write_transaction() as session:
            session.execute(update(Message).where(Message.sender_id == user_id, Message.id.between(ids[0], ids[-1]))
                            .values(deleted=True, text=None, attachment_id=None)
                            .execution_options(synchronize_session=False))
        after = ids[-1]


def _latest_tombstones(user_id, links_shown=20):
    """Their messages in the latest page of their most recent links: what a partner may have open."""
    found = []
    recent = db.session.execute(
        select(Room).join(RoomMember, RoomMember.room_id == Room.id).where(RoomMember.user_id == user_id)
        .order_by(Room.last_activity_at.desc()).limit(links_shown)).scalars().all()
    page = current_app.config["MESSAGE_PAGE_SIZE"]
    for room in recent:
        for message in db.session.execute(
                select(Message).where(Message.room_id == room.id, Message.sender_id == user_id,
                                      Message.seq > room.last_seq - page)).scalars():
            found.append((room, message))
    return found


def free_usernames(now=None):
    """The usernames of accounts deleted USERNAME_RESERVED_DAYS ago may be taken again. Returns how many."""
    cutoff = (now or utcnow()) - timedelta(days=current_app.config["USERNAME_RESERVED_DAYS"])
    with write_transaction() as session:
        return session.execute(
            update(User).where(User.deleted_at < cutoff, User.username_key != User.username)
            .values(username_key=User.username).execution_options(synchronize_session=False)).rowcount
