"""Socket.IO handlers: authorise, call the domain, hand the result to announce.

Every client event is answered with one ack object, `{"ok": true, ...}` or
`{"ok": false, "error": {"code", "message"}}`; see `_answer`.

Who a socket belongs to is settled once, at connect, and kept in the socket's own
session: events do not reload the person from the database. Everything that takes
that away (logging out, a new password) closes the socket on whichever worker holds it.
"""
import logging
import time
from functools import wraps

from flask import current_app, request, session
from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room

from .. import wire
from ..domain import accounts, calls, links, matching, messages, presence, protections, rooms, standing
from ..errors import BadRequest, DomainError, Restricted, Unauthorized
from ..extensions import db, socketio
from ..live import announce, ordering
from ..live.writer import writer
from ..models import Room, User
from ..worker import database, limits, logs, metrics
from . import schemas
from .auth import locked_out

log = logging.getLogger(__name__)

_USER = "heartlink_user_id"
# When the account was made: it never changes, so a send checks its age (protections) without a read.
_JOINED = "heartlink_user_joined_at"
# Unknown events are logged a few lines a minute per address: per connection, an address that
# opened new connections could still fill the log.
_unknown_log = logs.LogBudget()


def _internal_error():
    return {"ok": False, "error": DomainError().to_wire()}


def _answer(event, schema, limit=None, batched=False):
    """Register a handler that receives (user_id, payload) and returns the ack's fields.

    Every event counts against the person's RATE_EVENTS, and against `limit` (another RATE_…
    setting) too when given, before its payload is even read. Then it reads the person's
    standing from the database, so that a worker that missed a restriction's broadcast still
    refuses; a `batched` event leaves that to the writer, which reads it once for a whole batch.
    """

    def register(handler):
        @wraps(handler)
        def run(payload=None, *_extra):
            began = time.perf_counter()
            user_id = session.get(_USER)
            ack = _handle(handler, user_id, payload)
            took = time.perf_counter() - began
            code = "ok" if ack["ok"] else ack["error"]["code"]
            logs.event_handled(event, user_id, payload.get("room_id") if isinstance(payload, dict) else None,
                               took * 1000, code)
            metrics.event_answered(event, code, took)
            return ack

        def _handle(handler, user_id, payload):
            try:
                if user_id is None:
                    raise Unauthorized()
                limits.check("RATE_EVENTS", user_id)
                if limit:
                    limits.check(limit, user_id)
                if not batched:
                    standing.ensure_still_signed_in(user_id)
                result = handler(user_id, schemas.parse(schema, payload))
                return {"ok": True, **(result or {})}
            except Restricted as error:
                db.session.rollback()
                if error.details["standing"] in standing.SIGNED_OUT:
                    # Runs once this ack is queued: the refusal, then account:restricted, then the close.
                    socketio.start_background_task(announce.locked_out, request.sid, error)
                return {"ok": False, "error": error.to_wire()}
            except DomainError as error:
                db.session.rollback()
                return {"ok": False, "error": error.to_wire()}
            except Exception as error:  # noqa: BLE001 - logged; the connection stays up
                db.session.rollback()
                failed = database.failure(error, log, "socket event %s failed (user %s, sid %s)", event, user_id,
                                          request.sid, extra={"event": event, "user_id": user_id, "sid": request.sid})
                return {"ok": False, "error": failed.to_wire()}

        socketio.on_event(event, run)
        metrics.known_event(event)
        return handler

    return register


@socketio.on("connect")
def on_connect(auth=None):
    """A browser (session cookie) or any client (`auth: {token}`) connects; it joins its user room."""
    user = current_user if current_user.is_authenticated else None
    login_id = session.get("login_id")
    if user is None and isinstance(auth, dict):
        user = accounts.user_for_token(auth.get("token"))
        # The token's own sign-in: logging it out closes this socket.
        login_id = accounts.sign_in_of_token(auth.get("token"))
    try:
        if user is None:
            raise locked_out() or Unauthorized()
        standing.ensure_may_sign_in(user)
    except DomainError as refusal:
        raise ConnectionRefusedError(refusal.code, refusal.to_wire()) from None
    try:
        came_online = presence.socket_connected(request.sid, user.id, current_app.config["WORKER_ID"],
                                                login_id)
    except DomainError as error:
        db.session.rollback()
        raise ConnectionRefusedError(error.code, error.to_wire()) from None
    session[_USER] = user.id
    session[_JOINED] = user.created_at
    join_room(announce.user_room(user.id))
    announce.join_moderators_if(user)
    if came_online:
        announce.presence(presence.news(user.id))
    metrics.sockets_open.inc()  # last: a connect that failed before it is never disconnected


