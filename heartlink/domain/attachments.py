"""Attachments: checking uploads by their bytes, keeping them outside static/, and
letting only the two members of their room read them."""
import base64
import logging
import os
import re
import unicodedata
import uuid
from datetime import timedelta
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from .. import wire
from ..errors import BadRequest, Forbidden, NotFound, TooLarge
from ..extensions import db
from ..lib import media
from ..lib.text import chosen_name
from ..models import Attachment, Message, utcnow
from ..worker import offload
from ..worker.database import serialise, write_transaction
from . import intake, protections
from .rooms import active_room_for_member, not_hidden_for, room_for_member

log = logging.getLogger(__name__)

KINDS = ("image", "voice", "file")
# What a link's shared items are grouped by (the partner panel's tabs): pictures and video clips,
# other files, voice notes. A clip is a file whose bytes were recognised as mp4 or webm video.
SHARED_KINDS = ("media", "files", "voice")
VIDEO_MIMES = ("video/mp4", "video/webm")
SHARED_PAGE = 30
MAX_SHARED_PAGE = 100
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def sanitise_filename(name):
    """A file name safe to show and to put in Content-Disposition: no paths, no
    control, bidi or zero-width characters (so "invoice\u202egpj.exe" cannot pose as
    "invoiceexe.jpg"), no leading dots; letters of every script are kept."""
    name = name if isinstance(name, str) else ""
    name = unicodedata.normalize("NFC", os.path.basename(chosen_name(name).replace("\\", "/")))
    name = _UNSAFE_NAME.sub("_", name).strip(" .")
    if len(name) > 120:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 110] + dot + ext[:9]) if dot and len(ext) < 10 else name[:120]
    return name or "file"


def _limit(kind):
    return current_app.config[{"image": "IMAGE_MAX_BYTES", "voice": "VOICE_MAX_BYTES",
                               "file": "FILE_MAX_BYTES"}[kind]]


def _minutes(ms):
    return f"{ms / 60000:g}"


def _path(attachment_id, thumb=False):
    return Path(current_app.config["UPLOAD_DIR"]) / attachment_id[:2] / (attachment_id + (".thumb" if thumb else ""))


def _reserve(attachment):
    """Store the attachment's row before its bytes, within the uploader's budget: at most
    UPLOAD_BUDGET_BYTES per UPLOAD_BUDGET_HOURS. The check and the row are one transaction,
    one per person at a time, so uploads at once cannot each find the budget unspent (30 of
    25 MB stored 750 MB against 500 MiB when the check came before the decode and the row
    after it). The row is settled or removed when the upload is done."""
    config = current_app.config
    since = utcnow() - timedelta(hours=config["UPLOAD_BUDGET_HOURS"])
    with write_transaction() as session:
        serialise(session, f"uploads:{attachment.uploader_id}")
        used = session.execute(
            select(func.coalesce(func.sum(Attachment.size), 0))
            .where(Attachment.uploader_id == attachment.uploader_id, Attachment.created_at > since)
        ).scalar()
        if used + attachment.size > config["UPLOAD_BUDGET_BYTES"]:
            raise TooLarge(_l("You have uploaded a lot today; try again tomorrow."),
                           budget=config["UPLOAD_BUDGET_BYTES"])
        session.add(attachment)


def upload(room_id, user_id, kind, filename, stream):
    """Check and store an upload for a member of an active room. Returns the Attachment."""
    if kind not in KINDS:
        raise BadRequest(_l("kind must be image, voice or file."), field="kind")
    room = active_room_for_member(room_id, user_id)
    protections.check_name(sanitise_filename(filename), user_id, message=None)  # the partner reads it
    limit = _limit(kind)
    with intake.received(stream, limit) as data:
        attachment = Attachment(id=str(uuid.uuid4()), room_id=room.id, uploader_id=user_id, kind=kind,
                                filename=sanitise_filename(filename), mime="application/octet-stream",
                                size=len(data))
        _reserve(attachment)
        try:
            _check_and_store(attachment, data)
        except BaseException:
            with write_transaction() as session:
                session.execute(delete(Attachment).where(Attachment.id == attachment.id))
            for path in (_path(attachment.id), _path(attachment.id, thumb=True)):
                path.unlink(missing_ok=True)
            raise
    log.info("stored %s attachment %s (%d bytes) in link %s", kind, attachment.id, attachment.size, room.id)
    return attachment


def _check_and_store(attachment, data):
    """Decode or sniff a reserved upload, write its files, and settle its row."""
    config = current_app.config
    kind = attachment.kind
    thumb = None
    if kind == "image":
        data, attachment.mime, attachment.width, attachment.height, thumb, attachment.thumb_mime = intake.picture(
            media.clean_image, data, config["IMAGE_MAX_PIXELS"], config["IMAGE_MAX_SIDE"])
    elif kind == "voice":
        try:
            attachment.mime, attachment.duration_ms = offload.decode(media.probe_audio, data)
        except media.MediaError:
            raise BadRequest(_l("That file is not a voice recording."), field="file") from None
        if attachment.duration_ms > config["VOICE_MAX_MS"]:
            raise TooLarge(_l("A voice note is at most %(minutes)s minutes long.",
                              minutes=_minutes(config["VOICE_MAX_MS"])))
        attachment.waveform = _waveform(data, attachment.mime)
    else:
        mime, attachment.width, attachment.height = offload.decode(media.probe_video, data)
        attachment.mime = mime or "application/octet-stream"
    attachment.size = len(data)

    intake.store(_path(attachment.id), data)
    if thumb is not None:
        intake.store(_path(attachment.id, thumb=True), thumb)
    with write_transaction() as session:
        session.merge(attachment)


