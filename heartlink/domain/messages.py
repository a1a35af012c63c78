"""Messages: sending with a per-room gapless seq, idempotent by client_id.

Sends are stored in batches (`store`): one write transaction, one seq update per
room and one insert for the whole batch, in SQL statements rather than ORM units of
work. The socket path batches them through heartlink.writer; `send` stores one.
"""
import logging
import uuid
from functools import lru_cache
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from .. import wire
from ..errors import BadRequest, Conflict, DomainError, Forbidden, NotFound
from ..extensions import db
from ..lib.emoji import is_one_emoji
from ..models import HiddenMessage, Message, Reaction, Room, RoomMember, User, utcnow
from ..worker import database
from ..worker.database import fetch_all, write_transaction
from . import attachments, standing
from .rooms import active_room_for_member, members_of, room_for_member

log = logging.getLogger(__name__)

MAX_TEXT = 4000
# What may arrive and be stored: MAX_TEXT counts the text without its surrounding white
# space, which is stored as typed; the padding is bounded too (it was 12,000 characters,
# so a message of 4,000 that counted could be 52 KB stored).
MAX_TYPED_TEXT = MAX_TEXT + 200
_messages = Message.__table__
MAX_BATCH = 500  # drafts stored together at most (heartlink.writer takes no more)


class Changed(NamedTuple):
    """A stored message that changed (edited, deleted, reacted to), and its room."""
    room: Room
    message: Message


class Hidden(NamedTuple):
    """A message a member deleted for themself; `now`: by this call (not hidden already)."""
    user_id: int
    room_id: str
    message_id: int
    seq: int
    now: bool


class Sent(NamedTuple):
    member_ids: tuple
    message: dict  # as on the wire
    duplicate: bool


class Draft:
    """A send checked and waiting to be stored; `store` settles it with `sent` or `error`."""

    __slots__ = ("room_id", "member_ids", "sender_id", "client_id", "kind", "text", "reply_to",
                 "attachment_id", "attachment", "seq", "sent", "error", "reveals")

    def __init__(self, room_id, member_ids, sender_id, client_id, kind, text, reply_to, attachment_id):
        self.room_id, self.member_ids, self.sender_id = room_id, member_ids, sender_id
        self.client_id, self.kind, self.text = client_id, kind, text
        self.reply_to, self.attachment_id = reply_to, attachment_id
        self.attachment = self.seq = self.sent = self.error = None
        self.reveals = False  # storing this draft revealed its room's members to each other

    @property
    def key(self):
        return self.sender_id, self.client_id

    def outcome(self):
        """The Sent, or the domain error this draft met."""
        if self.error is not None:
            raise self.error
        return self.sent


class _Row(NamedTuple):
    """A message just inserted, with the fields wire.message reads."""

    id: int
    room_id: str
    seq: int
    client_id: str
    sender_id: int
    kind: str
    text: str | None
    reply_to: int | None
    created_at: object
    edited_at: object = None
    deleted: bool = False
    call_summary: object = None


def clean_text(text):
    """Text is 1 to MAX_TEXT characters after trimming; it is stored as typed."""
    if not isinstance(text, str) or not text.strip():
        raise BadRequest(_l("A message needs some text."))
    if len(text.strip()) > MAX_TEXT:
        raise BadRequest(_l("A message has at most %(count)s characters.", count=MAX_TEXT))
    return text


def _body(kind, text):
    """A text message's text, or an attachment's optional caption."""
    if kind == "text":
        return clean_text(text)
    return clean_text(text) if text and text.strip() else None


def draft(room_id, sender_id, client_id, kind="text", text=None, reply_to=None, attachment_id=None):
    """Check a send before it is stored: membership, kind, text and attachment rules."""
    member_ids = members_of(room_id, sender_id)
    if kind == "text":
        if attachment_id is not None:
            raise BadRequest(_l("A text message has no attachment."), field="attachment_id")
    elif kind in attachments.KINDS:
        if attachment_id is None:
            raise BadRequest(_l("This message needs an attachment."), field="attachment_id")
    else:
        raise BadRequest(_l("This kind of message cannot be sent."), field="kind")
    return Draft(room_id, member_ids, sender_id, client_id, kind, _body(kind, text), reply_to, attachment_id)


