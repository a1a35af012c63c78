"""The bare python-socketio peer of the benchmark: the same stack Heart Link stands on
(python-socketio under eventlet, served by eventlet.wsgi with TCP_NODELAY, as Heart Link's
server does), with no accounts, no database and no Flask: what relaying costs by itself.

    .venv/bin/python bench/relay_py.py PORT

It answers like Heart Link on the wire (see bench/relay.js, its Node twin): `match:start {code}`
pairs the two sockets that gave the same code, `room:join` enters the room, `message:send`
emits `message:new {message}` to the partner and acks `{ok, message, duplicate: false}`.
"""
import sys
import uuid
import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import socket  # noqa: E402

import eventlet.wsgi  # noqa: E402
import socketio  # noqa: E402

server = socketio.Server(async_mode="eventlet", cors_allowed_origins="*")
waiting = {}  # code -> sid
rooms = {}  # room id -> {"members": [sid, sid], "seq": n}


def _forbidden():
    return {"ok": False, "error": {"code": "forbidden", "message": "Not your room."}}


@server.on("disconnect")
def disconnect(sid, *_reason):
    for code, waiting_sid in list(waiting.items()):
        if waiting_sid == sid:
            del waiting[code]


@server.on("match:start")
def match_start(sid, payload=None):
    code = (payload or {}).get("code")
    other = waiting.get(code)
    if other is None or other == sid:
        waiting[code] = sid
        return {"ok": True, "state": "waiting"}
    del waiting[code]
    room = {"id": str(uuid.uuid4())}
    rooms[room["id"]] = {"members": [other, sid], "seq": 0}
    server.emit("match:found", {"room": room}, to=other)
    return {"ok": True, "state": "matched", "room": room}


@server.on("room:join")
def room_join(sid, payload=None):
    room_id = (payload or {}).get("room_id")
    room = rooms.get(room_id)
    if room is None or sid not in room["members"]:
        return _forbidden()
    server.enter_room(sid, room_id)
    return {"ok": True, "room": {"id": room_id}, "messages": [], "has_more": False, "receipts": {}}


@server.on("message:send")
def message_send(sid, payload=None):
    payload = payload or {}
    room_id = payload.get("room_id")
    room = rooms.get(room_id)
    if room is None or sid not in room["members"]:
        return _forbidden()
    room["seq"] += 1
    message = {"client_id": payload.get("client_id"), "seq": room["seq"], "room_id": room_id,
               "text": payload.get("text"), "sender_id": sid}
    server.emit("message:new", {"message": message}, to=room_id, skip_sid=sid)
    return {"ok": True, "message": message, "duplicate": False}


def main():
    port = int(sys.argv[1])
    listener = eventlet.listen(("127.0.0.1", port))
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    print(f"python-socketio relay serving on http://127.0.0.1:{port}", file=sys.stderr, flush=True)
    eventlet.wsgi.server(listener, socketio.WSGIApp(server), max_size=100_000, log_output=False)


if __name__ == "__main__":
    main()