def _waveform(data, mime):
    """A probed voice note's bars, measured once (off the event loop, through the decode gate)
    and stored as base64; None when its sound cannot be read within the limits. Such a note is
    still kept: it passed the container checks, and a browser may play what FFmpeg would not."""
    config = current_app.config
    bars = offload.decode(media.waveform, data, mime, config["VOICE_MAX_MS"], config["WAVEFORM_MAX_SECONDS"])
    if bars is None:
        log.info("a voice note's sound could not be read: kept without a waveform")
        return None
    return base64.b64encode(bytes(bars)).decode("ascii")


def for_member(attachment_id, user_id, thumb=False):
    """(attachment, path) if user_id is a member of the attachment's room."""
    attachment = db.session.get(Attachment, attachment_id) if isinstance(attachment_id, str) else None
    if attachment is None or (thumb and not attachment.thumb_mime):
        raise NotFound(_l("No such attachment."))

    room_for_member(attachment.room_id, user_id)
    path = _path(attachment.id, thumb)
    if not path.exists():
        raise NotFound(_l("No such attachment."))
    return attachment, path


def _of_kind(kind):
    if kind == "media":
        return (Attachment.kind == "image") | ((Attachment.kind == "file") & Attachment.mime.in_(VIDEO_MIMES))
    if kind == "files":
        return (Attachment.kind == "file") & Attachment.mime.not_in(VIDEO_MIMES)
    if kind == "voice":
        return Attachment.kind == "voice"
    raise BadRequest(_l("kind must be media, files or voice."), field="kind")


def shared(room_id, user_id, kind, before=None, after=None, limit=None):
    """A link's shared pictures and clips, files or voice notes (`kind`: SHARED_KINDS) for one of
    its two members, newest first: at most `limit` (SHARED_PAGE; at most MAX_SHARED_PAGE) of the
    newest, or of those just below the seq `before`, or of those just above the seq `after` (the
    media viewer, opened on one picture, reads both ways from it). A deleted message's upload is
    gone with it and never listed, nor one the person deleted for themself.
    {"items": [{seq, id, sender_id, created_at, text, attachment}], "has_more" (further in the
    direction read), "next_before" / "next_after" (the cursor for it)}."""
    condition = _of_kind(kind)
    if before is not None and after is not None:
        raise BadRequest(_l("Ask for items before or after a message, not both."), field="after")
    room = room_for_member(room_id, user_id)
    limit = max(1, min(limit or SHARED_PAGE, MAX_SHARED_PAGE))
    query = (select(Message).join(Attachment, Attachment.id == Message.attachment_id)
             .where(Message.room_id == room.id, Message.deleted.is_(False), not_hidden_for(user_id), condition))
    if after is not None:
        query = query.where(Message.seq > after).order_by(Message.seq)
    else:
        query = query.order_by(Message.seq.desc())
        if before is not None:
            query = query.where(Message.seq < before)
    page = db.session.execute(query.limit(limit + 1)).scalars().all()
    taken = page[:limit]
    has_more = len(page) > limit
    if after is not None:
        taken.reverse()
        return {"items": [_shared_item(message) for message in taken], "has_more": has_more,
                "next_after": taken[0].seq if has_more else None}
    return {"items": [_shared_item(message) for message in taken], "has_more": has_more,
            "next_before": taken[-1].seq if has_more else None}


def _shared_item(message):
    shown = wire.stored_message(message)
    return {key: shown[key] for key in ("seq", "id", "sender_id", "created_at", "text", "attachment")}


def read_thumbnail(attachment):
    """The bytes of an attachment's thumbnail (off the event loop), or None if it has none."""
    if not attachment.thumb_mime:
        return None
    try:
        return offload.run(_path(attachment.id, thumb=True).read_bytes)
    except FileNotFoundError:
        return None


def claim(session, room_id, sender_id, kind, attachment_id):
    """The attachment a new message will carry; it must be the sender's own upload in this room."""
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or attachment.room_id != room_id:
        raise NotFound(_l("No such attachment in this heart link."))
    if attachment.uploader_id != sender_id:
        raise Forbidden(_l("That attachment is not yours."))
    if attachment.kind != kind:
        raise BadRequest(_l("The message kind does not match the attachment."), field="kind")
    if session.execute(select(Message.id).where(Message.attachment_id == attachment_id)).scalar():
        raise BadRequest(_l("That attachment was already sent."), field="attachment_id")
    return attachment


def remove_orphans(now=None):
    """Delete uploads no message refers to, once they are older than ORPHAN_UPLOAD_HOURS."""
    cutoff = (now or utcnow()) - timedelta(hours=current_app.config["ORPHAN_UPLOAD_HOURS"])
    referenced = select(Message.attachment_id).where(Message.attachment_id.is_not(None))
    with write_transaction() as session:
        orphans = session.execute(
            select(Attachment).where(Attachment.created_at < cutoff, Attachment.id.not_in(referenced))
        ).scalars().all()
        for attachment in orphans:
            session.delete(attachment)
    for attachment in orphans:
        discard_files(attachment.id)
    return len(orphans)


def stored_file(attachment_id):
    """Where an upload's bytes are (its owner's export reads them; nobody else gets this path)."""
    return _path(attachment_id)


def discard_files(attachment_id):
    for thumb in (False, True):
        _path(attachment_id, thumb).unlink(missing_ok=True)
