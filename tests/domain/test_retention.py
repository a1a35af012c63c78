"""Retention (`flask rooms cleanup`): the history of links ended long ago goes, in short batches;
kept links, recent ones and active ones stay; report evidence goes after its own period; the audit
log never changes. On SQLite and on PostgreSQL, at a given `now`."""
import io
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from heartlink.domain import accounts, attachments, links, moderation, retention
from heartlink.extensions import db
from heartlink.models import (
    Attachment,
    Message,
    ModerationEntry,
    Reaction,
    Report,
    ReportEvidence,
    Room,
    RoomMember,
    User,
    utcnow,
)
from heartlink.worker.database import write_transaction

import media_samples as samples
from support import PASSWORD, app_over, match, store_message, store_text

NOW = utcnow() + timedelta(days=1)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, app, tmp_path):
    """An app context over a migrated database of either kind, retention set to 30 days."""
    if request.param == "sqlite":
        with app.app_context():
            app.config.update(RETENTION_DAYS=30, REPORT_RETENTION_DAYS=365)
            yield app
        return
    url = request.getfixturevalue("postgres_url")
    with app_over(url, UPLOAD_DIR=str(tmp_path / "uploads"), RETENTION_DAYS=30, REPORT_RETENTION_DAYS=365) as pg:
        with pg.app_context():
            yield pg


def _ended(first, second, days_ago, texts=3, picture=False, kept_by=None):
    room = match(first, second)
    for index in range(texts):
        sent = store_text(room.id, first if index % 2 else second, f"text {index}")
    moderation_free_reaction(sent.message["id"], first)
    uploaded = None
    if picture:
        uploaded = attachments.upload(room.id, first, "image", "p.jpg", io.BytesIO(samples.png()))
        store_message(room.id, first, str(uuid.uuid4()), "image", attachment_id=uploaded.id)
    if kept_by:
        links.keep(room.id, kept_by, True)
    links.leave(room.id, first)
    with write_transaction():
        db.session.execute(update(Room).where(Room.id == room.id).values(ended_at=NOW - timedelta(days=days_ago)))
    return room.id, uploaded


def moderation_free_reaction(message_id, user_id):
    with write_transaction():
        db.session.add(Reaction(message_id=message_id, user_id=user_id, emoji="❤️"))


def _count(model, *where):
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar()


def _report(reporter, reported, room_id, state, decided_days_ago, pictures=2):
    with write_transaction():
        report = Report(reporter_id=reporter, reported_id=reported, room_id=room_id, reason="r", snapshot={},
                        state=state, created_at=NOW - timedelta(days=500),
                        decided_at=None if state == "open" else NOW - timedelta(days=decided_days_ago))
        db.session.add(report)
        db.session.flush()
        db.session.add_all(ReportEvidence(report_id=report.id, item=item, message_id=1, mime="image/jpeg",
                                          data=b"jpeg") for item in range(1, pictures + 1))
    return report.id


def test_old_histories_go_in_batches_and_kept_recent_and_active_links_stay(database):
    ann, ben, cat, dan, eve, fay = (accounts.create_user(name, PASSWORD, vouched=True).id
                                    for name in ("ann", "ben", "cat", "dan", "eve", "fay"))
    old, picture = _ended(ann, ben, days_ago=40, texts=7, picture=True)
    kept, _ = _ended(cat, dan, days_ago=40, kept_by=dan)
    recent, _ = _ended(ann, cat, days_ago=5)
    active = match(eve, fay).id
    store_text(active, eve, "still talking")
    moderation.ban(ben, "spam", moderation.CLI)
    audit_before = _count(ModerationEntry)
    recent_report = _report(ann, ben, old, "actioned", decided_days_ago=10)
    old_report = _report(ann, ben, old, "dismissed", decided_days_ago=400)
    open_report = _report(cat, ben, old, "open", None)

    removed = retention.remove_expired(now=NOW, batch=2)

    assert removed == retention.Removed(links=1, messages=8, uploads=1, evidence=2)
    assert _count(Message, Message.room_id == old) == 0
    assert _count(Attachment, Attachment.room_id == old) == 0
    assert not attachments._path(picture.id).exists()
    assert _count(Message, Message.room_id == kept) == 3
    assert _count(Message, Message.room_id == recent) == 3
    assert _count(Message, Message.room_id == active) == 1
    assert db.session.get(Room, old).status == "ended"  # the link stays, without its history
    assert _count(RoomMember, RoomMember.room_id == old) == 2
    assert _count(ReportEvidence, ReportEvidence.report_id == old_report) == 0
    assert _count(ReportEvidence, ReportEvidence.report_id == recent_report) == 2
    assert _count(ReportEvidence, ReportEvidence.report_id == open_report) == 2
    assert _count(Report) == 3 and _count(ModerationEntry) == audit_before
    assert db.session.get(User, ben).standing == "banned"

    # Kept no longer: the next cleanup removes it too; nothing is removed twice.
    links.keep(kept, dan, False)
    assert retention.remove_expired(now=NOW, batch=2) == retention.Removed(links=1, messages=3, uploads=0, evidence=0)


def test_zero_keeps_everything_forever(database):
    database.config.update(RETENTION_DAYS=0, REPORT_RETENTION_DAYS=0)
    ann, ben = (accounts.create_user(name, PASSWORD, vouched=True).id for name in ("ann", "ben"))
    old, _ = _ended(ann, ben, days_ago=4000)
    report = _report(ann, ben, old, "dismissed", decided_days_ago=4000)
    assert retention.remove_expired(now=NOW) == retention.Removed(0, 0, 0, 0)
    assert _count(Message, Message.room_id == old) == 3
    assert _count(ReportEvidence, ReportEvidence.report_id == report) == 2
