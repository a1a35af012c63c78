"""Socket.IO handlers through the Flask-SocketIO test client, and the JSON API."""
import uuid

import pytest

from heartlink.domain import messages as messages_domain
from heartlink.extensions import db, socketio
from heartlink.models import Message

from support import received, send_text


def test_a_socket_without_a_session_or_token_is_refused(app):
    client = socketio.test_client(app)
    assert not client.is_connected()


def test_a_socket_with_a_forged_token_is_refused(app):
    client = socketio.test_client(app, auth={"token": "forged.token.value"})
    assert not client.is_connected()


def test_match_found_reaches_both_people(linked_sockets):
    alice, bob, room_id = linked_sockets
    found = received(alice, "match:found")
    assert [f["room"]["id"] for f in found] == [room_id]
    assert {m["username"] for m in found[0]["room"]["members"]} == {"alice", "bob"}


def test_a_second_match_start_in_a_link_is_a_conflict_naming_the_room(linked_sockets):
    alice, _bob, room_id = linked_sockets
    ack = alice.emit("match:start", {}, callback=True)
    assert ack["ok"] is False and ack["error"]["code"] == "conflict"
    assert ack["error"]["room"]["id"] == room_id


def test_cancel_stops_waiting(sock):
    alice, bob = sock("alice"), sock("bob")
    alice.emit("match:start", {}, callback=True)
    assert alice.emit("match:cancel", {}, callback=True) == {"ok": True}
    assert bob.emit("match:start", {}, callback=True)["state"] == "waiting"


def test_messages_reach_the_partner_with_seq_and_duplicates_are_stored_once(linked_sockets, app):
    alice, bob, room_id = linked_sockets
    bob.get_received()
    client_id = str(uuid.uuid4())
    first = send_text(alice, room_id, "hi", client_id)
    again = send_text(alice, room_id, "hi", client_id)
    assert first["ok"] and first["message"]["seq"] == 1 and first["duplicate"] is False
    assert again["ok"] and again["duplicate"] is True and again["message"]["id"] == first["message"]["id"]
    assert [m["message"]["text"] for m in received(bob, "message:new")] == ["hi"]
    with app.app_context():
        assert db.session.query(Message).count() == 1


@pytest.mark.parametrize("payload", [
    None, "text", 42, [], {"room_id": "not-a-uuid", "client_id": str(uuid.uuid4()), "text": "x"},
    {"room_id": str(uuid.uuid4()), "client_id": 7, "text": "x"},
    {"room_id": str(uuid.uuid4()), "client_id": str(uuid.uuid4()), "text": ["x"]},
    {"room_id": str(uuid.uuid4()), "client_id": str(uuid.uuid4()), "kind": "poem", "text": "x"},
])
def test_malformed_sends_get_bad_request_and_change_nothing(sock, app, payload):
    alice = sock("alice")
    ack = alice.emit("message:send", payload, callback=True)
    assert ack["ok"] is False and ack["error"]["code"] == "bad_request"
    assert alice.is_connected()
    with app.app_context():
        assert db.session.query(Message).count() == 0


