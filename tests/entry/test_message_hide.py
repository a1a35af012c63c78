"""`message:hide` (delete for me) through the Flask-SocketIO test client and the JSON API."""
from heartlink.extensions import socketio

from support import AuthActions, received, send_text


def _second_tab(app, username):
    http = app.test_client()
    AuthActions(http).login(username)
    return socketio.test_client(app, flask_test_client=http)


def test_hiding_tells_my_other_tabs_and_not_my_partner(app, linked_sockets):
    alice, bob, room_id = linked_sockets
    theirs = send_text(bob, room_id, "from bob")["message"]
    other_tab = _second_tab(app, "alice")
    for client in (alice, bob, other_tab):
        client.get_received()

    ack = alice.emit("message:hide", {"room_id": room_id, "message_id": theirs["id"]}, callback=True)
    assert ack == {"ok": True, "room_id": room_id, "message_id": theirs["id"], "seq": theirs["seq"]}
    assert received(other_tab, "message:hidden") == [{"room_id": room_id, "message_id": theirs["id"],
                                                      "seq": theirs["seq"]}]
    assert received(alice, "message:hidden") == []  # the ack told this tab
    assert bob.get_received() == []

    joined = other_tab.emit("room:join", {"room_id": room_id}, callback=True)
    assert joined["messages"][-1] == {"id": theirs["id"], "room_id": room_id, "seq": theirs["seq"], "hidden": True}
    assert bob.emit("room:join", {"room_id": room_id}, callback=True)["messages"][-1]["text"] == "from bob"
    other_tab.disconnect()


def test_hiding_twice_is_ok_and_in_an_ended_link_too(linked_sockets):
    alice, bob, room_id = linked_sockets
    mine = send_text(alice, room_id, "mine")["message"]
    assert bob.emit("room:leave", {"room_id": room_id}, callback=True)["ok"]
    target = {"room_id": room_id, "message_id": mine["id"]}
    assert alice.emit("message:hide", target, callback=True)["ok"]
    assert alice.emit("message:hide", target, callback=True)["ok"]


def test_hiding_refuses_strangers_unknown_messages_and_malformed_payloads(sock, linked_sockets):
    alice, bob, room_id = linked_sockets
    sent = send_text(alice, room_id, "hi")["message"]
    eve = sock("eve")
    target = {"room_id": room_id, "message_id": sent["id"]}
    assert eve.emit("message:hide", target, callback=True)["error"]["code"] == "forbidden"
    missing = alice.emit("message:hide", {"room_id": room_id, "message_id": 10**9}, callback=True)
    assert missing["error"]["code"] == "not_found"
    assert alice.emit("message:hide", {"room_id": room_id}, callback=True)["error"]["code"] == "bad_request"
    assert alice.emit("message:hide", {**target, "message_id": "x"}, callback=True)["error"]["code"] == "bad_request"


def test_history_and_the_rooms_list_leave_it_out_over_http(app, linked_sockets):
    alice, bob, room_id = linked_sockets
    send_text(alice, room_id, "first")
    last = send_text(bob, room_id, "last")["message"]
    assert alice.emit("message:hide", {"room_id": room_id, "message_id": last["id"]}, callback=True)["ok"]
    http = app.test_client()
    AuthActions(http).login("alice")
    page = http.get(f"/api/rooms/{room_id}/messages").get_json()["messages"]
    assert [m.get("hidden", False) for m in page] == [False, True]
    (listed,) = http.get("/api/rooms").get_json()["rooms"]
    assert listed["last_message"]["text"] == "first" and listed["unread"] == 0
