"""More than eventlet's default 1024 connections on one worker, all answered."""
import json
import resource
import uuid

import pytest
import websocket

pytestmark = [pytest.mark.heavy, pytest.mark.timeout(900)]  # a deadline for a busy machine


CONNECTIONS = 1100


def test_a_worker_holds_more_than_1024_sockets_and_keeps_chatting(serve, linked):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < CONNECTIONS + 200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, CONNECTIONS + 500), hard))
    # These raw sockets never answer the server's pings: a long ping interval keeps the first
    # ones open however long the machine takes to open the last.
    server = serve(HEARTLINK_MAX_SOCKETS_PER_USER=CONNECTIONS + 10, HEARTLINK_RATE_EVENTS="100000/10",
                   HEARTLINK_MAX_CONNECTIONS_PER_ADDRESS=CONNECTIONS + 50, HEARTLINK_HANDSHAKE_RATE="1000000/1",
                   HEARTLINK_PING_INTERVAL=600)
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
            assert json.loads(ws.recv()[3:]) == [{"ok": True}]
        a, b, room_id = linked(server)
        sent = a.ask("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "text": "crowded"})
        assert b.wait_for("message:new")["message"]["id"] == sent["message"]["id"]
        a.disconnect()
        b.disconnect()
        print(f"\n{len(sockets)} sockets open on one worker, all connected")
    finally:
        for ws in sockets:
            ws.close()
