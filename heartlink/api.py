"""Blueprint: JSON endpoints. Errors become `{"error": {"code", "message"}}` in heartlink/__init__.py."""
from flask import Blueprint, jsonify, request
from flask_login import current_user, login_required

from . import rooms, schemas

bp = Blueprint("api", __name__)


@bp.get("/rooms")
@login_required
def my_rooms():
    """My links, newest activity first, with the last message and unread count."""
    return jsonify({"rooms": rooms.rooms_of(current_user.id)})


@bp.get("/rooms/<room_id>/messages")
@login_required
def room_history(room_id):
    """An older page of one of my rooms: ?before_seq=&limit= (at most 100)."""
    query = schemas.parse(schemas.HistoryQuery, request.args.to_dict())
    return jsonify(rooms.history(room_id, current_user.id, query.before_seq, query.limit))


@bp.get("/me")
@login_required
def me():
    return jsonify({"user": current_user.to_dict()})
