"""Safety: blocking people and reporting them to moderators.

Only people one has shared a link with can be blocked (anyone else is "no such
person", so ids cannot be walked to list accounts), and answers about blocks carry
no presence. A report copies a bounded snapshot, with the pictures it quotes (their
thumbnails, in report_evidence), and each person may file only REPORTS_PER_DAY of
them. A report may bring about an automatic hold (moderation.hold_if_reported).
"""
import json
import logging
from datetime import timedelta
from typing import NamedTuple

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, exists, func, select

from .. import wire
from ..errors import BadRequest, NotFound, RateLimited
from ..extensions import db
from ..lib.text import visible
from ..models import Block, Message, Report, ReportEvidence, Room, RoomMember, User, iso, utcnow
from ..worker.database import write_transaction
from . import attachments, links, moderation, privacy
from .rooms import room_for_member

log = logging.getLogger(__name__)

MAX_REASON = 1000
# Each quoted message's text is cut to this many characters in a report's copy.
SNAPSHOT_TEXT = 2000


class Blocked(NamedTuple):
    """What a block changed: the link it ended (a links.Ended, or None), and every link the two
    share, none of them keepable any more (announce.blocked tells both)."""
    ended: links.Ended | None
    shared: list


def block(user_id, target_id):
    """Block a person: any link with them ends at once, keeping ends for every link the two
    share, and they are never matched again. Returns Blocked."""
    if target_id == user_id:
        raise BadRequest(_l("You cannot block yourself."))
    _known_person(user_id, target_id)
    with write_transaction() as session:
        if session.get(Block, (user_id, target_id)) is None:
            session.add(Block(blocker_id=user_id, blocked_id=target_id))
    shared = db.session.execute(
        select(Room.id)
        .join(RoomMember, RoomMember.room_id == Room.id)
        .where(Room.status == "active", RoomMember.user_id == target_id,
               Room.id.in_(select(RoomMember.room_id).where(RoomMember.user_id == user_id)))
    ).scalar()
    log.info("user %s blocked %s", user_id, target_id)
    ended = links.end(shared, user_id, "blocked") if shared else None
    return Blocked(ended, links.drop_keeps(user_id, target_id))


def _known_person(user_id, target_id):
    """NotFound unless the two have shared a link: the same answer for an id nobody has,
    so ids cannot be walked to list the accounts."""
    if not db.session.execute(select(exists().where(Room.id.in_(privacy.shared_rooms(user_id, target_id))))).scalar():
        raise NotFound(_l("No such person."))


def unblock(user_id, target_id):
    """Lift a block. Returns every link the two share: keepable again, unless blocked the other way."""
    _known_person(user_id, target_id)
    with write_transaction() as session:
        session.execute(delete(Block).where(Block.blocker_id == user_id, Block.blocked_id == target_id))
    return links.shared_links(user_id, target_id)


def blocked_by(user_id):
    """The people this person blocked, newest first: who they are, never their presence."""
    rows = db.session.execute(
        select(User, Block.created_at).join(Block, Block.blocked_id == User.id)
        .where(Block.blocker_id == user_id).order_by(Block.created_at.desc())
    ).all()
    veiled = privacy.veiled_to(user_id, [user.id for user, _created in rows])  # never revealed: stays so
    return [{"id": user.id, "username": None if user.id in veiled else user.username,
             "display_name": wire.initials(user.display_name) if user.id in veiled else user.display_name,
             "blocked_at": iso(created)} for user, created in rows]


class Filed(NamedTuple):
    """A report filed: the Report, and the automatic hold it brought about (a
    moderation.Restriction), or None."""
    report: Report
    held: moderation.Restriction | None


