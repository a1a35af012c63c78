"""Matching controls: interests, languages, only_shared and the interest wait; match:next; the
gradual reveal (counted on the send path, by keeping, and what a veiled partner shows)."""
import io
import uuid
from datetime import timedelta

import pytest

from heartlink import wire
from heartlink.domain import accounts, links, matching, messages, privacy, profiles, protections, rooms
from heartlink.errors import BadRequest, Filtered, NotFound
from heartlink.extensions import db
from heartlink.models import Block, MatchTicket, Room, User, utcnow
from heartlink.worker.database import write_transaction

import media_samples as samples
from filter_cases import BLOCKED_TERMS
from support import match, store_text

T0 = utcnow().replace(microsecond=0)


def _users(*names):
    return [accounts.create_user(name, "correct-horse-battery", name.title() + " Smith", vouched=True).id
            for name in names]


def _waiting(user_id, at, interests=(), languages=("en",), only_shared=False):
    """A person put in the queue `at` seconds after T0 without trying to pair them (the
    queue as it would be if they had found nobody when they asked)."""
    looking = matching.Looking(tuple(interests), tuple(languages), bool(only_shared and interests))
    with write_transaction() as session:
        matching._wait(session, user_id, None, looking, T0 + timedelta(seconds=at))


def _ask(user_id, at, interests=(), languages=("en",), only_shared=False):
    return matching.start(user_id, interests=list(interests), languages=list(languages), only_shared=only_shared,
                          now=T0 + timedelta(seconds=at))


# Who is waiting (name, seconds after T0, interests, languages, only_shared), who asks (at,
# interests, languages, only_shared), and whom they are paired with (None: they wait).
PAIRING_ORDER = [
    ("the one who shares most beats the one who waited longest",
     [("ann", 0, ["hiking"], ["en"], False), ("ben", 1, ["hiking", "jazz"], ["en"], False)],
     (2, ["hiking", "jazz"], ["en"], False), "ben"),
    ("among equal sharers the one who waited longest",
     [("ann", 0, ["hiking", "chess"], ["en"], False), ("ben", 1, ["hiking", "jazz"], ["en"], False)],
     (2, ["hiking"], ["en"], False), "ann"),
    ("sharing none, nobody before the asker's own wait is over",
     [("ann", 0, ["chess"], ["en"], False)],
     (20, ["hiking"], ["en"], False), None),
    ("no interests: not paired with someone still waiting for a shared one",
     [("ann", 0, ["chess"], ["en"], False)],
     (9, [], ["en"], False), None),
    ("no interests: paired with someone whose wait is over",
     [("ann", 0, ["chess"], ["en"], False)],
     (10, [], ["en"], False), "ann"),
    ("only_shared: never paired with someone who shares none",
     [("ann", 0, ["chess"], ["en"], True)],
     (60, [], ["en"], False), None),
    ("only_shared: paired with someone who shares one",
     [("ann", 0, ["chess"], ["en"], True)],
     (60, ["chess"], ["en"], True), "ann"),
    ("no common language: never",
     [("ann", 0, ["hiking"], ["zh"], False)],
     (1, ["hiking"], ["en"], False), None),
    ("one common language among several is enough",
     [("ann", 0, ["hiking"], ["zh", "ja"], False)],
     (1, ["hiking"], ["en", "ja"], False), "ann"),
    ("the language comes before the interests",
     [("ann", 0, ["hiking", "jazz"], ["zh"], False), ("ben", 1, ["hiking"], ["en"], False)],
     (2, ["hiking", "jazz"], ["en"], False), "ben"),
    ("without interests on either side, first come first served",
     [("ann", 0, [], ["en"], False), ("ben", 1, [], ["en"], False)],
     (2, [], ["en"], False), "ann"),
    ("a sharer before an open stranger who waited longer",
     [("ann", 0, [], ["en"], False), ("ben", 5, ["hiking"], ["en"], False)],
     (6, ["hiking"], ["en"], False), "ben"),
]


@pytest.mark.parametrize(("waiting", "asker", "expected"), [case[1:] for case in PAIRING_ORDER],
                         ids=[case[0] for case in PAIRING_ORDER])
