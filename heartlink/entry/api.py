"""Blueprint: JSON endpoints. Errors become `{"error": {"code", "message"}}` in heartlink/__init__.py."""
from flask import Blueprint, current_app, jsonify, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from .. import wire
from ..domain import attachments, moderation, rooms, safety, search
from ..errors import BadRequest
from ..live import announce
from ..worker import limits
from . import schemas
from .http import json_body, private_file

bp = Blueprint("api", __name__)


@bp.get("/rooms")
@login_required
def my_rooms():
    """My links, newest activity first, with the last message and unread count."""
    return jsonify({"rooms": rooms.rooms_of(current_user.id)})


@bp.get("/rooms/<room_id>/messages")
@login_required
def room_history(room_id):
    """An older page of one of my rooms: ?before_seq=&limit= (at most 100), or down to ?from_seq=."""
    query = schemas.parse(schemas.HistoryQuery, request.args.to_dict())
    return jsonify(rooms.history(room_id, current_user.id, query.before_seq, query.limit, query.from_seq))


@bp.get("/rooms/<room_id>/search")
@login_required
def search_room(room_id):
    """Messages of one of my rooms with these words, newest first: ?q=&before_seq=&limit= (at most 50)."""
    limits.check("RATE_SEARCH", current_user.id)
    query = schemas.parse(schemas.SearchQuery, request.args.to_dict())
    return jsonify(search.search(room_id, current_user.id, query.q, query.before_seq, query.limit))


@bp.post("/users/<id:user_id>/block")
@login_required
def block(user_id):
    """Block a person you shared a link with (anyone else: 404): a link with them ends at
    once; they are never matched again and no longer see your presence."""
    limits.check("RATE_BLOCKS", current_user.id)
    announce.blocked(safety.block(current_user.id, user_id))
    return jsonify({"blocked": safety.blocked_by(current_user.id)})


@bp.delete("/users/<id:user_id>/block")
@login_required
def unblock(user_id):
    limits.check("RATE_BLOCKS", current_user.id)
    announce.rooms_updated(safety.unblock(current_user.id, user_id))
    return jsonify({"blocked": safety.blocked_by(current_user.id)})


@bp.get("/blocks")
@login_required
def blocks():
    return jsonify({"blocked": safety.blocked_by(current_user.id)})


@bp.post("/reports")
@login_required
def report():
    """Report the partner of a link to moderators: {room_id, reason, message_id?}."""
    limits.check("RATE_REPORTS", current_user.id)
    body = schemas.parse(schemas.ReportBody, json_body())
    filed = safety.report(current_user.id, body.room_id, body.reason, body.message_id)
    if filed.held is not None:
        announce.decided(filed.held)
    announce.report_filed(moderation.open_report(filed.report.id))
    return jsonify({"id": filed.report.id}), 201


@bp.post("/appeals")
def appeal():
    """A suspended or banned person appeals, before any sign-in: {username, password, text}.
    The only thing their password still does. No CSRF token: the password is the credential."""
    limits.check("RATE_APPEALS", request.remote_addr)  # before the body is read
    body = schemas.parse(schemas.AppealBody, json_body())
    appealed = moderation.appeal(body.username, body.password, body.text, request.remote_addr)
    announce.appeal_filed(moderation.open_appeal(appealed.appeal_id))
    return jsonify({"id": appealed.appeal_id, "state": "open"}), 201


@bp.get("/rtc-config")
@login_required
def rtc_config():
    """STUN/TURN servers for the browser's RTCPeerConnection (HEARTLINK_ICE_SERVERS)."""
    return jsonify({"iceServers": current_app.config["ICE_SERVERS"]})


@bp.post("/rooms/<room_id>/attachments")
@login_required
def upload_attachment(room_id):
    """Upload a picture, voice note or file (multipart: file, kind) for a message to come."""
    limits.check("RATE_UPLOADS", current_user.id)
    upload = request.files.get("file")
    if upload is None:
        raise BadRequest(_l("Choose a file to send."), field="file")
    attachment = attachments.upload(room_id, current_user.id, request.form.get("kind"), upload.filename,
                                    upload.stream)
    return jsonify(wire.attachment(attachment)), 201


@bp.get("/rooms/<room_id>/attachments")
@login_required
def shared_attachments(room_id):
    """The link's shared pictures and clips, files or voice notes, newest first:
    ?kind=media|files|voice&before=<seq>|after=<seq>&limit= (the partner panel, the media viewer)."""
    query = schemas.parse(schemas.SharedQuery, request.args.to_dict())
    return jsonify(attachments.shared(room_id, current_user.id, query.kind, query.before, query.after, query.limit))


@bp.get("/attachments/<attachment_id>")
@login_required
def attachment(attachment_id):
    return _serve(*attachments.for_member(attachment_id, current_user.id))


@bp.get("/attachments/<attachment_id>/thumb")
@login_required
def attachment_thumb(attachment_id):
    found, path = attachments.for_member(attachment_id, current_user.id, thumb=True)
    return _serve(found, path, mime=found.thumb_mime)


def _serve(found, path, mime=None):
    # A file is offered as a download; pictures, voice notes and clips show inline.
    return private_file(path, mime or found.mime, download_name=found.filename, as_attachment=found.kind == "file")