def store(drafts, now=None):
    """Store drafts together (group commit) and settle each with `sent` or `error`.

    Returns the new messages' drafts, each room's in seq order. If the batch as a
    whole fails (two workers raced in the same client_id, two drafts claimed one
    upload), each draft is stored on its own instead, so one draft's trouble is
    never another's.
    """
    if len(drafts) == 1:
        return _store_one(drafts[0], now)
    try:
        return _store_together(drafts, now)
    except Exception:  # noqa: BLE001 - any failure of the batch is retried draft by draft
        log.warning("a batch of %d sends failed; storing them one by one", len(drafts), exc_info=True)
        stored = []
        for one in drafts:
            one.seq = one.sent = one.error = None
            try:
                stored += _store_one(one, now)
            except DomainError as error:
                one.error = error
            except Exception as error:  # noqa: BLE001 - logged; the sender gets `unavailable` or `internal`
                one.error = database.failure(error, log, "storing send %s of user %s failed", one.client_id,
                                             one.sender_id)
                one.error.__cause__ = error
        return stored


def _store_one(one, now):
    try:
        return _store_together([one], now)
    except IntegrityError:
        # The same client_id raced in from another socket and won: that one is the message.
        existing = _stored_ids(db.session, [one])
        if one.key not in existing:
            raise
        _settle_repeats([one], existing)
        return []


def _store_together(drafts, now):
    now = now or utcnow()
    firsts, repeats = {}, []
    for one in drafts:
        (repeats.append(one) if one.key in firsts else firsts.setdefault(one.key, one))
    with write_transaction() as session:
        stored_before = _stored_ids(session, list(firsts.values()))
        writable = [one for key, one in firsts.items() if key not in stored_before]
        writable = _check_senders(session, writable, now)
        writable = _check_replies(session, writable)
        writable = _claim_attachments(session, writable)
        new = _take_seqs(session, writable, now)
        ids = _insert(session, new, now)
    for one in new:
        row = _Row(ids[one.room_id, one.seq], one.room_id, one.seq, one.client_id, one.sender_id, one.kind,
                   one.text, one.reply_to, now)
        one.sent = Sent(one.member_ids, wire.message(row, one.attachment), False)
    _settle_repeats([one for one in firsts.values() if one.key in stored_before], stored_before)
    for one in repeats:
        first = firsts[one.key]
        one.error = first.error
        if first.sent is not None:
            one.sent = first.sent._replace(duplicate=True)
    return new


# The hot statements are plain SQL, built once per batch size and cached, and run on the
# driver's cursor (database.fetch_all): building SQL expressions for every batch, and
# then running them through the session, cost more than the database's own work.

@lru_cache(maxsize=MAX_BATCH)
def _stored_sql(count):
    terms = " OR ".join(f"(sender_id = :s{n} AND client_id = :c{n})" for n in range(count))
    return f"SELECT sender_id, client_id, id FROM messages WHERE {terms}"


@lru_cache(maxsize=MAX_BATCH)
def _locked_out_sql(count):
    senders = ", ".join(f":u{n}" for n in range(count))
    locked_out = ", ".join(f"'{name}'" for name in standing.SIGNED_OUT)
    return f"SELECT id FROM users WHERE standing IN ({locked_out}) AND id IN ({senders})"


# The same update counts each member's messages for the gradual reveal, and reveals the room
# when both counts reach reveal_after (SET reads the row as it was before the update): a
# batch pays nothing more for it, and the one batch that reveals knows it from what returns.
_SEQS_SQL = ("UPDATE rooms SET last_seq = last_seq + :count, last_activity_at = :now, "
             "first_sent = first_sent + :first, second_sent = second_sent + :second, "
             "revealed_at = CASE WHEN revealed_at IS NULL AND first_sent + :first >= reveal_after "
             "AND second_sent + :second >= reveal_after THEN :now ELSE revealed_at END "
             "WHERE id = :room_id AND status = 'active' RETURNING last_seq, revealed_at")


@lru_cache(maxsize=MAX_BATCH)
def _insert_sql(count):
    rows = ", ".join(f"(:r{n}, :q{n}, :c{n}, :s{n}, :k{n}, :t{n}, :a{n}, :p{n}, :now, false)" for n in range(count))
    return ("INSERT INTO messages (room_id, seq, client_id, sender_id, kind, text, attachment_id, reply_to, "
            f"created_at, deleted) VALUES {rows} RETURNING id, room_id, seq")


def _stored_ids(session, drafts):
    """{(sender_id, client_id): message id} of these drafts that are stored already."""
    if not drafts:
        return {}
    params = {}
    for n, one in enumerate(drafts):
        params[f"s{n}"], params[f"c{n}"] = one.sender_id, one.client_id
    found = fetch_all(session, _stored_sql(len(drafts)), params)
    return {(sender, client_id): message_id for sender, client_id, message_id in found}