def report(user_id, room_id, reason, message_id=None, now=None):
    """Record a report about the partner in a link, with a copy of what it is about:
    the reported message, or the link's latest messages, and the pictures among them.
    Returns Filed."""
    config = current_app.config
    now = now or utcnow()
    room = room_for_member(room_id, user_id)
    reason = visible(reason, keep_newlines=True).strip() if isinstance(reason, str) else ""
    if not 1 <= len(reason) <= MAX_REASON:
        raise BadRequest(_l("Say in a few words what happened (at most %(count)s characters).", count=MAX_REASON),
                         field="reason")
    filed_today = db.session.execute(
        select(func.count()).select_from(Report)
        .where(Report.reporter_id == user_id, Report.created_at > now - timedelta(days=1))
    ).scalar()
    if filed_today >= config["REPORTS_PER_DAY"]:
        raise RateLimited(_l("You have sent many reports today; moderators will look at them."),
                          retry_after=3600)
    query = select(Message).where(Message.room_id == room.id)
    if message_id is not None:
        # The quoted message and what led up to it: a threat sent just before a picture is
        # part of what the reporter points at.
        quoted_seq = db.session.execute(
            select(Message.seq).where(Message.room_id == room.id, Message.id == message_id)).scalar()
        if quoted_seq is None:
            raise NotFound(_l("No such message in this heart link."))
        query = query.where(Message.seq <= quoted_seq)
    quoted = db.session.execute(
        query.order_by(Message.seq.desc()).limit(config["REPORT_SNAPSHOT_MESSAGES"])).scalars().all()
    partner = next(uid for uid in room.member_ids() if uid != user_id)
    kept = quote(room, quoted)
    with write_transaction() as session:
        filed = Report(reporter_id=user_id, reported_id=partner, room_id=room.id, message_id=message_id,
                       reason=reason, snapshot=kept.snapshot, created_at=now)
        session.add(filed)
        session.flush()
        session.add_all(ReportEvidence(**row) for row in evidence_rows(filed.id, kept.pictures, now))
    log.warning("report %s: user %s reported %s in link %s", filed.id, user_id, partner, room.id)
    return Filed(filed, moderation.hold_if_reported(partner, now))


class Quote(NamedTuple):
    """What a report keeps of a link: `snapshot` ({room, members, messages}: the quoted messages
    oldest first, bounded) and `pictures` ({item: (message id, attachment, thumbnail bytes)}),
    each numbered in its message's copy as `evidence_item`."""
    snapshot: dict
    pictures: dict


def quote(room, newest_first):
    """The copy a report keeps of `room` and of the messages it quotes (newest first): the one
    shape of a report's evidence. Returns Quote."""
    config = current_app.config
    copied = _bounded_copy(newest_first, config["REPORT_SNAPSHOT_BYTES"])
    pictures = _pictures(newest_first, copied, config["REPORT_EVIDENCE_BYTES"])
    snapshot = {
        "room": {"id": room.id, "status": room.status, "created_at": iso(room.created_at)},
        "members": [{"id": member.user.id, "username": member.user.username,
                     "display_name": member.user.display_name} for member in room.members],
        "messages": copied,
    }
    return Quote(snapshot, pictures)


def evidence_rows(report_id, pictures, now):
    """The report_evidence rows of a report's pictures (Quote.pictures), as column values."""
    return [{"report_id": report_id, "item": item, "message_id": quoted_id, "attachment_id": attachment.id,
             "mime": attachment.thumb_mime, "data": data, "created_at": now}
            for item, (quoted_id, attachment, data) in pictures.items()]


def _pictures(newest_first, copied, budget):
    """The pictures of the copied messages, as evidence: each one's thumbnail bytes, newest
    first while they fit in `budget` bytes. Numbers them 1, 2 ... and writes each number into
    its message's copy as `evidence_item`. Returns {item: (message id, attachment, bytes)}."""
    entries = {entry["id"]: entry for entry in copied}
    found, used = {}, 0
    for message in newest_first:
        attachment = message.attachment
        if message.id not in entries or message.deleted or attachment is None or attachment.kind != "image":
            continue
        data = attachments.read_thumbnail(attachment)
        if data is None or used + len(data) > budget:
            continue
        used += len(data)
        item = len(found) + 1
        found[item] = (message.id, attachment, data)
        entries[message.id]["evidence_item"] = item
    return found


def _bounded_copy(newest_first, budget):
    """The quoted messages, oldest first, each text cut to SNAPSHOT_TEXT characters, as
    many of the newest as fit in `budget` bytes of JSON (the newest always, cut to fit)."""
    kept, used = [], 0
    for message in newest_first:
        text = message.text if not message.deleted else None
        entry = {"id": message.id, "seq": message.seq, "sender_id": message.sender_id, "kind": message.kind,
                 "text": text[:SNAPSHOT_TEXT] if text else text, "created_at": iso(message.created_at),
                 "edited_at": iso(message.edited_at), "deleted": message.deleted,
                 "attachment_id": message.attachment_id}
        size = len(json.dumps(entry).encode())  # as stored: non-ASCII as \u escapes
        if used + size > budget:
            if not kept:
                entry["text"] = (entry["text"] or "")[: max(0, budget // 12)]
                kept.append(entry)
            break
        kept.append(entry)
        used += size
    return list(reversed(kept))


def reports(limit=100):
    return db.session.execute(select(Report).order_by(Report.created_at.desc()).limit(limit)).scalars().all()
