"""Retention: what `flask rooms cleanup` deletes once it is old enough.

- The messages and uploads of links that ended more than HEARTLINK_RETENTION_DAYS ago (0 keeps
  them forever). A link either member keeps (room_members.kept) is never touched while kept; the
  link itself (its row, its two members) stays, as an ended link with no history.
- Report evidence (report_evidence: the pictures a report copied) of reports decided more than
  HEARTLINK_REPORT_RETENTION_DAYS ago. An open report keeps its evidence. The report and the
  audit log (moderation_log, append-only) are never deleted.

Deleting is done in short transactions of at most BATCH rows each, by ranges of ids, so that a
million old messages go without a long lock: the workers' sends get in between two batches.
"""
import logging
import time
from datetime import timedelta
from typing import NamedTuple

from flask import current_app
from sqlalchemy import and_, delete, exists, select

from ..extensions import db
from ..models import Attachment, Message, Report, ReportEvidence, Room, RoomMember, utcnow
from ..worker.database import write_transaction
from . import attachments

log = logging.getLogger(__name__)

BATCH = 5000
_ROOMS_AT_ONCE = 500
# A pause between two batches, so that the writers of the serving workers get the database.
_BREATHE = 0.01


class Removed(NamedTuple):
    links: int
    messages: int
    uploads: int
    evidence: int


def _expired_links(cutoff):
    """Ended links past the cutoff that nobody keeps; checked again inside every delete."""
    kept = exists().where(RoomMember.room_id == Room.id, RoomMember.kept.is_(True))
    return and_(Room.status == "ended", Room.ended_at < cutoff, ~kept)


def remove_expired(now=None, batch=BATCH):
    """Apply both retention periods. Returns Removed (how many links lost their history, and
    how many messages, uploads and evidence pictures were deleted)."""
    now = now or utcnow()
    config = current_app.config
    links = messages = uploads = 0
    if config["RETENTION_DAYS"] > 0:
        links, messages, uploads = _remove_histories(now - timedelta(days=config["RETENTION_DAYS"]), batch)
    evidence = 0
    if config["REPORT_RETENTION_DAYS"] > 0:
        evidence = _remove_evidence(now - timedelta(days=config["REPORT_RETENTION_DAYS"]), batch)
    return Removed(links, messages, uploads, evidence)


def _remove_histories(cutoff, batch):
    expired = _expired_links(cutoff)
    with_history = exists().where(Message.room_id == Room.id) | exists().where(Attachment.room_id == Room.id)
    room_ids = db.session.execute(select(Room.id).where(expired, with_history).order_by(Room.id)).scalars().all()
    db.session.commit()  # no read snapshot held across the batches
    messages = uploads = 0
    for start in range(0, len(room_ids), _ROOMS_AT_ONCE):
        chunk = room_ids[start:start + _ROOMS_AT_ONCE]
        still_expired = select(Room.id).where(Room.id.in_(chunk), expired)
        messages += _delete_in_ranges(Message, Message.room_id.in_(still_expired), batch)
        uploads += _delete_uploads(Attachment.room_id.in_(still_expired), batch)
    if room_ids:
        log.info("retention: deleted %d messages and %d uploads of %d links ended before %s",
                 messages, uploads, len(room_ids), cutoff)
    return len(room_ids), messages, uploads


def _delete_in_ranges(model, condition, batch):
    """Delete the rows of `model` matching `condition`, at most `batch` a transaction, each
    transaction one range of ids."""
    deleted, after = 0, None
    while True:
        query = select(model.id).where(condition).order_by(model.id).limit(batch)
        if after is not None:
            query = query.where(model.id > after)
        ids = db.session.execute(query).scalars().all()
        db.session.commit()
        if not ids:
            return deleted
        with write_transaction() as session:
            deleted += session.execute(
                delete(model).where(model.id.between(ids[0], ids[-1]), condition)
                .execution_options(synchronize_session=False)).rowcount
        after = ids[-1]
        time.sleep(_BREATHE)


def _delete_uploads(condition, batch):
    """Delete matching uploads (rows, then files), `batch` at a time."""
    deleted = 0
    while True:
        ids = db.session.execute(select(Attachment.id).where(condition).limit(batch)).scalars().all()
        db.session.commit()
        if not ids:
            return deleted
        with write_transaction() as session:
            session.execute(delete(Attachment).where(Attachment.id.in_(ids), condition)
                            .execution_options(synchronize_session=False))
        for attachment_id in ids:
            attachments.discard_files(attachment_id)
        deleted += len(ids)
        time.sleep(_BREATHE)


def _remove_evidence(cutoff, batch):
    decided_long_ago = select(Report.id).where(Report.state != "open", Report.decided_at < cutoff)
    deleted = 0
    while True:
        keys = db.session.execute(
            select(ReportEvidence.report_id, ReportEvidence.item)
            .where(ReportEvidence.report_id.in_(decided_long_ago)).order_by(ReportEvidence.report_id)
            .limit(batch)).all()
        db.session.commit()
        if not keys:
            break
        with write_transaction() as session:
            deleted += session.execute(
                delete(ReportEvidence)
                .where(ReportEvidence.report_id.between(keys[0][0], keys[-1][0]),
                       ReportEvidence.report_id.in_(decided_long_ago))
                .execution_options(synchronize_session=False)).rowcount
        time.sleep(_BREATHE)
    if deleted:
        log.info("retention: deleted %d evidence pictures of reports decided before %s", deleted, cutoff)
    return deleted

