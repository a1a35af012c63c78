"""Matching controls at scale, on the real engines: two `python app.py` workers sharing PostgreSQL
and Redis, 200 people with random interests and languages asking at once. Nobody ends in two rooms,
nobody is paired without a language in common, both people of a room are told the same shared
interests and they are the ones they share, and whoever is left waiting has nobody left to meet."""
import queue
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from support import crowd, two_workers_sharing

PEOPLE = 200
DRIVERS = 4
INTEREST_WAIT = 2  # s: short, so that the people who share nothing meet within the test
INTERESTS = ["hiking", "jazz", "chess", "🍜", "films", "baking", "running", "poetry", "go", "anime", "opera", "cats"]
LANGUAGES = ["en", "zh", "ja"]


@pytest.fixture
def workers(postgres_url, redis_url, tmp_path):
    # 200 sign-ins from this one address, and their sockets.
    with two_workers_sharing(postgres_url, redis_url, tmp_path, HEARTLINK_INTEREST_WAIT=INTEREST_WAIT,
                             HEARTLINK_RATE_LOGIN_ADDRESS="10000/300", HEARTLINK_MAX_CONNECTIONS=1000) as servers:
        yield servers


def _people(seed=20):
    chance = random.Random(seed)
    return [{"interests": chance.sample(INTERESTS, chance.randint(0, 3)),
             "languages": chance.sample(LANGUAGES, chance.choice([1, 1, 2]))} for _ in range(PEOPLE)]


def test_200_people_with_interests_and_languages_start_at_once_on_two_workers(workers):
    asked = _people()
    names = [f"match{index}" for index in range(PEOPLE)]
    clients = crowd(workers, names, DRIVERS)
    ids = {}
    acks = queue.Queue()
    start = threading.Barrier(DRIVERS)

    def ask(index):
        clients[index].emit("match:start", asked[index], callback=lambda ack, index=index: acks.put((index, ack)))

    def drive(first):
        start.wait()
        for index in range(first, PEOPLE, DRIVERS):
            ask(index)

    drivers = [threading.Thread(target=drive, args=(first,)) for first in range(DRIVERS)]
    for thread in drivers:
        thread.start()
    for thread in drivers:
        thread.join()
    answered = 0
    deadline = time.monotonic() + 90
    while answered < PEOPLE:
        index, ack = acks.get(timeout=max(0.1, deadline - time.monotonic()))
        if not ack["ok"] and ack["error"]["code"] == "conflict" and "room" not in ack["error"]:
            ask(index)  # "too many people are pairing right now": the page asks again
            continue
        assert ack["ok"], ack
        answered += 1

    # Everyone's room as they were told it (match:found reaches every matched person), until the
    # interest wait is long over and the sweepers have paired whoever could still meet.
    seen = {}
    quiet_until = time.monotonic() + INTEREST_WAIT + 8
    while time.monotonic() < quiet_until:
        for index, client in enumerate(clients):
            for found in client.drain("match:found"):
                assert index not in seen, f"person {index} was paired twice"
                seen[index] = found["room"]
        time.sleep(0.2)

    rooms = {}
    for index, room in seen.items():
        rooms.setdefault(room["id"], []).append((index, room))
        ids[index] = next(member["id"] for member in room["members"] if member["username"] == names[index])
    left = [index for index in range(PEOPLE) if index not in seen]
    print(f"\n{PEOPLE} people with interests and languages: {len(rooms)} rooms, {len(left)} left waiting, "
          f"{sum(1 for views in rooms.values() if views[0][1]['shared_interests'])} rooms sharing an interest")
    for views in rooms.values():
        assert len(views) == 2, views
        (first, first_view), (second, second_view) = views
        assert set(asked[first]["languages"]) & set(asked[second]["languages"]), (asked[first], asked[second])
        assert first_view["shared_interests"] == second_view["shared_interests"]
        assert sorted(first_view["shared_interests"]) == sorted(
            set(asked[first]["interests"]) & set(asked[second]["interests"]))
        assert {member["id"] for member in first_view["members"]} == {ids[first], ids[second]}
    # Nobody waits while someone they could meet waits too: the waits are over, so a language in
    # common is all it would take.
    for n, one in enumerate(left):
        for other in left[n + 1:]:
            assert not set(asked[one]["languages"]) & set(asked[other]["languages"]), (asked[one], asked[other])
    assert len(rooms) * 2 + len(left) == PEOPLE
    with ThreadPoolExecutor(DRIVERS) as pool:
        list(pool.map(lambda client: client.disconnect(), clients))