def test_the_pairing_order(in_app, waiting, asker, expected):
    ids = dict(zip([w[0] for w in waiting], _users(*[w[0] for w in waiting]), strict=True))
    for name, at, interests, languages, only_shared in waiting:
        _waiting(ids[name], at, interests, languages, only_shared)
    (me,) = _users("zoe")
    state, result = _ask(me, *asker)
    if expected is None:
        assert state == "waiting"
    else:
        assert state == "matched" and sorted(result.member_ids()) == sorted([me, ids[expected]])
        theirs = next(w for w in waiting if w[0] == expected)[2]
        assert result.shared_interests == [tag for tag in asker[1] if tag in theirs]


def test_shared_interests_are_in_the_askers_order_on_both_sides(in_app):
    ann, ben = _users("ann", "ben")
    _ask(ann, 0, ["jazz", "hiking", "chess"])
    state, room = _ask(ben, 1, ["hiking", "🎸", "jazz"])
    assert state == "matched" and room.shared_interests == ["hiking", "jazz"]
    assert wire.room(room, ann)["shared_interests"] == wire.room(room, ben)["shared_interests"] == ["hiking", "jazz"]


def test_a_person_whose_wait_ends_is_paired_by_the_sweeper_once(in_app):
    ann, ben = _users("ann", "ben")
    assert _ask(ann, 0, ["chess"])[0] == "waiting"
    assert _ask(ben, 3, [])[0] == "waiting"  # Ben takes anyone, but Ann still hopes for chess
    assert matching.look_again(now=T0 + timedelta(seconds=9)) == []
    [room] = matching.look_again(now=T0 + timedelta(seconds=10))
    assert sorted(room.member_ids()) == sorted([ann, ben]) and room.shared_interests == []
    assert matching.look_again(now=T0 + timedelta(seconds=30)) == []


def test_two_people_with_different_interests_meet_once_both_waits_are_over(in_app):
    ann, ben = _users("ann", "ben")
    _ask(ann, 0, ["chess"])
    _ask(ben, 2, ["jazz"])
    assert matching.look_again(now=T0 + timedelta(seconds=10)) == []  # Ann's is over, Ben's not yet
    [room] = matching.look_again(now=T0 + timedelta(seconds=12))
    assert sorted(room.member_ids()) == sorted([ann, ben])
    assert db.session.query(MatchTicket).count() == 0


def test_the_sweeper_never_pairs_across_languages_only_shared_or_a_block(in_app):
    ann, ben, cat, dan = _users("ann", "ben", "cat", "dan")
    _ask(ann, 0, ["chess"], ["en"])
    _ask(ben, 0, ["jazz"], ["zh"])
    _ask(cat, 0, ["opera"], ["zh"], only_shared=True)
    db.session.add(Block(blocker_id=dan, blocked_id=ann))
    db.session.commit()
    _ask(dan, 0, ["tea"], ["en"])
    assert matching.look_again(now=T0 + timedelta(seconds=60)) == []
    assert db.session.query(MatchTicket).count() == 4


def test_blocked_people_are_never_paired_however_much_they_share(in_app):
    ann, ben = _users("ann", "ben")
    db.session.add(Block(blocker_id=ben, blocked_id=ann))
    db.session.commit()
    _ask(ann, 0, ["hiking", "jazz"])
    assert _ask(ben, 1, ["hiking", "jazz"])[0] == "waiting"


def test_the_last_partner_goes_last_even_sharing_more(in_app):
    ann, ben, cat = _users("ann", "ben", "cat")
    links.leave(match(ann, ben).id, ann)
    _waiting(ben, 0, ["hiking", "jazz"])
    _waiting(cat, 1, ["hiking"])
    state, room = _ask(ann, 2, ["hiking", "jazz"])
    assert state == "matched" and cat in room.member_ids()


def test_the_last_partner_is_paired_again_if_nobody_else_waits(in_app):
    ann, ben = _users("ann", "ben")
    links.leave(match(ann, ben).id, ann)
    _waiting(ben, 0, ["hiking"])
    state, room = _ask(ann, 1, ["hiking"])
    assert state == "matched" and ben in room.member_ids()


def test_codes_ignore_interests_and_languages_and_are_revealed_at_once(in_app, app):
    app.config["REVEAL_AFTER"] = 10
    ann, ben = _users("ann", "ben")
    assert matching.start(ann, "SECRET1", interests=["chess"], languages=["zh"])[0] == "waiting"
    state, room = matching.start(ben, "SECRET1", interests=["jazz"], languages=["en"])
    assert state == "matched" and room.revealed and room.shared_interests == []