def _insert(session, drafts, now):
    """Insert the drafts' rows in one statement; returns {(room_id, seq): message id}."""
    if not drafts:
        return {}
    params = {"now": now}
    for n, one in enumerate(drafts):
        params.update({f"r{n}": one.room_id, f"q{n}": one.seq, f"c{n}": one.client_id, f"s{n}": one.sender_id,
                       f"k{n}": one.kind, f"t{n}": one.text, f"a{n}": one.attachment_id, f"p{n}": one.reply_to})
    found = fetch_all(session, _insert_sql(len(drafts)), params, datetimes=("now",))
    return {(room_id, seq): message_id for message_id, room_id, seq in found}


def _settle_repeats(drafts, stored):
    """Drafts whose client_id is stored already get the stored message, unless it was
    sent in another heart link."""
    for one in drafts:
        message = db.session.get(Message, stored[one.key])
        if message.room_id != one.room_id:
            one.error = Conflict(_l("That client_id was already used in another heart link."))
        else:
            one.sent = Sent(one.member_ids, wire.stored_message(message), True)


def _check_senders(session, drafts, now):
    """Drafts of people suspended or banned since their socket opened are refused: the standing
    is read here, once for the whole batch, rather than by each send's handler."""
    senders = sorted({one.sender_id for one in drafts})
    if not senders:
        return drafts
    flagged = [row[0] for row in fetch_all(session, _locked_out_sql(len(senders)),
                                           {f"u{n}": sender for n, sender in enumerate(senders)})]
    if not flagged:  # nearly always: one cheap statement, and nothing more
        return drafts
    refusals = {}
    for row in session.execute(select(User.id, User.standing, User.standing_until, User.standing_reason)
                               .where(User.id.in_(flagged))):
        if standing.standing_of(row, now) in standing.SIGNED_OUT:  # a suspension may have just ended
            refusals[row.id] = standing.restriction(row, now)
    for one in drafts:
        one.error = refusals.get(one.sender_id)
    return [one for one in drafts if one.error is None]


def _check_replies(session, drafts):
    replied = {one.reply_to for one in drafts if one.reply_to is not None}
    if not replied:
        return drafts
    room_of = dict(session.execute(
        select(_messages.c.id, _messages.c.room_id).where(_messages.c.id.in_(replied))).all())
    for one in drafts:
        if one.reply_to is not None and room_of.get(one.reply_to) != one.room_id:
            one.error = NotFound(_l("The message you reply to is not in this heart link."))
    return [one for one in drafts if one.error is None]


def _claim_attachments(session, drafts):
    for one in drafts:
        if one.attachment_id is not None:
            try:
                one.attachment = wire.attachment(attachments.claim(session, one.room_id, one.sender_id, one.kind,
                                                                   one.attachment_id))
            except DomainError as error:
                one.error = error
    return [one for one in drafts if one.error is None]


def _take_seqs(session, drafts, now):
    """Give each draft the next seq of its room: one update per room, which is the write
    that serialises senders in a room (a row lock on PostgreSQL, the write lock on
    SQLite): no gaps, one order. Rooms are locked in id order, so two workers' batches
    never wait on each other in a cycle. Returns the drafts that got a seq."""
    by_room = {}
    for one in drafts:
        by_room.setdefault(one.room_id, []).append(one)
    for room_id in sorted(by_room):
        group = by_room[room_id]
        first = sum(one.sender_id == one.member_ids[0] for one in group)  # member_ids: sorted
        returned = fetch_all(session, _SEQS_SQL, {"count": len(group), "now": now, "room_id": room_id,
                                                  "first": first, "second": len(group) - first},
                             datetimes=("now",))
        if not returned:
            for one in group:
                one.error = Conflict(_l("This heart link has ended."))
            continue
        last, revealed_at = returned[0]
        for seq, one in enumerate(group, start=last - len(group) + 1):
            one.seq = seq
        # Revealed by this batch: its time is this batch's own (SQLite hands it back as text).
        group[-1].reveals = revealed_at is not None and revealed_at == database.as_stored(session, now)
    return [one for one in drafts if one.error is None]


def append_in(session, room_id, **fields):
    """Add a message the server writes itself (a call's outcome) at the room's next seq,
    inside the caller's write transaction."""
    fields.setdefault("client_id", str(uuid.uuid4()))
    now = utcnow()
    seq = session.execute(
        update(Room)
        .where(Room.id == room_id, Room.status == "active")
        .values(last_seq=Room.last_seq + 1, last_activity_at=now)
        .returning(Room.last_seq)
    ).scalar()
    if seq is None:
        raise Conflict(_l("This heart link has ended."))
    # A new message has no reactions yet: saying so spares a query when it is put on the wire.
    message = Message(room_id=room_id, seq=seq, created_at=now, reactions=[], **fields)
    session.add(message)
    session.flush()
    return message


