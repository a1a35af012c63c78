"""Connections that try to stay forever: half-sent requests, Engine.IO sessions that never
sign in, and one address opening connection after connection."""
import http.client
import json
import socket
import time

import pytest
import requests
import websocket

from support import LiveServer


@pytest.fixture
def strict_server(db_path, tmp_path):
    server = LiveServer(db_path, tmp_path, HEARTLINK_HTTP_SOCKET_TIMEOUT="1", HEARTLINK_HANDSHAKE_TIMEOUT="1",
                        HEARTLINK_MAX_CONNECTIONS_PER_ADDRESS="6")
    yield server
    server.close()


def _closed_by_server(sock, deadline):
    """True once the server closes the connection (recv returns b"" or resets)."""
    sock.settimeout(0.5)
    while time.monotonic() < deadline:
        try:
            if sock.recv(4096) == b"":
                return True
        except TimeoutError:
            continue
        except ConnectionResetError:
            return True
    return False


def test_a_half_sent_request_is_dropped_after_the_socket_timeout(strict_server):
    port = strict_server.port
    slow = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
    for sock in slow:
        sock.sendall(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")  # and never the rest
    deadline = time.monotonic() + 15
    assert all(_closed_by_server(sock, deadline) for sock in slow)
    for sock in slow:
        sock.close()
    assert requests.get(strict_server.url + "/login", timeout=5).status_code == 200


def test_an_engine_io_session_that_never_connects_is_closed(strict_server):
    _await_session_closed(strict_server, _handshake(strict_server))
    # A client that does connect stays connected past the timeout.
    strict_server.make_user("alice")
    client = strict_server.connect("alice")
    deadline = time.monotonic() + 2.5
    while time.monotonic() < deadline:  # longer than HANDSHAKE_TIMEOUT and two sweeps
        assert client.ask("match:cancel")["ok"]
        time.sleep(0.2)
    client.disconnect()


def test_a_session_that_never_polls_again_does_not_stop_the_reaper(strict_server):
    """The reaper closes without waiting on the client: an anonymous long-polling session that
    never polls again is closed, and so is every session after it (a websocket here)."""
    _handshake(strict_server)  # and never a poll again
    ws = websocket.create_connection(strict_server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket",
                                     timeout=15)
    assert ws.recv().startswith("0")  # Engine.IO open; no Socket.IO CONNECT follows
    try:
        while ws.recv():  # pings, until the server ends the connection
            pass
    except (websocket.WebSocketConnectionClosedException, ConnectionResetError):
        pass
    except websocket.WebSocketTimeoutException:
        raise AssertionError("the websocket without a Socket.IO connection stayed open") from None
    finally:
        ws.shutdown()


def _handshake(server):
    opened = requests.get(server.url + "/socket.io/", params={"EIO": "4", "transport": "polling"}, timeout=5)
    assert opened.status_code == 200
    return json.loads(opened.text[opened.text.index("{"):])["sid"]


def _await_session_closed(server, sid):
    params = {"EIO": "4", "transport": "polling", "sid": sid}
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        poll = requests.get(server.url + "/socket.io/", params=params, timeout=10)
        if poll.status_code == 400 or "\x1e1" in "\x1e" + poll.text:  # unknown session, or a close packet
            return
    raise AssertionError("the session without a Socket.IO connection stayed open")


def test_a_refused_socket_io_connect_does_not_leave_its_session_open(strict_server):
    sid = _handshake(strict_server)
    refused = requests.post(strict_server.url + "/socket.io/", params={"EIO": "4", "transport": "polling", "sid": sid},
                            data='40{"token":"forged"}', timeout=5)
    assert refused.status_code == 200
    answer = requests.get(strict_server.url + "/socket.io/", params={"EIO": "4", "transport": "polling", "sid": sid},
                          timeout=10)
    assert answer.text.startswith("44")  # CONNECT_ERROR: unauthorized
    _await_session_closed(strict_server, sid)


def test_connections_per_address_are_capped(strict_server):
    strict_server.make_user("alice")
    token = strict_server.token("alice")
    held = [strict_server.connect("alice", token) for _ in range(6)]
    over = requests.get(strict_server.url + "/login", timeout=5)
    assert over.status_code == 429 and over.json()["error"]["code"] == "rate_limited"
    held.pop().disconnect()
    deadline = time.monotonic() + 10
    while requests.get(strict_server.url + "/login", timeout=5).status_code != 200:
        assert time.monotonic() < deadline, "the freed connection was not given back"
    for client in held:
        client.disconnect()


def _from(address, port):
    """A connection to the server from another loopback address (all of 127/8 is this machine)."""
    return socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(address, 0))


