"""Deleting an account with two `python app.py` workers on PostgreSQL and Redis: the person's sockets
close on both workers, their tokens stop working, and their partner (on the other worker) sees their
messages become deleted messages from "Deleted account"."""

import pytest
import requests

from support import PASSWORD, eventually, two_workers_sharing


@pytest.fixture
def two_workers(postgres_url, redis_url, tmp_path):
    with two_workers_sharing(postgres_url, redis_url, tmp_path) as servers:
        yield servers


def test_a_deleted_account_is_closed_on_every_worker_and_its_partner_sees_the_tombstones(two_workers, linked):
    w1, w2 = two_workers
    alice, bob, room_id = linked(w1, across=w2)  # alice on w1, bob on w2
    alice_on_w2 = w2.connect("alice")
    for text in ("first", "second"):
        assert alice.send_text(room_id, text)["ok"]
    bob.wait_for("message:new", lambda data: data["message"]["text"] == "second")
    alice_id = alice.ask("room:join", {"room_id": room_id})["messages"][0]["sender_id"]
    token = w2.token("alice")

    wrong = requests.delete(w1.url + "/api/me", json={"password": "nope-nope"},
                            headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert wrong.status_code == 401
    answer = requests.delete(w1.url + "/api/me", json={"password": PASSWORD},
                             headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code == 200, answer.text

    assert alice.closed.wait(10) and alice_on_w2.closed.wait(10)
    bob.wait_for("room:ended", lambda data: data["room_id"] == room_id)  # first: the link ends
    renamed = bob.wait_for("user:updated", lambda data: data["user"]["id"] == alice_id)
    assert renamed["user"]["display_name"] == "Deleted account" and renamed["user"]["deleted"] is True
    tombstones = []
    while len(tombstones) < 2:
        tombstones.append(bob.wait_for("message:updated", lambda data: data["message"]["sender_id"] == alice_id))
    assert all(t["message"]["deleted"] and t["message"]["text"] is None for t in tombstones)

    history = bob.ask("room:join", {"room_id": room_id})
    assert [(m["sender_id"], m["text"], m["deleted"]) for m in history["messages"]] == \
        [(alice_id, None, True), (alice_id, None, True)]
    assert requests.get(w2.url + "/api/me", headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code == 401
    refused = requests.post(w2.url + "/api/token", json={"username": "alice", "password": PASSWORD}, timeout=10)
    assert refused.status_code == 401
    eventually(lambda: w2.health() == 200, what="w2 still serving")
