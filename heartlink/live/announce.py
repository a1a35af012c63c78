"""The one broadcaster: turns what happened into emits to the right people.

Every socket joins a private room per user on connect, so an emit to that room
reaches all of a person's tabs and devices, on any worker (through the message
queue when one is configured). Called only after the domain has committed.
"""
import logging

from flask_socketio import join_room

from .. import wire
from ..domain import moderation, privacy, standing
from ..domain.presence import sockets_of
from ..domain.rooms import room_view
from ..extensions import db, socketio
from ..models import User, iso
from ..worker import metrics, sockets

log = logging.getLogger(__name__)


def user_room(user_id):
    return f"user:{user_id}"


def _emit(event, data, user_ids, skip_sid=None):
    for user_id in set(user_ids):
        socketio.emit(event, data, to=user_room(user_id), skip_sid=skip_sid)


def match_found(room):
    for user_id in room.member_ids():
        _emit("match:found", {"room": room_view(room, user_id)}, [user_id])


def match_timeout(user_id):
    _emit("match:timeout", {}, [user_id])


def match_cancelled(user_id, skip_sid=None):
    """The person's other tabs stop showing the waiting state."""
    _emit("match:cancelled", {}, [user_id], skip_sid=skip_sid)


def message_new(member_ids, message, skip_sid=None):
    """To every socket of both members (one packet, encoded once); the sending socket
    already has it in its ack. `message` is the message as on the wire."""
    socketio.emit("message:new", {"message": message}, to=[user_room(uid) for uid in member_ids],
                  skip_sid=skip_sid)


def message_updated(room, message):
    """An edit, a deletion or a reaction: both members replace their copy."""
    _emit("message:updated", {"message": wire.stored_message(message)}, room.member_ids())


def message_hidden(hidden, skip_sid=None):
    """Deleted for me (messages.Hidden): the person's other tabs and devices drop it too; the
    partner hears nothing. Sent again when hidden again: a tab that missed it catches up."""
    _emit("message:hidden", {"room_id": hidden.room_id, "message_id": hidden.message_id, "seq": hidden.seq},
          [hidden.user_id], skip_sid=skip_sid)


def receipt(room, receipt_payload):
    for user_id in room.member_ids():  # read marks are reciprocal: privacy.read_marks_seen
        _emit("receipt", privacy.receipt_for(user_id, receipt_payload), [user_id])


def typing(room, user_id, is_typing):
    """Only the partner hears that someone is typing."""
    partners = [uid for uid in room.member_ids() if uid != user_id]
    _emit("typing", {"room_id": room.id, "user_id": user_id, "typing": is_typing}, partners)


def link_ended(ended):
    """A link ended (left, blocked, idle, safety): its call first, then `room:ended` to both."""
    if ended.call:
        call_finished(ended.call)
    if ended.ended_now:
        room = ended.room
        _emit("room:ended", {"room_id": room.id, "by": room.ended_by, "reason": room.end_reason},
              room.member_ids())


def call_state(call, device_ringing=False):
    """`device_ringing` (on a ringing call only): a device of the person called shows it."""
    state = wire.call(call)
    if call.state == "ringing":
        state["device_ringing"] = device_ringing
    _emit("call:state", state, call.member_ids())


def call_incoming(call, caller, veiled=False):
    """`veiled`: the link is not revealed yet, so the caller is shown as in it."""
    _emit("call:incoming", {"call_id": call.id, "room_id": call.room_id,
                            "from": wire.person(caller, call.callee_id, veiled=veiled),
                            "media": call.media}, [call.callee_id])


def call_finished(finished):
    """A call's final state (calls.Finished), and its line in the history when one was written."""
    call_state(finished.call)
    if finished.record is not None:
        message_new(finished.call.member_ids(), wire.stored_message(finished.record))


def call_signal(call, from_user_id, target_sid, data):
    """WebRTC offer/answer/ICE to the other member's call tab (all its tabs while ringing)."""
    payload = {"call_id": call.id, "from": from_user_id, "data": data}
    if target_sid:
        socketio.emit("call:signal", payload, to=target_sid)
    else:
        _emit("call:signal", payload, [call.callee_id])


def presence(news):
    """Someone came or went (presence.news): told to those who may hear it."""
    _emit("presence", news.payload, news.audience)


# --- trust and safety ------------------------------------------------------------------------

def decided(outcome):
    """Any moderation decision (a moderation.* outcome), from the console, the CLI, the automatic
    hold or the sweeper: tells whoever must hear of it."""
    if isinstance(outcome, moderation.Restriction):
        restricted(outcome)
    elif isinstance(outcome, moderation.Warned):
        warned(outcome)
    _count(outcome)
    _tell_moderators(outcome)


def _count(outcome):
    """Every decision passes here, so here it is counted (heartlink_restrictions_total and
    heartlink_reports_total: reports a decision settled, by what it made of them)."""
    if isinstance(outcome, moderation.Restriction):
        metrics.restrictions.labels(outcome.standing).inc()
    settled = getattr(outcome, "report_ids", ())
    if settled and not (isinstance(outcome, moderation.Restriction) and outcome.standing == "held"):
        state = "dismissed" if isinstance(outcome, (moderation.Dismissed, moderation.Restored)) else "actioned"
        metrics.reports.labels(state).inc(len(settled))


