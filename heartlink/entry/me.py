"""Blueprint: the signed-in person's profile, privacy settings and picture, the warnings
moderators gave them, and their own data: an export, and deleting the account (under /api)."""
from flask import Blueprint, Response, jsonify, request, session, stream_with_context
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, logout_user

from .. import wire
from ..domain import accounts, age, moderation, own_data, presence, profiles, standing
from ..errors import BadRequest, Unauthorized
from ..extensions import db
from ..lib import zipstream
from ..live import announce
from ..models import User
from ..worker import limits, sockets
from . import schemas
from .http import json_body, private_file

bp = Blueprint("profile", __name__)


def _me(user):
    return {"user": wire.person(user, user.id), "settings": user.settings()}


@bp.get("/me")
@login_required
def me():
    return jsonify(_me(current_user))


@bp.patch("/me")
@login_required
def change_me():
    """Change any of display_name, read_receipts, show_presence, language, interests; people who
    share a link with me get `user:updated` (of what they see: not language or interests)."""
    limits.check("RATE_PROFILE", current_user.id)
    body = schemas.parse(schemas.ProfileChange, json_body())
    user, changed = profiles.update(current_user.id, body.changes())
    if set(changed) - {"language", "interests"}:
        announce.user_updated(profiles.updates(user.id, privacy_changed="show_presence" in changed))
    return jsonify(_me(user))


@bp.post("/me/birth-date")
@login_required
def answer_birth_date():
    """{birth_date: "YYYY-MM-DD"}: the one answer an account without a date of birth gives
    (match:start is refused `forbidden` with `needs: "birth_date"` until then), as the page
    /birth-date takes it. Under the minimum age the account is suspended: 403 restricted, and
    every socket of theirs closes."""
    limits.check("RATE_ACCOUNT", current_user.id)
    body = schemas.parse(schemas.BirthDateBody, json_body())
    restriction = age.answer(current_user.id, body.day())
    if restriction is not None:
        announce.decided(restriction)
        raise standing.restriction(db.session.get(User, current_user.id, populate_existing=True))
    return jsonify(_me(db.session.get(User, current_user.id, populate_existing=True)))


@bp.post("/me/avatar")
@login_required
def upload_avatar():
    """A new profile picture (multipart `file`), checked as a picture sent in a chat."""
    limits.check("RATE_UPLOADS", current_user.id)
    upload = request.files.get("file")
    if upload is None:
        raise BadRequest(_l("Choose a file to send."), field="file")
    user = profiles.set_avatar(current_user.id, upload.stream)
    announce.user_updated(profiles.updates(user.id))
    return jsonify({"user": wire.person(user, user.id)})


@bp.delete("/me/avatar")
@login_required
def delete_avatar():
    user = profiles.remove_avatar(current_user.id)
    announce.user_updated(profiles.updates(user.id))
    return jsonify({"user": wire.person(user, user.id)})


@bp.get("/users/<id:user_id>/avatar")
@login_required
def avatar(user_id):
    """A person's picture, for themself and the people who share a link with them; 404 otherwise."""
    mime, path = profiles.avatar_for(current_user.id, user_id)
    return private_file(path, mime)  # the URL changes with every new picture


@bp.get("/users/<id:user_id>/avatar/veiled")
@login_required
def veiled_avatar(user_id):
    """A person's picture blurred, as their partner sees it before the gradual reveal; 404 to
    anyone who shares no link with them."""
    mime, path = profiles.avatar_for(current_user.id, user_id, veiled=True)
    return private_file(path, mime)


@bp.get("/me/warnings")
@login_required
def my_warnings():
    """The warnings moderators gave me that I have not acknowledged yet, oldest first."""
    return jsonify({"warnings": moderation.pending_warnings(current_user.id)})


@bp.post("/me/warnings/<id:warning_id>/acknowledge")
@login_required
def acknowledge_warning(warning_id):
    """I have read a warning: it is not shown again, in any of my tabs."""
    limits.check("RATE_PROFILE", current_user.id)  # as every other write under /api/me
    warning = moderation.acknowledge_warning(current_user.id, warning_id)
    announce.warning_acknowledged(current_user.id, warning_id)
    return jsonify({"warning": warning})


@bp.get("/me/export")
@login_required
def export():
    """My data as a zip, streamed as it is written: account.json, links.json (every link with its
    messages, as I see them) and my own uploads."""
    limits.check("RATE_EXPORT", current_user.id)
    user_id = current_user.id
    body = stream_with_context(zipstream.stream(own_data.export_members(user_id)))
    response = Response(body, mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{own_data.export_name(user_id)}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.delete("/me")
@login_required
def delete_me():
    """Delete my account, after my password: my sockets close on every worker, every sign-in
    ends, my uploads go, my messages become "Deleted account"'s deleted messages for my partners."""
    user_id, username, address = current_user.id, current_user.username, request.remote_addr
    limits.check("RATE_ACCOUNT", user_id)
    body = schemas.parse(schemas.AccountDelete, json_body())
    accounts.check_not_locked(username, address)
    try:
        deleted = own_data.delete_account(user_id, body.password)
    except Unauthorized:
        accounts.record_failure(username, address)
        raise
    if deleted.ended is not None:
        announce.link_ended(deleted.ended)
    announce.account_deleted(deleted)
    sockets.disconnect_sockets(presence.sockets_of(user_id))
    logout_user()
    session.clear()
    return jsonify({"deleted": True})