@socketio.on("disconnect")
def on_disconnect(reason=None):
    """The socket is gone; presence goes offline later, after the grace period."""
    if session.get(_USER) is not None:
        metrics.sockets_open.dec()
    presence.socket_disconnected(request.sid)


@_answer("match:start", schemas.MatchStart, limit="RATE_MATCH")
def match_start(user_id, payload):
    """The person asks for a heart link; both people get `match:found` when paired."""
    return _matched_or_waiting(user_id, matching.start(
        user_id, payload.code, payload.interests, payload.languages, payload.only_shared, _ui_language()))


@_answer("match:next", schemas.RoomRef, limit="RATE_MATCH")
def match_next(user_id, payload):
    """The person ends their link (both get `room:ended`, reason `next`) and looks again with
    the settings they last asked with."""
    announce.link_ended(links.leave(payload.room_id, user_id, reason="next"))
    return _matched_or_waiting(user_id, matching.start_again(user_id, ui_language=_ui_language()))


def _ui_language():
    """The language the page speaks to this person, when they have not chosen one: matching's default."""
    return request.accept_languages.best_match(current_app.config["LANGUAGES"].keys())


def _matched_or_waiting(user_id, outcome):
    state, result = outcome
    if state == "matched":
        announce.match_found(result)
        return {"state": state, "room": rooms.room_view(result, user_id)}
    return {"state": state, **wire.ticket(result)}


@_answer("match:cancel", schemas.Empty)
def match_cancel(user_id, _payload):
    """The person stops waiting; their other tabs hear `match:cancelled`."""
    if matching.cancel(user_id):
        announce.match_cancelled(user_id, skip_sid=request.sid)
    return {}


@_answer("room:join", schemas.RoomJoin)
def room_join(user_id, payload):
    """A member opens a room, or catches up after a reconnect with since_seq."""
    joined = rooms.join(payload.room_id, user_id, payload.since_seq)
    ordering.room_opened(current_app, joined["room"])
    return joined


@_answer("room:leave", schemas.RoomRef)
def room_leave(user_id, payload):
    """A member ends the link; both members get `room:ended`."""
    ended = links.leave(payload.room_id, user_id)
    announce.link_ended(ended)
    return {"room": rooms.room_view(ended.room, user_id)}


@_answer("message:send", schemas.MessageSend, limit="RATE_MESSAGES", batched=True)
def message_send(user_id, payload):
    """A member sends; once stored, both members' other sockets get `message:new` (a duplicate is not re-sent).
    A text or caption the filter refuses never reaches the writer's batch."""
    protections.check_message(user_id, payload.text, session.get(_JOINED))
    limits.spend("BUDGET_MESSAGE_TEXT", user_id, len(payload.text or ""))
    draft = messages.draft(payload.room_id, user_id, payload.client_id, payload.kind,
                           payload.text, payload.reply_to, payload.attachment_id)
    sent = writer().send(draft, skip_sid=request.sid)
    return {"message": sent.message, "duplicate": sent.duplicate}


@_answer("message:edit", schemas.MessageEdit)
def message_edit(user_id, payload):
    """A member edits their own message; both members get `message:updated`."""
    protections.check_message(user_id, payload.text, session.get(_JOINED))
    limits.spend("BUDGET_MESSAGE_TEXT", user_id, len(payload.text))
    return _updated(messages.edit(payload.room_id, user_id, payload.message_id, payload.text))


@_answer("message:delete", schemas.MessageRefPayload)
def message_delete(user_id, payload):
    """A member deletes their own message (a tombstone stays); both get `message:updated`."""
    return _updated(messages.delete(payload.room_id, user_id, payload.message_id))


@_answer("message:hide", schemas.MessageRefPayload)
def message_hide(user_id, payload):
    """A member deletes a message for themself (any message of their link, also once it ended);
    their other sockets get `message:hidden`, the partner nothing."""
    hidden = messages.hide(payload.room_id, user_id, payload.message_id)
    announce.message_hidden(hidden, skip_sid=request.sid)
    return {"room_id": hidden.room_id, "message_id": hidden.message_id, "seq": hidden.seq}


@_answer("message:react", schemas.MessageReact)
def message_react(user_id, payload):
    """A member toggles their reaction on a message; both members get `message:updated`."""
    return _updated(messages.react(payload.room_id, user_id, payload.message_id, payload.emoji))


def _updated(changed):
    announce.message_updated(changed.room, changed.message)
    return {"message": wire.stored_message(changed.message)}


