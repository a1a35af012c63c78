"""Socket.IO handlers: authorise, call the domain, hand the result to realtime.

Every client event is answered with one ack object, `{"ok": true, ...}` or
`{"ok": false, "error": {"code", "message"}}`; see `_answer`.
"""
import logging
from functools import wraps

from flask import current_app, request
from flask_babel import gettext as _
from flask_login import current_user, login_user
from flask_socketio import ConnectionRefusedError, join_room

from . import accounts, matching, messages, presence, realtime, rooms, schemas
from .errors import DomainError, Unauthorized
from .extensions import db, socketio

log = logging.getLogger(__name__)


def _answer(event, schema):
    """Register a handler that receives (user_id, payload) and returns the ack's fields."""

    def register(handler):
        @wraps(handler)
        def run(payload=None, *_extra):
            try:
                if not current_user.is_authenticated:
                    raise Unauthorized()
                result = handler(current_user.id, schemas.parse(schema, payload))
                return {"ok": True, **(result or {})}
            except DomainError as error:
                db.session.rollback()
                return {"ok": False, "error": error.to_wire()}
            except Exception:
                db.session.rollback()
                log.exception("socket event %s failed (user %s, sid %s)", event,
                              getattr(current_user, "id", None), request.sid)
                return {"ok": False, "error": {"code": "internal", "message": _("Something went wrong.")}}

        socketio.on_event(event, run)
        return handler

    return register


@socketio.on("connect")
def on_connect(auth=None):
    """A browser (session cookie) or any client (`auth: {token}`) connects; it joins its user room."""
    user = current_user if current_user.is_authenticated else None
    if user is None and isinstance(auth, dict):
        user = accounts.user_for_token(auth.get("token"))
        if user is not None:
            login_user(user)
    if user is None:
        raise ConnectionRefusedError("unauthorized", {"code": "unauthorized", "message": _("Please sign in.")})
    join_room(realtime.user_room(user.id))
    if presence.socket_connected(request.sid, user.id, current_app.config["WORKER_ID"]):
        realtime.presence(user.id)


@socketio.on("disconnect")
def on_disconnect(reason=None):
    """The socket is gone; presence goes offline later, after the grace period."""
    if current_user.is_authenticated:
        presence.socket_disconnected(request.sid, current_user.id)


@_answer("match:start", schemas.MatchStart)
def match_start(user_id, payload):
    """The person asks for a heart link; both people get `match:found` when paired."""
    state, result = matching.start(user_id, payload.code)
    if state == "matched":
        realtime.match_found(result)
        return {"state": state, "room": rooms.room_view(result, user_id)}
    return {"state": state, **result.to_dict()}


@_answer("match:cancel", schemas.Empty)
def match_cancel(user_id, _payload):
    """The person stops waiting; their other tabs hear `match:cancelled`."""
    if matching.cancel(user_id):
        realtime.match_cancelled(user_id, skip_sid=request.sid)
    return {}


@_answer("room:join", schemas.RoomJoin)
def room_join(user_id, payload):
    """A member opens a room, or catches up after a reconnect with since_seq."""
    return rooms.join(payload.room_id, user_id, payload.since_seq)


@_answer("room:leave", schemas.RoomRef)
def room_leave(user_id, payload):
    """A member ends the link; both members get `room:ended`."""
    room, ended_now = rooms.leave(payload.room_id, user_id)
    if ended_now:
        realtime.room_ended(room)
    return {"room": rooms.room_view(room, user_id)}


@_answer("message:send", schemas.MessageSend)
def message_send(user_id, payload):
    """A member sends; both members' other sockets get `message:new` (a duplicate is not re-sent)."""
    sent = messages.send(payload.room_id, user_id, payload.client_id, payload.kind,
                         payload.text, payload.reply_to)
    if not sent.duplicate:
        realtime.message_new(sent.room, sent.message, skip_sid=request.sid)
    return {"message": sent.message.to_dict(), "duplicate": sent.duplicate}


@socketio.on_error_default
def on_unexpected_error(error):
    log.exception("unhandled socket error on %s: %s", request.event.get("message") if request.event else "?", error)
    return {"ok": False, "error": {"code": "internal", "message": _("Something went wrong.")}}