def restricted(restriction):
    """A person was held, suspended or banned (moderation.Restriction): the link it ended goes
    out as any ended link does (`room:ended {reason: "safety"}`, `by: null`, to both members),
    and their other tabs stop showing the wait it removed. A suspended or banned person then
    hears `account:restricted` on every socket, and every socket closes, on every worker."""
    for ended in restriction.ended:
        link_ended(ended)
    if restriction.cancelled_wait:
        match_cancelled(restriction.user_id)
    if restriction.standing in standing.SIGNED_OUT:
        _emit("account:restricted", {"standing": restriction.standing, "until": iso(restriction.until),
                                     "reason": restriction.reason}, [restriction.user_id])
        sockets.disconnect_sockets(sockets_of(restriction.user_id))


def locked_out(sid, refusal):
    """One socket of this worker whose person was found suspended or banned after the broadcast
    (by an event, or the sweeper): it hears `account:restricted` from the refusal (errors.Restricted),
    and closes. Straight to the socket, not through the message queue, which may be what is away."""
    details = refusal.details
    socketio.emit("account:restricted", {"standing": details["standing"], "until": details["until"],
                                         "reason": details["reason"]}, to=sid, ignore_queue=True)
    sockets.close_here(sid)


def warned(warning):
    """A moderator's warning (moderation.Warned), on every socket of the person now; the page
    shows it again on every load until it is acknowledged."""
    _emit("account:warning", {"id": warning.warning_id, "reason": warning.reason}, [warning.user_id])


def warning_acknowledged(user_id, warning_id):
    """The person acknowledged a warning in one tab: their other tabs stop showing it."""
    _emit("account:warning_acknowledged", {"id": warning_id}, [user_id])


# --- the moderation console: a Socket.IO room of every moderator's sockets ------------------------

MODERATORS = "moderators"


def join_moderators_if(user):
    """On connect: a moderator's socket (a moderator in good standing) joins the moderators' room,
    where reports, appeals and decisions arrive live. Everyone else's never does."""
    if moderation.moderates(user):
        join_room(MODERATORS)


def moderators_room_checked():
    """This worker's sockets in the moderators' room whose person may no longer moderate leave it.
    A change at the command line reaches the room on every worker through the message queue
    (_moderators_room_follows); without one, only the database tells, so the sweeper calls this."""
    here = [sid for sid, _ in socketio.server.manager.get_participants("/", MODERATORS)]
    for sid in moderation.no_longer_moderating(here) if here else ():
        socketio.server.leave_room(sid, MODERATORS, namespace="/")


def report_filed(shown):
    """A new report, as moderation.open_report shows it (None once decided): every moderator's
    console shows it (`moderation:report`)."""
    metrics.reports.labels("open").inc()
    if shown is not None:
        socketio.emit("moderation:report", {"report": shown}, to=MODERATORS)


def appeal_filed(shown):
    """A new appeal, as moderation.open_appeal shows it (None once decided): every moderator's
    console shows it (`moderation:appeal`)."""
    if shown is not None:
        socketio.emit("moderation:appeal", {"appeal": shown}, to=MODERATORS)


def _tell_moderators(outcome):
    """Every console drops the reports and the appeal a decision settled (`moderation:decided`).
    A moderator whose standing or flag changed has their sockets join or leave the moderators'
    room as they now may, on every worker."""
    if isinstance(outcome, (moderation.Restriction, moderation.Restored, moderation.ModeratorChanged)):
        _moderators_room_follows(outcome.user_id, isinstance(outcome, moderation.ModeratorChanged))
    if isinstance(outcome, (moderation.Restriction, moderation.Restored, moderation.Warned, moderation.Dismissed,
                            moderation.AppealDecided)):
        socketio.emit("moderation:decided", moderation.summary(outcome), to=MODERATORS)


def _moderators_room_follows(user_id, flag_changed):
    may = moderation.moderator_now(user_id)
    if may is None and not flag_changed:
        return  # never a moderator: never in the room
    server = socketio.server
    for sid in sockets_of(user_id):
        try:
            if may:
                server.enter_room(sid, MODERATORS, namespace="/")
            else:
                server.leave_room(sid, MODERATORS, namespace="/")
        except (KeyError, ValueError):
            pass  # not connected here, and no message queue: that worker's sweeper catches up


# --- profile, privacy and "keep this link" ---------------------------------------------------

def blocked(outcome):
    """A block (safety.Blocked): the link it ended, and every link the two share, now not keepable."""
    if outcome.ended is not None:
        link_ended(outcome.ended)
    rooms_updated(outcome.shared)


def rooms_updated(rooms):
    for room in rooms:
        room_updated(room)


def room_updated(room):
    """A link changed (kept, unkept, reopened): both members get it as each sees it."""
    for user_id in room.member_ids():
        _emit("room:updated", {"room": room_view(room, user_id)}, [user_id])


def user_updated(updates):
    """A person changed their profile: each `user:updated` of profiles.updates, to its viewer."""
    for viewer_id, user in updates:
        _emit("user:updated", {"user": user}, [viewer_id])


def account_deleted(deleted):
    """An account was deleted (own_data.Deleted): everyone who shared a link with it gets it as
    "Deleted account" (`user:updated`), and its messages they may have open as deleted ones."""
    person = wire.deleted_person(db.session.get(User, deleted.user_id))
    _emit("user:updated", {"user": person}, deleted.partners)
    for room, message in deleted.tombstones:
        message_updated(room, message)