def _healthz_from(address, port):
    with _from(address, port) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    return answer.split(b"\r\n", 1)[0]


@pytest.fixture
def small_server(serve):
    return serve(HEARTLINK_MAX_CONNECTIONS="60", HEARTLINK_MAX_CONNECTIONS_PER_ADDRESS="10",
                 HEARTLINK_REQUEST_HEAD_TIMEOUT="3")


def test_half_open_requests_from_one_address_cannot_fill_the_worker(small_server):
    """Slowloris: half-sent requests never reach the WSGI guard, so one address filled eventlet's
    connection pool (a /healthz from elsewhere then waited 20 s). Connections are now counted per
    address as they are accepted: past twice the request cap they are closed at once, and
    another address is served."""
    attacker = []
    for _ in range(80):
        sock = _from("127.0.0.3", small_server.port)
        sock.sendall(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")  # and never the rest
        attacker.append(sock)
    assert _healthz_from("127.0.0.2", small_server.port).startswith(b"HTTP/1.1 200"), "another address waited"
    deadline = time.monotonic() + 5
    cut_off = sum(_closed_by_server(sock, deadline) for sock in attacker)
    assert cut_off >= 60, f"only {cut_off} of 80 were refused"
    for sock in attacker:
        sock.close()


def test_a_request_head_that_trickles_in_is_cut_off(small_server):
    """A header line now and then, each within the socket timeout, kept a request open forever;
    the whole head must now be in within REQUEST_HEAD_TIMEOUT (3 s here)."""
    began = time.monotonic()
    with _from("127.0.0.4", small_server.port) as sock:
        sock.sendall(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        closed = False
        for index in range(30):  # a line every 0.5 s for 15 s
            try:
                sock.sendall(f"X-Trickle-{index}: x\r\n".encode())
            except OSError:
                closed = True
                break
            if _closed_by_server(sock, time.monotonic() + 0.5):
                closed = True
                break
    assert closed and time.monotonic() - began < 12, "the trickled head was never cut off"
    assert _healthz_from("127.0.0.4", small_server.port).startswith(b"HTTP/1.1 200")


def test_one_address_cannot_open_engine_io_sessions_without_end(serve):
    """An anonymous handshake costs a session until the reaper closes it; 2,500 a second from one
    address took a worker past 1 GB. New sessions are now budgeted per address (20 in 10 s here)."""
    server = serve(HEARTLINK_HANDSHAKE_RATE="20/10")
    flooder = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10, source_address=("127.0.0.5", 0))
    statuses = []
    for _ in range(100):  # on one keep-alive connection, as fast as answers come
        flooder.request("GET", "/socket.io/?EIO=4&transport=polling")
        answer = flooder.getresponse()
        answer.read()
        statuses.append(answer.status)
    flooder.close()
    opened = statuses.count(200)
    assert 20 <= opened <= 30 and statuses.count(429) == 100 - opened, statuses
    # Another address opens its session as usual.
    other = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10, source_address=("127.0.0.6", 0))
    other.request("GET", "/socket.io/?EIO=4&transport=polling")
    assert other.getresponse().status == 200
    other.close()


def test_junk_request_lines_cannot_fill_the_log(serve):
    """eventlet's parser logged each bad request line (up to 8 KB) twice: 52 MB of log in 4.5 s
    from one address. Now a few short lines a minute per address."""
    server = serve()
    logged_before = server.log_path.stat().st_size
    for _ in range(200):
        with _from("127.0.0.7", server.port) as sock:
            sock.sendall(b"EVIL " + b"A" * 8000 + b"\r\n\r\n")
            sock.recv(100)
    assert _healthz_from("127.0.0.8", server.port).startswith(b"HTTP/1.1 200")
    logged = server.logged_since(logged_before)
    assert len(logged) < 5_000, f"{len(logged)} bytes of log for 200 junk requests"
    assert "AAAAAAAAAA" * 30 not in logged