def test_interests_default_to_the_profiles_and_languages_to_the_persons(in_app):
    ann, ben = _users("ann", "ben")
    with write_transaction():
        db.session.get(User, ann).interests = ["chess"]
        db.session.get(User, ann).language = "zh"
    _state, ticket = matching.start(ann)
    assert (ticket.interests, ticket.languages) == (["chess"], ["zh"])
    _state, ticket = matching.start(ben, ui_language="en", interests=[" Hiking  Trips ", "HIKING trips", "🎸"])
    assert (ticket.interests, ticket.languages) == (["hiking trips", "🎸"], ["en"])


@pytest.mark.parametrize("interests", [["x" * 25], [" "], ["a", "b", "c", "d", "e", "f"]])
def test_bad_interests_are_refused(in_app, interests):
    (ann,) = _users("ann")
    with pytest.raises(BadRequest):
        matching.start(ann, interests=interests)


def test_next_looks_again_with_the_same_settings(in_app):
    ann, ben, cat = _users("ann", "ben", "cat")
    _ask(ann, 0, ["chess"], ["zh"], only_shared=True)
    state, room = _ask(ben, 1, ["chess"], ["zh"])
    links.leave(room.id, ann, reason="next")
    _waiting(cat, 2, ["chess"], ["zh"])
    state, again = matching.start_again(ann, now=T0 + timedelta(seconds=3))
    assert state == "matched" and cat in again.member_ids() and again.shared_interests == ["chess"]
    assert db.session.get(Room, room.id).end_reason == "next"


# --- the gradual reveal ----------------------------------------------------------------------

@pytest.fixture
def veiled_pair(in_app, app):
    app.config["REVEAL_AFTER"] = 3
    ann, ben = _users("ann", "ben")
    profiles.set_avatar(ann, io.BytesIO(samples.png((64, 64))))
    return ann, ben, match(ann, ben)


def test_a_random_link_shows_the_partner_by_initials_and_blurred(veiled_pair):
    ann, ben, room = veiled_pair
    seen = wire.room(room, ben)
    partner = next(m for m in seen["members"] if m["id"] == ann)
    me = next(m for m in seen["members"] if m["id"] == ben)
    assert partner["display_name"] == "AS" and partner["username"] is None and partner["veiled"]
    assert partner["avatar_url"].startswith(f"/api/users/{ann}/avatar/veiled?")
    assert me["display_name"] == "Ben Smith" and not me["veiled"]
    assert seen["reveal"] == {"revealed": False, "after": 3, "sent": {str(ann): 0, str(ben): 0}}
    # Nothing sharp reaches the partner: the picture itself is refused, the blurred one is served.
    with pytest.raises(NotFound):
        profiles.avatar_for(ben, ann)
    mime, blurred = profiles.avatar_for(ben, ann, veiled=True)
    assert mime == "image/jpeg" and blurred.name.endswith(".veiled")
    assert profiles.avatar_for(ann, ann)[1].exists()
    assert privacy.veiled_to(ben, [ann]) == {ann}
    [(viewer, shown)] = [update for update in profiles.updates(ann) if update[0] == ben]
    assert shown["display_name"] == "AS" and shown["veiled"]


def test_the_reveal_comes_when_both_have_sent_enough(veiled_pair):
    ann, ben, room = veiled_pair
    for _ in range(5):
        store_text(room.id, ann)
    store_text(room.id, ben)
    store_text(room.id, ben)
    assert not rooms.fresh(room.id).revealed
    assert wire.room(rooms.fresh(room.id), ann)["reveal"]["sent"] == {str(ann): 5, str(ben): 2}
    last = messages.draft(room.id, ben, "third-of-ben", "text", "hi")
    messages.store([last])
    assert last.reveals
    revealed = rooms.fresh(room.id)
    assert revealed.revealed and wire.room(revealed, ben)["reveal"]["revealed"]
    assert next(m for m in wire.room(revealed, ben)["members"] if m["id"] == ann)["display_name"] == "Ann Smith"
    assert profiles.avatar_for(ben, ann)[0] == "image/png"
    later = messages.draft(room.id, ben, "fourth-of-ben", "text", "hi")
    messages.store([later])
    assert not later.reveals  # the reveal is announced once


def test_a_batch_that_reveals_says_so_once(veiled_pair):
    ann, ben, room = veiled_pair
    drafts = [messages.draft(room.id, sender, f"{sender}-{n}", "text", "hi") for n in range(3) for sender in (ann, ben)]
    messages.store(drafts)
    assert [one.reveals for one in drafts].count(True) == 1 and rooms.fresh(room.id).revealed


