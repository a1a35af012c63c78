"""Raw Engine.IO / Socket.IO frames over a real websocket, below what any client
library would send: the server answers or drops that one connection, and keeps
serving everyone else throughout."""
import uuid

import pytest
import websocket

from support import raw_socket

pytestmark = pytest.mark.heavy

ATTACKS = {
    "unknown engine.io packet type": ["9", "x", ""],
    "unknown socket.io packet type": ["49", "4x", "47[]"],
    "bogus ack ids": ['42999999999999999999999999["match:cancel",{}]', '43123["x"]', '4212abc["typing"]',
                      '42-1["match:cancel",{}]'],
    "not json": ['42["message:send",{', '42{"room_id":1}', '42[]', '42[42]', '42[null,{}]', "42\x00\x01"],
    "deeply nested json": ['42["room:join",' + "[" * 50_000 + "]" * 50_000 + "]",
                           '42["room:join",' + '{"a":' * 20_000 + "1" + "}" * 20_000 + "]"],
    "binary placeholders that never come": ['451-["message:send",{"_placeholder":true,"num":0}]',
                                            '452-["typing",{"_placeholder":true,"num":5}]'],
    "invalid utf-8": [b"42[\"typing\",\"\xff\xfe\xfd\"]"],
    "oversize frame": ['42["message:send",{"text":"' + "x" * 300_000 + '"}]'],
}


def _send_raw(ws, frame):
    if isinstance(frame, bytes):
        ws.send(frame, opcode=websocket.ABNF.OPCODE_TEXT)
    else:
        ws.send(frame)


@pytest.fixture
def chatting(linked):
    return linked()


def test_hostile_frames_never_stop_the_server_serving_others(live_server, chatting):
    a, b, room_id = chatting
    live_server.make_user("mallory")
    token = live_server.token("mallory")  # one token for all: token requests are rate limited
    tried = 0
    for name, frames in ATTACKS.items():
        for frame in frames:
            tried += 1
            ws = raw_socket(live_server, token)
            try:
                _send_raw(ws, frame)
                _send_raw(ws, "2")  # a ping from the client side is nonsense too, but harmless
            except (websocket.WebSocketException, OSError):
                pass  # the server may close the connection: that is its right
            finally:
                ws.close()
            text = f"after hostile frame {tried}"  # (the frame's name, "engine.io …", would read as a link)
            sent = a.ask("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "text": text})
            assert sent["ok"], (name, sent)
            assert b.wait_for("message:new", lambda m, t=text: m["message"]["text"] == t)["message"]["seq"] == tried
    assert live_server.process.poll() is None
    # The attacker can still use the service properly.
    mallory = live_server.connect("mallory", token)
    assert mallory.ask("match:start")["ok"]
    mallory.disconnect()
    print(f"\nraw fuzz: {tried} hostile frames, {tried} messages delivered between the others")