def mark(room_id, user_id, up_to_seq, read):
    """Move the member's delivered (and, if `read`, read) mark forward to up_to_seq.

    Marks never move back and never pass the room's last seq; reading implies
    delivery. Returns the member's receipt if it moved, else None.
    """
    room = room_for_member(room_id, user_id)
    target = min(up_to_seq, room.last_seq)
    columns = [RoomMember.delivered_seq] + ([RoomMember.read_seq] if read else [])
    moved = False
    with write_transaction() as session:
        for column in columns:
            moved |= session.execute(
                update(RoomMember)
                .where(RoomMember.room_id == room.id, RoomMember.user_id == user_id, column < target)
                .values({column: target})
            ).rowcount == 1
    if not moved:
        return None
    member = session.get(RoomMember, (room.id, user_id))
    session.refresh(member)
    return room, {"room_id": room.id, "user_id": user_id, **member.receipt()}


def _message_in(room_id, user_id, message_id):
    """A message, not deleted, of an active link the caller is a member of."""
    room = active_room_for_member(room_id, user_id)
    message = db.session.get(Message, message_id)
    if message is None or message.room_id != room.id:
        raise NotFound(_l("No such message in this heart link."))
    if message.deleted:
        raise Conflict(_l("That message was deleted."))
    return room, message


def _own_message(room_id, user_id, message_id):
    """A message of the caller's own in an active link they are a member of."""
    room, message = _message_in(room_id, user_id, message_id)
    if message.sender_id != user_id or message.kind not in ("text", *attachments.KINDS):
        raise Forbidden(_l("You can only change your own messages."))
    return room, message


def edit(room_id, user_id, message_id, text):
    room, message = _own_message(room_id, user_id, message_id)
    text = _body(message.kind, text)
    with write_transaction():
        message.text = text
        message.edited_at = utcnow()
    return Changed(room, message)


def delete(room_id, user_id, message_id):
    """Delete for everyone: a tombstone stays in its place; its upload goes at once."""
    room, message = _own_message(room_id, user_id, message_id)
    upload = message.attachment
    with write_transaction() as session:
        message.deleted = True
        message.text = None
        message.attachment_id = None
        message.reactions.clear()
        if upload is not None:
            session.delete(upload)
    if upload is not None:
        attachments.discard_files(upload.id)
    return Changed(room, message)


def _check_emoji(emoji):
    """A reaction is exactly one emoji (the rule: heartlink/lib/emoji.py)."""
    if not is_one_emoji(emoji):
        raise BadRequest(_l("A reaction is one emoji."), field="emoji")


def react(room_id, user_id, message_id, emoji):
    """Toggle the caller's one reaction on a message: the same emoji again removes it."""
    _check_emoji(emoji)
    room, message = _message_in(room_id, user_id, message_id)
    with write_transaction() as session:
        mine = session.get(Reaction, (message.id, user_id))
        if mine is None:
            session.add(Reaction(message_id=message.id, user_id=user_id, emoji=emoji))
        elif mine.emoji == emoji:
            session.delete(mine)
        else:
            mine.emoji = emoji
    db.session.refresh(message)
    return Changed(room, message)


def hide(room_id, user_id, message_id):
    """Delete for me: the member no longer sees the message; their partner still does.

    Any message of the member's link may be hidden, theirs or the partner's, of any kind (a
    call's line, a tombstone), also once the link has ended. Hiding it again changes nothing.
    Reads leave it out for that member (rooms.not_hidden_for)."""
    room = room_for_member(room_id, user_id)
    found = db.session.execute(
        select(Message.id, Message.seq).where(Message.id == message_id, Message.room_id == room.id)).first()
    if found is None:
        raise NotFound(_l("No such message in this heart link."))
    if db.session.get(HiddenMessage, (user_id, message_id)) is not None:
        return Hidden(user_id, room.id, message_id, found.seq, False)
    try:
        with write_transaction() as session:
            session.add(HiddenMessage(user_id=user_id, message_id=message_id))
    except IntegrityError:
        # Hidden at the same moment from another tab: that one did it.
        return Hidden(user_id, room.id, message_id, found.seq, False)
    return Hidden(user_id, room.id, message_id, found.seq, True)
