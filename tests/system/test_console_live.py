"""The moderation console's live signals across workers: two `python app.py` workers on PostgreSQL and
Redis. A report filed on one worker reaches a moderator whose socket is on the other; a decision made
there reaches every console; a moderator unmade at the command line stops hearing reports at once."""
import subprocess
import sys
import time
import uuid

import pytest
import requests

from config import BASE_DIR
from heartlink.domain import moderation

from support import two_workers_sharing


@pytest.fixture
def two_workers(postgres_url, redis_url, tmp_path):
    with two_workers_sharing(postgres_url, redis_url, tmp_path) as servers:
        yield servers


def _operator(server, *args):
    """A flask command, as the operator runs it, against the workers' database and queue."""
    done = subprocess.run([sys.executable, "-m", "flask", *args], cwd=BASE_DIR, capture_output=True, text=True,
                          env={**server.env, "FLASK_APP": "heartlink"}, timeout=60)
    assert done.returncode == 0, done.stderr


def _heard_until(client, event, timeout=10):
    """The names of every event the client heard, up to and including the next `event`."""
    deadline, heard = time.monotonic() + timeout, []
    while not heard or heard[-1] != event:
        heard.append(client.events.get(timeout=max(0.01, deadline - time.monotonic()))[0])
    return heard


def _post(server, path, token, body):
    return requests.post(server.url + path, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_reports_and_decisions_reach_moderators_on_the_other_worker_and_an_unmade_one_hears_no_more(two_workers):
    w1, w2 = two_workers
    for name in ("mod", "alice", "bob"):
        w1.make_user(name)
    _operator(w1, "moderators", "add", "mod")
    moderator = w2.connect("mod")  # on the other worker than everything below
    alice, bob = w1.connect("alice"), w1.connect("bob")
    assert alice.ask("match:start")["state"] == "waiting"
    room_id = bob.ask("match:start")["room"]["id"]
    assert bob.ask("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "text": "rude"})["ok"]
    alice_token, mod_token = w1.token("alice"), w1.token("mod")

    filed = _post(w1, "/api/reports", alice_token, {"room_id": room_id, "reason": "insults"})
    assert filed.status_code == 201
    heard = moderator.wait_for("moderation:report")["report"]
    assert (heard["id"], heard["reported"]["username"]) == (filed.json()["id"], "bob")
    assert heard["snapshot"]["messages"][-1]["text"] == "rude"

    decided = _post(w1, "/api/moderation/decisions", mod_token,
                    {"action": "warn", "note": "A first warning.", "report_ids": [heard["id"]]})
    assert decided.status_code == 200
    assert moderator.wait_for("moderation:decided") == decided.json()["decision"]
    assert bob.wait_for("account:warning")["reason"] == "A first warning."

    # Unmade at the command line: their socket on w2 leaves the room through the queue, at once.
    _operator(w1, "moderators", "remove", "mod")
    assert _post(w1, "/api/reports", alice_token, {"room_id": room_id, "reason": "again"}).status_code == 201
    # A fence: a warning to the former moderator is published after that report; once it is here, the
    # report would have been too.
    _operator(w1, "users", "warn", "mod", "--reason", "A fence for the test.")
    assert "moderation:report" not in _heard_until(moderator, "account:warning")
    with w1.app.app_context():
        assert moderation.moderators() == []
    for client in (moderator, alice, bob):
        client.disconnect()
