"""Privacy: what one person may see of another. One home for each rule.

Read receipts and presence are reciprocal, as on WhatsApp: a person who hides
theirs stops seeing everybody else's too. A person always sees their own.
A profile (the picture) is seen only by people who share a link with its owner,
active or kept, with no block either way.
"""
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import Block, Room, RoomMember, User


def _user(user_id):
    return db.session.get(User, user_id) if user_id is not None else None


def presence_seen_by(viewer_id, owner):
    """(online, last_seen) of `owner` as `viewer_id` may see them.

    Hidden (False, None) when the owner hides their presence, or the viewer hides
    theirs. Without a viewer (a moderator's copy, a list of blocked people) only the
    owner's own setting counts."""
    if viewer_id == owner.id:
        return owner.online, owner.last_seen
    if not owner.show_presence:
        return False, None
    viewer = _user(viewer_id)
    if viewer is not None and not viewer.show_presence:
        return False, None
    return owner.online, owner.last_seen


def presence_audience(owner, user_ids):
    """Of `user_ids`, the people who may hear `owner` come and go (a `presence` event):
    nobody when the owner hides their presence, and nobody who hides their own."""
    if not owner.show_presence:
        return []
    others = [uid for uid in user_ids if uid != owner.id]
    if not others:
        return []
    hiding = set(db.session.execute(
        select(User.id).where(User.id.in_(others), User.show_presence.is_(False))).scalars())
    return [uid for uid in others if uid not in hiding]


def read_marks_seen(viewer_id, owner_id):
    """Whether `viewer_id` may see `owner_id`'s read mark: both must share read receipts."""
    if viewer_id == owner_id:
        return True
    viewer, owner = _user(viewer_id), _user(owner_id)
    return bool(viewer and owner and viewer.read_receipts and owner.read_receipts)


def receipt_for(viewer_id, receipt):
    """A `receipt` payload ({room_id, user_id, delivered_seq, read_seq}) as the viewer sees it;
    delivered ticks always stay."""
    if read_marks_seen(viewer_id, receipt["user_id"]):
        return receipt
    return {**receipt, "read_seq": None}


def receipts_for(viewer_id, receipts):
    """room:join's {"<user_id>": {delivered_seq, read_seq}} as the viewer sees it."""
    return {key: mark if read_marks_seen(viewer_id, int(key)) else {**mark, "read_seq": None}
            for key, mark in receipts.items()}


# --- the relations every visibility rule is built from ----------------------------------------
# Query pieces (usable as subqueries and conditions), so "blocked either way", "in a link
# together" and "open to both" are each written once: presence, profiles, matching, blocks and
# keeping all use these.

def blocked_either_way(user_id):
    """A query of the ids of everyone `user_id` has blocked or is blocked by."""
    return select(Block.blocked_id).where(Block.blocker_id == user_id).union(
        select(Block.blocker_id).where(Block.blocked_id == user_id))


def blocked_between(first_id, second_id):
    """A block either way."""
    return db.session.execute(select(exists().where(or_(
        and_(Block.blocker_id == first_id, Block.blocked_id == second_id),
        and_(Block.blocker_id == second_id, Block.blocked_id == first_id),
    )))).scalar()


def blocked_with(user_id):
    """The ids of everyone `user_id` has blocked or is blocked by."""
    return set(db.session.execute(blocked_either_way(user_id)).scalars())


def shared_rooms(first_id, second_id):
    """A query of the ids of the links the two people are both in, active or ended."""
    return (select(RoomMember.room_id).where(RoomMember.user_id.in_([first_id, second_id]))
            .group_by(RoomMember.room_id).having(func.count() == 2))


def open_to_both():
    """A condition on Room: the link is active, or both its members kept it (models.Room.kept
    says the same of one loaded room)."""
    other = aliased(RoomMember)
    unkept = select(other.room_id).where(other.room_id == Room.id, other.kept.is_(False)).correlate(Room)
    return or_(Room.status == "active", ~exists(unkept))


# --- who sees whom -------------------------------------------------------------------------

def profile_visible_to(viewer_id, owner_id, veiled=False):
    """Whether `viewer_id` may see `owner_id`'s picture: the owner themself, or someone who
    shares a link with them that is active or kept by both, with no block either way. The
    sharp picture only through a link that is revealed (the gradual reveal); `veiled`, the
    blurred one, through any such link."""
    if viewer_id == owner_id:
        return True
    if viewer_id is None or blocked_between(viewer_id, owner_id):
        return False
    shown = [Room.id.in_(shared_rooms(viewer_id, owner_id)), open_to_both()]
    if not veiled:
        shown.append(Room.revealed_at.is_not(None))
    return db.session.execute(select(exists().where(*shown))).scalar()


def veiled_to(viewer_id, owner_ids):
    """Of `owner_ids`, the people `viewer_id` shares no revealed link with: they see them by
    initials and blurred (the gradual reveal), wherever they are shown outside a room."""
    others = [uid for uid in owner_ids if uid != viewer_id]
    if viewer_id is None or not others:
        return set()
    theirs = aliased(RoomMember)
    revealed = set(db.session.execute(
        select(theirs.user_id).distinct()
        .join(RoomMember, RoomMember.room_id == theirs.room_id)
        .join(Room, Room.id == theirs.room_id)
        .where(RoomMember.user_id == viewer_id, theirs.user_id.in_(others), Room.revealed_at.is_not(None))
    ).scalars())
    return {uid for uid in others if uid not in revealed}


def profile_audience(user_id):
    """Who hears that this person changed their profile (`user:updated`): everyone who
    shares a link with them, active or ended, except across a block either way."""
    mine = select(RoomMember.room_id).where(RoomMember.user_id == user_id)
    return db.session.execute(
        select(RoomMember.user_id).distinct()
        .where(RoomMember.room_id.in_(mine), RoomMember.user_id != user_id,
               RoomMember.user_id.not_in(blocked_either_way(user_id)))
    ).scalars().all()
