"""The protocol's objects (docs/protocol.md, "Objects") as one viewer sees them.

Every dict that goes on the wire is shaped here, from a table row or anything with its
fields. Who may see what is decided in domain/privacy.py and domain/presence.py; this
module only applies those answers to the shape.
"""
import base64

from flask_babel import gettext as _

from .domain.privacy import presence_seen_by
from .domain.standing import standing_of
from .models import iso


def person(user, viewer_id=None, in_audience=True, veiled=False):
    """A User as `viewer_id` sees them: presence as both people's privacy settings allow,
    and none at all when the two are not in each other's presence audience (a former
    partner hears a name change, never whether one is online). Without a viewer, as
    anyone may see them: presence hidden if they hide it. `veiled` (a partner not yet
    revealed, domain/privacy.py): initials for a name, no username, the blurred picture."""
    if getattr(user, "deleted_at", None) is not None:
        return deleted_person(user)
    online, last_seen = presence_seen_by(viewer_id, user)
    if viewer_id != user.id and not in_audience:
        online, last_seen = False, None
    veiled = veiled and viewer_id != user.id
    return {
        "id": user.id,
        "username": None if veiled else user.username,
        "display_name": initials(user.display_name) if veiled else user.display_name,
        "avatar_url": user.veiled_avatar_url if veiled else user.avatar_url,
        "veiled": veiled,
        "online": online,
        "last_seen": iso(last_seen),
    }


def deleted_person(user):
    """A deleted account (heartlink/domain/own_data.py), as everyone sees it: a name that says so,
    nothing else of who it was; `deleted: true` lets a page put that name in its own language."""
    return {"id": user.id, "username": "", "display_name": _("Deleted account"), "avatar_url": None,
            "online": False, "last_seen": None, "deleted": True}


def initials(name):
    """Up to two initials, from the words that start with a letter or digit ("Nina 🌸" → "N")."""
    words = [word for word in (name or "").split() if word[0].isalnum()]
    return "".join(word[0] for word in words[:2]).upper() or "?"


def room(link, viewer_id, unread=0, keepable=True):
    """A Room as one of its members sees it. In an ended link (unless both kept it) the
    partner's presence is not shown; until the link is revealed, the partner is veiled."""
    shows_presence = link.active or link.kept
    revealed = link.revealed
    return {
        "id": link.id,
        "status": link.status,
        "members": [person(member.user, viewer_id, in_audience=shows_presence, veiled=not revealed)
                    for member in link.members],
        "created_at": iso(link.created_at),
        "ended_at": iso(link.ended_at),
        "ended_by": link.ended_by,
        "end_reason": link.end_reason,
        "last_seq": link.last_seq,
        "unread": unread,
        "active_call_id": link.active_call_id,
        "kept_by": link.kept_by(),
        "kept": link.kept,
        "keepable": keepable,
        "shared_interests": list(link.shared_interests or []),
        "reveal": reveal(link),
    }


def reveal(link):
    """The gradual reveal: whether it happened, and else how many messages each member has sent
    of the `after` it takes ({"<user_id>": count})."""
    if link.revealed:
        return {"revealed": True, "after": link.reveal_after, "sent": None}
    return {"revealed": False, "after": link.reveal_after,
            "sent": {str(uid): count for uid, count in link.sent_by().items()}}


def message(row, attachment_dict=None, reactions=()):
    """A message from a Message or anything with its fields (the writer's freshly stored
    rows); `attachment_dict` is the attachment as `attachment()` shapes it."""
    grouped = {}
    for reaction in reactions:
        grouped.setdefault(reaction.emoji, []).append(reaction.user_id)
    deleted = row.deleted
    return {
        "id": row.id,
        "room_id": row.room_id,
        "seq": row.seq,
        "client_id": row.client_id,
        "sender_id": row.sender_id,
        "kind": row.kind,
        "text": None if deleted else row.text,
        "attachment": None if deleted else attachment_dict,
        "reply_to": row.reply_to,
        "reactions": grouped,
        "call": row.call_summary,
        "created_at": iso(row.created_at),
        "edited_at": iso(row.edited_at),
        "deleted": deleted,
    }


def stored_message(stored):
    """A Message row with its attachment and reactions."""
    return message(stored, attachment(stored.attachment) if stored.attachment else None, stored.reactions)


def attachment(upload):
    return {
        "id": upload.id,
        "kind": upload.kind,
        "filename": upload.filename,
        "mime": upload.mime,
        "size": upload.size,
        "url": f"/api/attachments/{upload.id}",
        "thumb_url": f"/api/attachments/{upload.id}/thumb" if upload.thumb_mime else None,
        "width": upload.width,
        "height": upload.height,
        "duration_ms": upload.duration_ms,
        # A voice note's loudness in 64 levels 0-255, measured at upload; None when unknown.
        "waveform": list(base64.b64decode(upload.waveform)) if upload.waveform else None,
    }


def call(invitation):
    return {
        "call_id": invitation.id,
        "room_id": invitation.room_id,
        "state": invitation.state,
        "media": invitation.media,
        "caller_id": invitation.caller_id,
        "callee_id": invitation.callee_id,
        "by": invitation.ended_by,
        "created_at": iso(invitation.created_at),
        "accepted_at": iso(invitation.accepted_at),
        "ended_at": iso(invitation.ended_at),
        "duration_ms": invitation.duration_ms(),
    }


def ticket(waiting):
    """A place in the match queue, and what the person is looking for."""
    return {"code": waiting.code, "expires_at": iso(waiting.expires_at), "created_at": iso(waiting.created_at),
            "interests": list(waiting.interests or []), "languages": list(waiting.languages or []),
            "only_shared": bool(waiting.only_shared)}


# --- trust and safety: what moderators see (and a person of their own warnings) ---------------

def person_on_record(user, now=None):
    """A person as the moderation console shows them: who, their standing in force (with its end
    and the reason they were told), whether they moderate, and since when they have an account."""
    standing = standing_of(user, now)
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "standing": standing,
        "until": iso(user.standing_until) if standing == "suspended" else None,
        "reason": user.standing_reason if standing != "active" else None,
        "moderator": bool(user.moderator),
        "created_at": iso(user.created_at),
    }


def audit_entry(entry):
    """A row of the audit log (moderation_log)."""
    return {
        "id": entry.id,
        "created_at": iso(entry.created_at),
        "actor": entry.actor,
        "actor_id": entry.actor_id,
        "subject_id": entry.subject_id,
        "action": entry.action,
        "note": entry.note,
        "report_ids": list(entry.report_ids or []),
        "until": iso(entry.until),
        "told": entry.told,
    }


def warning(given):
    return {"id": given.id, "reason": given.reason, "created_at": iso(given.created_at),
            "acknowledged_at": iso(given.acknowledged_at)}


def appeal(sent):
    return {
        "id": sent.id,
        "user_id": sent.user_id,
        "action_id": sent.action_id,
        "text": sent.text,
        "created_at": iso(sent.created_at),
        "state": sent.state,
        "decided_at": iso(sent.decided_at),
        "decided_by": sent.decided_by,
    }
