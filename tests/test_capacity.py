"""More than eventlet's default 1024 connections on one worker, all answered."""
import json
import resource
import uuid

import websocket

from support import LiveServer, matched

CONNECTIONS = 1100


def _ack(ws):
    """The next Socket.IO ack on a raw socket; Engine.IO pings that come first (a socket
    opened a while ago is pinged every interval) are answered and passed over."""
    while True:
        frame = ws.recv()
        if frame == "2":
            ws.send("3")
            continue
        return frame


def test_a_worker_holds_more_than_1024_sockets_and_keeps_chatting(db_path, tmp_path):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < CONNECTIONS + 200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, CONNECTIONS + 500), hard))
    server = LiveServer(db_path, tmp_path, HEARTLINK_MAX_SOCKETS_PER_USER=CONNECTIONS + 10,
                        HEARTLINK_RATE_EVENTS="100000/10")
    sockets = []
    try:
        server.make_user("crowd")
        token = server.token("crowd")
        url = server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
        for _ in range(CONNECTIONS):
            ws = websocket.create_connection(url, timeout=10)
            assert ws.recv().startswith("0")
            ws.send("40" + json.dumps({"token": token}))
            assert ws.recv().startswith("40")
            sockets.append(ws)
        # The last one in is served like the first.
        for ws in (sockets[0], sockets[-1]):
            ws.send('421["match:cancel",{}]')
            assert json.loads(_ack(ws)[3:]) == [{"ok": True}]
        a, b, room_id = matched(server)
        sent = a.ask("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "text": "crowded"})
        assert b.wait_for("message:new")["message"]["id"] == sent["message"]["id"]
        a.disconnect()
        b.disconnect()
        print(f"\n{len(sockets)} sockets open on one worker, all connected")
    finally:
        for ws in sockets:
            ws.close()
        server.close()