def test_keeping_the_link_both_reveals_it(veiled_pair):
    ann, ben, room = veiled_pair
    assert not links.keep(room.id, ann, True).revealed
    assert links.keep(room.id, ben, True).revealed


def test_zero_turns_the_reveal_off(in_app, app):
    app.config["REVEAL_AFTER"] = 0
    ann, ben = _users("ann", "ben")
    assert match(ann, ben).revealed


# --- over the socket -----------------------------------------------------------------------------

def _ack(client, event, payload):
    return client.emit(event, payload, callback=True)


@pytest.mark.parametrize("payload", [{"interests": ["x" * 25]}, {"interests": [""]}, {"interests": "hiking"},
                                     {"interests": list("abcdef")}, {"languages": ["english!"]},
                                     {"only_shared": "yes"}])
def test_a_malformed_match_start_is_bad_request(sock, payload):
    assert _ack(sock("ann"), "match:start", payload)["error"]["code"] == "bad_request"


def test_match_found_and_the_room_carry_the_shared_interests(sock):
    ann, ben = sock("ann"), sock("ben")
    waiting = _ack(ann, "match:start", {"interests": ["Hiking", "jazz"], "languages": ["ja", "en"]})
    assert waiting["state"] == "waiting"
    assert (waiting["interests"], waiting["languages"]) == (["hiking", "jazz"], ["ja", "en"])
    matched = _ack(ben, "match:start", {"interests": ["jazz", "hiking"]})  # language: the page's, English
    assert matched["room"]["shared_interests"] == ["jazz", "hiking"]
    found = [event for event in ann.get_received() if event["name"] == "match:found"]
    assert found[0]["args"][0]["room"]["shared_interests"] == ["jazz", "hiking"]


def test_next_ends_the_link_with_reason_next_and_looks_again(sock):
    ann, ben, cat = sock("ann"), sock("ben"), sock("cat")
    _ack(ann, "match:start", {"interests": ["chess"]})
    room_id = _ack(ben, "match:start", {"interests": ["chess"]})["room"]["id"]
    _ack(cat, "match:start", {"interests": ["chess"]})
    ann.get_received()
    moved = _ack(ben, "match:next", {"room_id": room_id})
    assert moved["state"] == "matched" and moved["room"]["id"] != room_id
    assert moved["room"]["shared_interests"] == ["chess"]
    ended = [event["args"][0] for event in ann.get_received() if event["name"] == "room:ended"]
    assert ended == [{"room_id": room_id, "by": ended[0]["by"], "reason": "next"}]


def test_the_reveal_is_announced_as_room_updated(sock, app):
    app.config["REVEAL_AFTER"] = 2
    ann, ben = sock("ann"), sock("ben")
    _ack(ann, "match:start", {})
    room = _ack(ben, "match:start", {})["room"]
    assert all(member["veiled"] for member in room["members"] if member["username"] != "ben")
    for client in (ann, ben, ann, ben):
        assert _ack(client, "message:send", {"room_id": room["id"], "client_id": str(uuid.uuid4()),
                                             "kind": "text", "text": "hi"})["ok"]
    updated = [event["args"][0]["room"] for event in ann.get_received() if event["name"] == "room:updated"]
    assert len(updated) == 1 and updated[0]["reveal"]["revealed"]
    assert {member["username"] for member in updated[0]["members"]} == {"ann", "ben"}


@pytest.fixture
def terms_loaded(app, tmp_path):
    terms = tmp_path / "blocked-terms.txt"
    terms.write_text(BLOCKED_TERMS, encoding="utf-8")
    app.config["BLOCKED_TERMS"] = str(terms)
    protections.load_blocked_terms(app)
    return app


def test_an_interest_with_a_blocked_term_is_filtered_and_counted(terms_loaded, in_app):
    (ann,) = _users("ann")
    with pytest.raises(Filtered):
        matching.start(ann, interests=["hiking", "ＢＡＤ idea"])
    with pytest.raises(Filtered):
        profiles.update(ann, {"interests": ["坏蛋"]})
    assert db.session.query(MatchTicket).count() == 0 and db.session.get(User, ann).interests == []
    assert protections.refusals_of([ann])[ann]["term"] == 2


def test_match_start_with_a_blocked_interest_is_answered_filtered(terms_loaded, sock):
    refused = _ack(sock("ben"), "match:start", {"interests": ["free money"]})
    assert refused["error"]["code"] == "filtered" and "money" not in refused["error"]["message"]