def test_a_stranger_cannot_join_or_write_or_leave_a_room(sock, app, linked_sockets):
    _alice, _bob, room_id = linked_sockets
    eve = sock("eve")
    for event, payload in [("room:join", {"room_id": room_id}), ("room:leave", {"room_id": room_id}),
                           ("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "text": "x"})]:
        ack = eve.emit(event, payload, callback=True)
        assert ack["ok"] is False and ack["error"]["code"] == "forbidden", event
    with app.app_context():
        assert db.session.query(Message).count() == 0


def test_leaving_ends_the_link_for_both_and_sending_is_refused(linked_sockets):
    alice, bob, room_id = linked_sockets
    alice_id = next(m["id"] for m in received(alice, "match:found")[0]["room"]["members"] if m["username"] == "alice")
    bob.get_received()
    assert alice.emit("room:leave", {"room_id": room_id}, callback=True)["room"]["status"] == "ended"
    assert received(bob, "room:ended") == [{"room_id": room_id, "by": alice_id, "reason": "left"}]
    ack = send_text(bob, room_id)
    assert ack["ok"] is False and ack["error"]["code"] == "conflict"


def test_a_handler_failure_is_internal_logged_and_keeps_the_connection(linked_sockets, monkeypatch, caplog):
    alice, _bob, room_id = linked_sockets

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(messages_domain, "draft", broken)
    ack = send_text(alice, room_id)
    assert ack == {"ok": False, "error": {"code": "internal", "message": "Something went wrong."}}
    assert "message:send failed" in caplog.text and "disk on fire" in caplog.text
    assert alice.is_connected()
    assert alice.emit("room:join", {"room_id": room_id}, callback=True)["ok"] is True


def test_a_send_while_the_database_is_away_is_answered_unavailable_and_can_go_again(linked_sockets, monkeypatch,
                                                                                    caplog):
    from sqlalchemy.exc import OperationalError

    alice, _bob, room_id = linked_sockets
    real_store = messages_domain.store

    def refused(drafts, now=None):
        raise OperationalError("INSERT INTO messages ...", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(messages_domain, "store", refused)
    client_id = str(uuid.uuid4())
    ack = send_text(alice, room_id, client_id=client_id)
    assert ack["ok"] is False and ack["error"]["code"] == "unavailable"
    assert "the database is unreachable" in caplog.text and "Traceback" not in caplog.text
    assert alice.is_connected()
    monkeypatch.setattr(messages_domain, "store", real_store)
    again = send_text(alice, room_id, client_id=client_id)
    assert again["ok"] is True and again["duplicate"] is False


def test_a_sockets_events_leave_no_cyclic_garbage_from_url_matching(app):
    import gc

    from werkzeug.test import EnvironBuilder

    upgrade = {"Upgrade": "websocket", "Connection": "Upgrade"}
    environ = EnvironBuilder(path="/socket.io/", query_string="EIO=4&transport=websocket",
                             headers=upgrade).get_environ()
    # Werkzeug's matcher leaves a reference cycle per match (its recursive closure); only the
    # collector frees those, in pauses that stop the worker. Matched once, 200 events leave none.
    # (Counted by kind: other threads of the test process make garbage of their own meanwhile.)
    with app.request_context(environ):  # the socket's first event: its one match
        pass
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for _ in range(200):  # Flask-SocketIO pushes a request context per event
            with app.request_context(environ):
                pass
        gc.collect()
        matches = [leftover for leftover in gc.garbage if getattr(leftover, "__qualname__", "").startswith(
            "StateMachineMatcher.match.")]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert matches == []


def test_only_the_database_being_away_counts_as_unavailable():
    import sqlite3

    from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from heartlink.worker.database import unreachable

    def wrapped(kind, orig, invalidated=False):
        return kind("SELECT 1", {}, orig, connection_invalidated=invalidated)

    assert unreachable(wrapped(OperationalError, ConnectionRefusedError("connection refused")))
    assert unreachable(wrapped(OperationalError, sqlite3.OperationalError("database is locked")))
    assert unreachable(wrapped(ProgrammingError, Exception("connection already closed"), invalidated=True))
    assert unreachable(PoolTimeout("QueuePool limit of size 5 overflow 10 reached"))
    assert not unreachable(wrapped(OperationalError, sqlite3.OperationalError("no such table: messages")))
    assert not unreachable(wrapped(IntegrityError, Exception("UNIQUE constraint failed")))
    assert not unreachable(RuntimeError("disk on fire"))


def test_a_sockets_events_reuse_one_url_match_and_can_still_build_urls(app):
    from flask import request, url_for
    from werkzeug.test import EnvironBuilder

    upgrade = {"Upgrade": "websocket", "Connection": "Upgrade"}
    for transport, headers, endpoint in (("websocket", upgrade, "socketio_websocket"), ("polling", {}, "socketio")):
        environ = EnvironBuilder(path="/socket.io/", query_string=f"EIO=4&transport={transport}",
                                 headers=headers).get_environ()
        adapters = []
        for _ in range(2):  # two events of one socket: Flask-SocketIO pushes a context per event
            with app.request_context(environ):
                adapters.append(app.create_url_adapter(request))
                # Matched, so no routing error (and its traceback's garbage) per event.
                assert request.routing_exception is None and request.url_rule.endpoint == endpoint
                assert url_for("pages.room", room_id="r1") == "/rooms/r1"
        assert adapters[0] is adapters[1]
    with app.test_request_context("/socket.io/"):  # an HTTP request has an environ of its own
        assert app.create_url_adapter(request) is not adapters[0]
