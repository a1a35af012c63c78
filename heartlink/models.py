"""The tables. What goes on the wire is shaped from them in heartlink/wire.py."""
from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import event
from sqlalchemy.orm import Session

from .extensions import db


def utcnow():
    """Naive UTC, the one time zone stored in the database."""
    return datetime.now(UTC).replace(tzinfo=None)


def iso(moment):
    return moment.isoformat(timespec="milliseconds") + "Z" if moment else None


class User(UserMixin, db.Model):
    __tablename__ = "users"
    # The sweeper's look for suspensions that ended (moderation.lift_expired).
    __table_args__ = (db.Index("ix_users_standing_until", "standing", "standing_until"),
                      db.Index("ix_users_deleted_at", "deleted_at"))

    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(32), nullable=False)
    # Lower-cased username: the case-insensitive unique key.
    username_key = db.Column(db.String(32), nullable=False, unique=True)
    display_name = db.Column(db.String(64), nullable=False)
    password_hash = db.Column(db.String(255), nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    # Presence as last announced; the sockets themselves are in `connections`.
    online = db.Column(db.Boolean, nullable=False, default=False)
    last_seen = db.Column(db.DateTime)
    # The one link this person is in right now; guarded by conditional updates
    # so that no person is ever put in two rooms.
    active_room_id = db.Column(db.String(36), index=True)
    # Bumped when the password changes: every session cookie and token issued
    # before then stops working (both carry the epoch they were issued under).
    session_epoch = db.Column(db.Integer, nullable=False, default=0, server_default="0")
    # The profile picture: a new id for every upload, so its URL changes with it.
    avatar_id = db.Column(db.String(36))
    avatar_mime = db.Column(db.String(100))
    # Privacy, reciprocal (heartlink/domain/privacy.py): hide yours and you lose theirs.
    read_receipts = db.Column(db.Boolean, nullable=False, default=True, server_default=db.true())
    show_presence = db.Column(db.Boolean, nullable=False, default=True, server_default=db.true())
    # "en" or "zh" overrides Accept-Language; None follows the browser.
    language = db.Column(db.String(8))
    # Trust and safety (heartlink/domain/moderation.py): "active", "held", "suspended" (until
    # standing_until; it lifts itself when that passes) or "banned". standing_reason is what
    # the person is told. Changed only by the moderation domain, always with an audit row.
    standing = db.Column(db.String(10), nullable=False, default="active", server_default="active")
    standing_until = db.Column(db.DateTime)
    standing_reason = db.Column(db.String(1000))
    moderator = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    # Age (heartlink/domain/age.py): only the date of birth is kept. An account an
    # operator made without one is vouched for and never asked; any other account without a
    # date is asked at its next sign-in and cannot match until it answers.
    birth_date = db.Column(db.Date)
    birth_vouched = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    # The account was deleted (heartlink/domain/own_data.py): the row stays as a tombstone that the
    # audit log, reports and the partners' histories refer to; nothing of the person is left in it.
    deleted_at = db.Column(db.DateTime)
    # Matching (heartlink/domain/matching.py): the interests a person looks for when they name
    # none, and what they last asked with (interests, languages, only_shared), which `match:next`
    # asks with again.
    interests = db.Column(db.JSON, nullable=False, default=list, server_default="[]")
    match_settings = db.Column(db.JSON)

    def get_id(self):
        return f"{self.id}:{self.session_epoch}"

    @property
    def avatar_url(self):
        return f"/api/users/{self.id}/avatar?v={self.avatar_id[:8]}" if self.avatar_id else None

    @property
    def veiled_avatar_url(self):
        """The blurred picture a partner sees before the gradual reveal."""
        return f"/api/users/{self.id}/avatar/veiled?v={self.avatar_id[:8]}" if self.avatar_id else None

    def settings(self):
        return {"read_receipts": self.read_receipts, "show_presence": self.show_presence,
                "language": self.language, "interests": list(self.interests or [])}


class Room(db.Model):
    """One heart link between two members."""

    __tablename__ = "rooms"
    # Retention finds ended links by when they ended (heartlink/domain/retention.py).
    __table_args__ = (db.Index("ix_rooms_status_ended_at", "status", "ended_at"),)

    id = db.Column(db.String(36), primary_key=True)
    status = db.Column(db.String(10), nullable=False, default="active")
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    ended_at = db.Column(db.DateTime)
    ended_by = db.Column(db.Integer)
    end_reason = db.Column(db.String(20))
    last_seq = db.Column(db.Integer, nullable=False, default=0)
    last_activity_at = db.Column(db.DateTime, nullable=False, default=utcnow, index=True)
    # The one call ringing or under way in this link; set and cleared by conditional updates.
    active_call_id = db.Column(db.String(36))
    # The interests both members looked for when they were paired.
    shared_interests = db.Column(db.JSON, nullable=False, default=list, server_default="[]")
    # The gradual reveal (heartlink/domain/reveal.py): until `revealed_at`, each member sees the
    # other blurred and by initials. It comes when both have sent `reveal_after` messages (0: at
    # once) or both keep the link. The counts are kept by the send path's seq update, in the same
    # statement: `first_sent` is the member with the lower user id, `second_sent` the other.
    reveal_after = db.Column(db.Integer, nullable=False, default=0, server_default="0")
    revealed_at = db.Column(db.DateTime)
    first_sent = db.Column(db.Integer, nullable=False, default=0, server_default="0")
    second_sent = db.Column(db.Integer, nullable=False, default=0, server_default="0")

    members = db.relationship("RoomMember", back_populates="room", lazy="selectin", order_by="RoomMember.user_id")

    @property
    def active(self):
        return self.status == "active"

    def member_ids(self):
        return [member.user_id for member in self.members]

    def kept_by(self):
        return [member.user_id for member in self.members if member.kept]

    @property
    def kept(self):
        """Both members pressed "keep this link": it can be reopened after it ends."""
        return len(self.kept_by()) == len(self.members) > 0

    @property
    def revealed(self):
        """The members see each other's names and pictures."""
        return self.revealed_at is not None

    def sent_by(self):
        """{user_id: messages sent}, as the reveal counts them."""
        ids = self.member_ids()
        return dict(zip(ids, (self.first_sent, self.second_sent), strict=False))



class RoomMember(db.Model):
    __tablename__ = "room_members"

    room_id = db.Column(db.String(36), db.ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    delivered_seq = db.Column(db.Integer, nullable=False, default=0)
    read_seq = db.Column(db.Integer, nullable=False, default=0)
    # This member pressed "keep this link"; a block clears both members' flags.
    kept = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())

    room = db.relationship("Room", back_populates="members")
    user = db.relationship("User", lazy="joined")

    def receipt(self):
        return {"delivered_seq": self.delivered_seq, "read_seq": self.read_seq}


class Message(db.Model):
    __tablename__ = "messages"
    __table_args__ = (
        db.UniqueConstraint("room_id", "seq", name="uq_messages_room_seq"),
        # A retry with the same client_id finds the stored message instead of a copy.
        db.UniqueConstraint("sender_id", "client_id", name="uq_messages_sender_client"),
    )

    id = db.Column(db.Integer, primary_key=True)
    room_id = db.Column(db.String(36), db.ForeignKey("rooms.id", ondelete="CASCADE"), nullable=False)
    seq = db.Column(db.Integer, nullable=False)
    client_id = db.Column(db.String(36), nullable=False)
    sender_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    kind = db.Column(db.String(10), nullable=False, default="text")
    text = db.Column(db.Text)
    # Unique: one upload goes with one message.
    attachment_id = db.Column(db.String(36), db.ForeignKey("attachments.id", ondelete="SET NULL"), unique=True)
    reply_to = db.Column(db.Integer)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    edited_at = db.Column(db.DateTime)
    deleted = db.Column(db.Boolean, nullable=False, default=False)
    # For kind "call": what the call came to, e.g. {"outcome": "ended", "duration_ms": 61000}.
    call_summary = db.Column(db.JSON)

    attachment = db.relationship("Attachment", lazy="joined")
    reactions = db.relationship("Reaction", lazy="selectin", cascade="all, delete-orphan",
                                order_by="Reaction.created_at")



class HiddenMessage(db.Model):
    """A message one member has deleted for themself ("delete for me"): left out of what they read.

    The primary key (user_id, message_id) is the index every read's NOT EXISTS looks up."""

    __tablename__ = "hidden_messages"
    # Deleting a message (retention, a deleted account's rows) finds its hidings by message.
    __table_args__ = (db.Index("ix_hidden_messages_message_id", "message_id"),)

    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    message_id = db.Column(db.Integer, db.ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    hidden_at = db.Column(db.DateTime, nullable=False, default=utcnow)


class Reaction(db.Model):
    """One person's reaction to a message (one each, as in WhatsApp)."""

    __tablename__ = "reactions"

    message_id = db.Column(db.Integer, db.ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    emoji = db.Column(db.String(32), nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)


class Attachment(db.Model):
    """An upload kept under HEARTLINK_UPLOAD_DIR, readable only by its room's members."""

    __tablename__ = "attachments"

    id = db.Column(db.String(36), primary_key=True)
    room_id = db.Column(db.String(36), db.ForeignKey("rooms.id", ondelete="CASCADE"), nullable=False, index=True)
    uploader_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    kind = db.Column(db.String(10), nullable=False)
    filename = db.Column(db.String(255), nullable=False)
    mime = db.Column(db.String(100), nullable=False)
    size = db.Column(db.Integer, nullable=False)
    width = db.Column(db.Integer)
    height = db.Column(db.Integer)
    duration_ms = db.Column(db.Integer)
    thumb_mime = db.Column(db.String(100))
    # A voice note's loudness: media.WAVEFORM_BARS levels 0-255 as base64; None when unknown.
    waveform = db.Column(db.String(88))
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow, index=True)



class MatchTicket(db.Model):
    """A person waiting for a heart link: the match queue lives here, seen by every worker.
    Its interests and languages are rows of their own too (TicketInterest, TicketLanguage), so
    that who shares one is found by index."""

    __tablename__ = "match_tickets"
    __table_args__ = (db.Index("ix_match_tickets_code_created", "code", "created_at"),
                      db.Index("ix_match_tickets_looked_again_open_at", "looked_again", "open_at"))

    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    code = db.Column(db.String(12))
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    expires_at = db.Column(db.DateTime, nullable=False, index=True)
    interests = db.Column(db.JSON, nullable=False, default=list, server_default="[]")
    languages = db.Column(db.JSON, nullable=False, default=list, server_default="[]")
    only_shared = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    # From when this person may be paired with someone who shares none of their interests
    # (None: never, only_shared); and whether pairing was tried again for them at that moment.
    open_at = db.Column(db.DateTime)
    looked_again = db.Column(db.Boolean, nullable=False, default=True, server_default=db.true())


class TicketInterest(db.Model):
    __tablename__ = "match_ticket_interests"

    user_id = db.Column(db.Integer, db.ForeignKey("match_tickets.user_id", ondelete="CASCADE"), primary_key=True)
    interest = db.Column(db.String(24), primary_key=True, index=True)


class TicketLanguage(db.Model):
    __tablename__ = "match_ticket_languages"

    user_id = db.Column(db.Integer, db.ForeignKey("match_tickets.user_id", ondelete="CASCADE"), primary_key=True)
    language = db.Column(db.String(16), primary_key=True, index=True)



class Block(db.Model):
    __tablename__ = "blocks"

    blocker_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    blocked_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)


class Connection(db.Model):
    """One open socket, so that every worker can tell who is online."""

    __tablename__ = "connections"

    sid = db.Column(db.String(64), primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    worker_id = db.Column(db.String(128), nullable=False, index=True)
    # Which sign-in (browser session or token) opened the socket, so logging out
    # closes exactly the sockets of that sign-in.
    login_id = db.Column(db.String(64), index=True)
    connected_at = db.Column(db.DateTime, nullable=False, default=utcnow)


class WorkerBeat(db.Model):
    """A server process's heartbeat: sockets of a worker that stopped beating are gone."""

    __tablename__ = "workers"

    id = db.Column(db.String(128), primary_key=True)
    beat_at = db.Column(db.DateTime, nullable=False, default=utcnow)


class Call(db.Model):
    """A call invitation and what became of it. Lives in the database so any worker can
    relay its signals and the sweeper can time out its ringing."""

    __tablename__ = "calls"

    id = db.Column(db.String(36), primary_key=True)
    room_id = db.Column(db.String(36), db.ForeignKey("rooms.id", ondelete="CASCADE"), nullable=False, index=True)
    caller_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    callee_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    # The two sockets (tabs) whose peer connection the call is: signals go to them only.
    caller_sid = db.Column(db.String(64), nullable=False)
    callee_sid = db.Column(db.String(64))
    media = db.Column(db.String(5), nullable=False)
    state = db.Column(db.String(10), nullable=False, default="ringing", index=True)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    accepted_at = db.Column(db.DateTime)
    ended_at = db.Column(db.DateTime)
    ended_by = db.Column(db.Integer)

    def member_ids(self):
        return [self.caller_id, self.callee_id]

    def duration_ms(self):
        if self.accepted_at and self.ended_at:
            return int((self.ended_at - self.accepted_at).total_seconds() * 1000)
        return None



class Report(db.Model):
    """A report for moderators, with a copy of the messages it is about: the copy
    stays even if the link ends or the messages are deleted. It is "open" until a
    moderator decides it: "dismissed" or "actioned" (heartlink/domain/moderation.py)."""

    __tablename__ = "reports"
    # The moderation queue: open reports, oldest first.
    __table_args__ = (db.Index("ix_reports_state_created", "state", "created_at"),)

    id = db.Column(db.Integer, primary_key=True)
    reporter_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    reported_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    room_id = db.Column(db.String(36), db.ForeignKey("rooms.id", ondelete="SET NULL"))
    message_id = db.Column(db.Integer)
    reason = db.Column(db.String(1000), nullable=False)
    snapshot = db.Column(db.JSON, nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow, index=True)
    state = db.Column(db.String(10), nullable=False, default="open", server_default="open")
    decided_at = db.Column(db.DateTime)


class ReportEvidence(db.Model):
    """A picture a report quotes, copied at report time (the thumbnail's bytes), so it
    outlives the message's deletion, its upload's files and any retention cleanup. The
    report's snapshot names it by its `item` number in the quoted message's `evidence_item`."""

    __tablename__ = "report_evidence"

    report_id = db.Column(db.Integer, db.ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    item = db.Column(db.Integer, primary_key=True, autoincrement=False)  # 1, 2 ... within the report
    message_id = db.Column(db.Integer, nullable=False)
    attachment_id = db.Column(db.String(36))
    mime = db.Column(db.String(100), nullable=False)
    data = db.Column(db.LargeBinary, nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)


class ModerationEntry(db.Model):
    """One row of the audit log: a standing change, a moderator flag change or a report
    decision, written in the same transaction as the change. Append-only: the ORM refuses
    to update or delete a row (heartlink/domain/moderation.py), and so does the database
    (triggers, in the migration that made the table)."""

    __tablename__ = "moderation_log"
    __table_args__ = (db.Index("ix_moderation_log_subject_id_id", "subject_id", "id"),)

    id = db.Column(db.Integer, primary_key=True)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    # The moderator who decided (None for the CLI and for automatic decisions).
    actor_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    actor = db.Column(db.String(10), nullable=False)  # "moderator", "cli" or "auto"
    subject_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    action = db.Column(db.String(20), nullable=False)
    note = db.Column(db.String(1000), nullable=False)
    report_ids = db.Column(db.JSON, nullable=False, default=list)
    until = db.Column(db.DateTime)
    # What the person was told (a warning's, hold's, suspension's or ban's reason), kept here because
    # the account keeps only the reason in force.
    told = db.Column(db.String(1000))


class AppendOnly(Exception):
    """A write that would change or remove a row of the audit log."""


@event.listens_for(ModerationEntry, "before_update")
@event.listens_for(ModerationEntry, "before_delete")
def _refuse_changing_an_entry(_mapper, _connection, entry):
    raise AppendOnly(f"the audit log is append-only: entry {entry.id} cannot change")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(execute_state):
    """update(ModerationEntry)/delete(ModerationEntry) through a session skip the mapper events above."""
    if (execute_state.is_update or execute_state.is_delete) \
            and getattr(getattr(execute_state.statement, "table", None), "name", None) == "moderation_log":
        raise AppendOnly("the audit log is append-only")


class AccountWarning(db.Model):
    """A moderator's warning: shown to the person on their next page load until they acknowledge it."""

    __tablename__ = "warnings"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    reason = db.Column(db.String(1000), nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    acknowledged_at = db.Column(db.DateTime)


class Appeal(db.Model):
    """A suspended or banned person's appeal against the action that restricted them: one per action."""

    __tablename__ = "appeals"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)
    action_id = db.Column(db.Integer, db.ForeignKey("moderation_log.id"), nullable=False, unique=True)
    text = db.Column(db.String(2000), nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    state = db.Column(db.String(10), nullable=False, default="open", server_default="open", index=True)
    decided_at = db.Column(db.DateTime)
    decided_by = db.Column(db.Integer, db.ForeignKey("users.id"))


class RevokedSignIn(db.Model):
    """A sign-in (one login: its cookie, and any token it issued) that was signed out.

    Checked on every request and Socket.IO connect, so a copied cookie stops working on
    every worker the moment its owner logs out. Kept until such a cookie or token would
    have expired anyway (`flask rooms cleanup` removes older rows)."""

    __tablename__ = "revoked_sign_ins"

    login_id = db.Column(db.String(64), primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    revoked_at = db.Column(db.DateTime, nullable=False, default=utcnow, index=True)


class LoginFailure(db.Model):
    """Wrong passwords for one username from one address, and until when the next try waits."""

    __tablename__ = "login_failures"

    key = db.Column(db.String(200), primary_key=True)  # "username_key|address"
    failures = db.Column(db.Integer, nullable=False, default=0)
    locked_until = db.Column(db.DateTime)
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, index=True)


class UsedChallenge(db.Model):
    """A sign-up proof-of-work challenge that was spent: kept until it would have expired, so
    that a solution is accepted once, on whichever worker it reaches first."""

    __tablename__ = "used_challenges"

    key = db.Column(db.String(128), primary_key=True)
    expires_at = db.Column(db.DateTime, nullable=False, index=True)


class ProtectionRefusal(db.Model):
    """How often the automatic protections refused something of one person, by kind
    ("term", "link", "age"): what the moderation console shows in the person's record."""

    __tablename__ = "protection_refusals"

    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind = db.Column(db.String(20), primary_key=True)
    count = db.Column(db.Integer, nullable=False, default=0)
    last_at = db.Column(db.DateTime, nullable=False, default=utcnow)