def _mark(user_id, payload, read):
    moved = messages.mark(payload.room_id, user_id, payload.up_to_seq, read)
    if moved is None:
        return {"changed": False}
    room, receipt = moved
    announce.receipt(room, receipt)
    return {"changed": True, "receipt": receipt}


@_answer("message:delivered", schemas.Mark)
def message_delivered(user_id, payload):
    """A member's client has the messages up to up_to_seq; both members get `receipt`."""
    return _mark(user_id, payload, read=False)


@_answer("message:read", schemas.Mark)
def message_read(user_id, payload):
    """A member has seen the messages up to up_to_seq; both members get `receipt`."""
    return _mark(user_id, payload, read=True)


@_answer("typing", schemas.Typing, limit="RATE_TYPING")
def typing(user_id, payload):
    """A member starts or stops typing; only the partner gets `typing`."""
    announce.typing(rooms.active_room_for_member(payload.room_id, user_id), user_id, payload.typing)
    return {}


@_answer("call:invite", schemas.CallInvite)
def call_invite(user_id, payload):
    """A member calls their partner: the partner's tabs get `call:incoming`, both get `call:state`."""
    call = calls.invite(payload.room_id, user_id, request.sid, payload.media)
    announce.call_incoming(call, db.session.get(User, user_id), veiled=not db.session.get(Room, call.room_id).revealed)
    announce.call_state(call)
    return {"call_id": call.id}


@_answer("call:ringing", schemas.CallRef)
def call_ringing(user_id, payload):
    """A tab of the person called shows the incoming call; both get `call:state` ringing with
    `device_ringing: true` (the caller's page turns "Calling…" into "Ringing…")."""
    announce.call_state(calls.rings(payload.call_id, user_id), device_ringing=True)
    return {}


@_answer("call:accept", schemas.CallRef)
def call_accept(user_id, payload):
    """The person called answers in this tab; both get `call:state` accepted."""
    announce.call_state(calls.accept(payload.call_id, user_id, request.sid))
    return {}


@_answer("call:decline", schemas.CallRef)
def call_decline(user_id, payload):
    """The person called says no; both get `call:state` declined and the history line."""
    announce.call_finished(calls.decline(payload.call_id, user_id))
    return {}


@_answer("call:cancel", schemas.CallRef)
def call_cancel(user_id, payload):
    """The caller gives up before an answer; both get `call:state` cancelled."""
    announce.call_finished(calls.cancel(payload.call_id, user_id))
    return {}


@_answer("call:hangup", schemas.CallRef)
def call_hangup(user_id, payload):
    """Either person ends the call; both get `call:state` ended and the call's duration."""
    announce.call_finished(calls.hang_up(payload.call_id, user_id))
    return {}


@_answer("call:signal", schemas.CallSignal, limit="RATE_SIGNALS")
def call_signal(user_id, payload):
    """WebRTC signalling, relayed to the other member's call tab only."""
    call, target_sid = calls.relay_target(payload.call_id, user_id, request.sid)
    announce.call_signal(call, user_id, target_sid, payload.data)
    return {}


@socketio.on("*")
def on_unknown_event(event, *_args):
    """An event this server does not know: answered, never fatal, logged a few times a minute per address."""
    address = request.remote_addr or "-"
    if _unknown_log.allows(address):
        log.warning("unknown socket event %r from %s (sid %s)", str(event)[:64], address, request.sid)
    metrics.event_answered(metrics.UNKNOWN_EVENT, BadRequest.code)
    return {"ok": False, "error": BadRequest(_("Unknown event.")).to_wire()}


@socketio.on_error_default
def on_unexpected_error(error):
    log.exception("unhandled socket error on %s: %s", request.event.get("message") if request.event else "?", error)
    return _internal_error()


# --- "keep this link" ------------------------------------------------------------------------

@_answer("link:keep", schemas.LinkKeep)
def link_keep(user_id, payload):
    """A member keeps (or stops keeping) their link; both members get `room:updated`."""
    room = links.keep(payload.room_id, user_id, payload.keep)
    announce.room_updated(room)
    return {"room": rooms.room_view(room, user_id)}


@_answer("link:reopen", schemas.RoomRef)
def link_reopen(user_id, payload):
    """A member opens a kept link that ended again; both members get `room:updated` (active)."""
    reopened = links.reopen(payload.room_id, user_id)
    for waiting_id in reopened.cancelled:
        announce.match_cancelled(waiting_id)
    announce.room_updated(reopened.room)
    return {"room": rooms.room_view(reopened.room, user_id)}
