"""Helpers shared by the tests: accounts, sign-in through the real forms, a real server
process (`python app.py`) and a Socket.IO client that records what the server sends."""
import io
import json
import os
import queue
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import altcha
import requests
import socketio as socketio_client
import websocket

from config import BASE_DIR, TestConfig, sqlalchemy_url
from heartlink import create_app
from heartlink.domain import accounts, matching, messages
from heartlink.extensions import db
from heartlink.models import User, utcnow

PASSWORD = "correct-horse-battery"
ADULT = "1990-04-01"  # a date of birth of someone old enough
STARTUP_DEADLINE = 120  # seconds


def config_for(path, **extra):
    return type("PerTestConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", **extra})


def config_for_url(database_url, **extra):
    """TestConfig over a database URL as DATABASE_URL gives it (postgresql:// too)."""
    return type("UrlConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": sqlalchemy_url(database_url), **extra})


@contextmanager
def app_over(database_url, **extra):
    """An app over a database URL whose schema is migrated; its pool is closed after."""
    app = create_app(config_for_url(database_url, **extra))
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


class AuthActions:
    """Sign in and out through the real forms, CSRF token included."""

    def __init__(self, client):
        self._client = client

    def csrf_token(self, path="/login"):
        return csrf_of(self._client.get(path).get_data(as_text=True))

    def login(self, username, password=PASSWORD):
        return self._client.post("/login", data={
            "username": username, "password": password, "csrf_token": self.csrf_token()})

    def logout(self):
        return self._client.post("/logout", data={"csrf_token": self.csrf_token()})

    def challenge(self):
        """A sign-up challenge from the server, solved honestly: the form's `altcha` field."""
        return solve(self._client.get("/api/signup/challenge").get_json())

    def register(self, username, password=PASSWORD, birth_date=ADULT, **fields):
        """Sign up through the real form: the CSRF token, the date of birth and a solved challenge
        (`altcha=None` sends none)."""
        data = {"username": username, "password": password, "birth_date": birth_date,
                "csrf_token": self.csrf_token("/register"), **fields}
        if "altcha" not in fields:
            data["altcha"] = self.challenge()
        return self._client.post("/register", data={key: value for key, value in data.items() if value is not None})


def csrf_of(html):
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def register_over_http(http, url, username, password=PASSWORD, birth_date=ADULT, altcha_field=None):
    """Sign up on a live server through its form, with `http` (a requests.Session): the CSRF token,
    and a challenge fetched and solved unless `altcha_field` is given. Returns the response, not
    followed (302 to the lobby when it worked)."""
    token = csrf_of(http.get(url + "/register").text)
    if altcha_field is None:
        altcha_field = solve(http.get(url + "/api/signup/challenge").json())
    return http.post(url + "/register", allow_redirects=False, data={
        "username": username, "password": password, "birth_date": birth_date, "csrf_token": token,
        "altcha": altcha_field})


def solve(challenge):
    """The solution of a sign-up challenge (as the server handed it out), found by trying counters
    as the widget does: the `altcha` field's value."""
    parsed = altcha.Challenge.from_dict(challenge)
    solution = altcha.solve_challenge(parsed, timeout=60)
    assert solution is not None, "the challenge was not solved in time"
    return altcha.Payload(parsed, solution).to_base64()


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LiveServer:
    """`python app.py` on a free port: over a copy of the migrated SQLite schema (a path),
    or any database URL whose schema is already migrated."""

    started = []  # every server of this test process, for the failure report (conftest)

    def __init__(self, database, tmp_path, **settings):
        LiveServer.started.append(self)
        self.database_url = database if isinstance(database, str) else f"sqlite:///{database}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / f"server-{self.port}.log"
        self.env = {
            **os.environ,
            "HEARTLINK_ENV": "production",
            "SECRET_KEY": secrets.token_hex(16),
            "DATABASE_URL": self.database_url,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "HEARTLINK_UPLOAD_DIR": str(tmp_path / "uploads"),
            "HEARTLINK_ARGON2_MEMORY_KIB": "1024",
            "HEARTLINK_PRESENCE_GRACE": "1",
            "HEARTLINK_SWEEP_INTERVAL": "0.2",
            # Off unless a test turns it on: the other tests look at partners' names and pictures.
            "HEARTLINK_REVEAL_AFTER": "0",
            # The suite's parallel workers share one PostgreSQL (100 connections by default).
            "HEARTLINK_DB_POOL_SIZE": "2",
            "HEARTLINK_DB_POOL_OVERFLOW": "6",
            # Sign-up challenges cheap enough for a test to solve in Python; still checked.
            "HEARTLINK_SIGNUP_POW_COMPLEXITY": "100",
            **{key: str(value) for key, value in settings.items()},
        }
        # The server's database, for a test to read what the server stored (and make people).
        self.app = create_app(config_for_url(self.database_url))
        self.process = None
        self.start()

    def start(self):
        for _attempt in range(5):
            if self._launch():
                return
            # Another process took the free port between our probe and the server's bind.
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            self.env["PORT"] = str(self.port)
        raise RuntimeError(f"no free port after 5 tries: {self.log_path.read_text()[-2000:]}")

    def _launch(self):
        """Start the process and wait until it serves: True; False if its port was taken."""
        logged_before = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open(self.log_path, "ab") as log:  # the server keeps its own copy of the file
            self.process = subprocess.Popen([sys.executable, "app.py"], cwd=BASE_DIR, env=self.env,
                                            stdout=log, stderr=subprocess.STDOUT)
        # A deadline, not a speed check: on a busy machine a cold start takes a while.
        deadline = time.monotonic() + STARTUP_DEADLINE
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.logged_since(logged_before)
                if "Address already in use" in output:
                    return False
                raise RuntimeError(f"server exited: {output[-2000:]}")
            try:
                # Serving, and bound by this process: another one may hold the port.
                serving = requests.get(self.url + "/login", timeout=5).status_code == 200
                if serving and "Heart Link serving on" in self.logged_since(logged_before):
                    return True
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.kill()  # not left running behind the failure
        raise RuntimeError(f"server did not start in {STARTUP_DEADLINE} s: {self.log_path.read_text()[-2000:]}")

    def logged_since(self, offset):
        """What the server logged after `offset` bytes of its log."""
        with open(self.log_path, "rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")

    def health(self):
        """The status code /healthz answers, or None when the server does not answer."""
        try:
            return requests.get(self.url + "/healthz", timeout=3).status_code
        except requests.RequestException:
            return None

    def kill(self):
        self.process.kill()
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()

    def make_user(self, username, display_name=None, joined_days_ago=0):
        """An account as an operator makes one (vouched for); `joined_days_ago` makes it an older one,
        past the time a new account's links are held back."""
        with self.app.app_context():
            user = accounts.create_user(username, PASSWORD, display_name, vouched=True)  # as an operator would
            if joined_days_ago:
                db.session.execute(db.update(User).where(User.id == user.id)
                                   .values(created_at=utcnow() - timedelta(days=joined_days_ago)))
                db.session.commit()
            return user.id

    def link(self, first_id, second_id):
        """Two people paired through the match queue, without sockets; returns their room's id."""
        with self.app.app_context():
            return match(first_id, second_id).id

    def token(self, username, password=PASSWORD):
        response = requests.post(self.url + "/api/token", json={"username": username, "password": password})
        response.raise_for_status()
        return response.json()["token"]

    def connect(self, username, token=None, **kwargs):
        """A python-socketio client over websocket, signed in with a bearer token."""
        client = EventClient()
        client.connect(self.url, auth={"token": token or self.token(username)}, **kwargs)
        return client

    def close(self):
        self.stop()
        with self.app.app_context():
            db.engine.dispose()


class EventClient(socketio_client.Client):
    """A Socket.IO client that records every server event for the test to await."""

    def __init__(self):
        super().__init__(reconnection=False)
        self.events = queue.Queue()
        self.closed = threading.Event()  # set when the server closes the socket (or we do)
        self.closed_at = None  # when, in naive UTC as the database keeps time
        self.on("*", lambda event, *args: self.events.put((event, args[0] if args else None)))
        self.on("disconnect", self._on_close)

    def _on_close(self, *_reason):
        self.closed_at = datetime.now(UTC).replace(tzinfo=None)
        self.closed.set()

    def connect(self, url, **kwargs):
        kwargs.setdefault("transports", ["websocket"])
        kwargs.setdefault("wait_timeout", 10)
        super().connect(url, **kwargs)

    def ask(self, event, payload=None, timeout=10):
        return self.call(event, payload if payload is not None else {}, timeout=timeout)

    def send_text(self, room_id, text, client_id=None, timeout=10):
        """message:send of a text; its ack, whatever it says."""
        return self.ask("message:send", {"room_id": room_id, "client_id": client_id or str(uuid.uuid4()),
                                         "text": text}, timeout=timeout)

    def timed_ask(self, event, payload=None, timeout=10):
        """(sent, acked, ack) on this machine's monotonic clock: the server acted between the two."""
        sent = time.monotonic()
        ack = self.ask(event, payload, timeout)
        return sent, time.monotonic(), ack

    def wait_for(self, event, match=lambda data: True, timeout=10):
        """The next `event` whose data satisfies `match`; events before it are passed over."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {event} within {timeout} s")
            try:
                name, data = self.events.get(timeout=remaining)
            except queue.Empty:
                continue
            if name == event and match(data):
                return data

    def drain(self, event):
        """Every `event` received so far, without waiting."""
        found = []
        while True:
            try:
                name, data = self.events.get_nowait()
            except queue.Empty:
                return found
            if name == event:
                found.append(data)


def eventually(condition, timeout=5, what="condition", interval=0.05):
    """Poll a condition nothing announces (a row the server writes), with a deadline;
    `what` names the condition in the failure."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(interval)


def upload(client, room_id, data, kind, filename="upload.bin"):
    """An attachment upload through a signed-in HTTP test client, as the page sends it."""
    token = AuthActions(client).csrf_token()
    return client.post(f"/api/rooms/{room_id}/attachments", headers={"X-CSRFToken": token},
                       data={"kind": kind, "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def received_by_event(client):
    """What a Flask-SocketIO test client has received since it was last asked: {event: [data, ...]}."""
    found = {}
    for event in client.get_received():
        found.setdefault(event["name"], []).append(event["args"][0] if event["args"] else None)
    return found


def received(client, event):
    """The data of each `event` a Flask-SocketIO test client has received since it was last
    asked. Asking empties the client's list: the other events received are gone with it."""
    return received_by_event(client).get(event, [])


def send_text(client, room_id, text="hello", client_id=None):
    """message:send of a text from a Flask-SocketIO test client; its ack, whatever it says."""
    return client.emit("message:send", {"room_id": room_id, "client_id": client_id or str(uuid.uuid4()),
                                        "kind": "text", "text": text}, callback=True)


def bearer_headers(client, username, password=PASSWORD):
    """Headers that sign a request in with an API token, got through an HTTP test client."""
    token = client.post("/api/token", json={"username": username, "password": password}).get_json()["token"]
    return {"Authorization": f"Bearer {token}"}


def store_message(room_id, sender_id, client_id, kind="text", text=None, reply_to=None, attachment_id=None):
    """Store one message as the writer would (inside an app context): its Sent outcome. A
    client_id already stored gives the stored message with duplicate=True."""
    one = messages.draft(room_id, sender_id, client_id, kind, text, reply_to, attachment_id)
    messages.store([one])
    return one.outcome()


def store_text(room_id, sender_id, text="hi"):
    """One text message stored as the writer would (inside an app context): its Sent outcome."""
    return store_message(room_id, sender_id, str(uuid.uuid4()), "text", text)


def server_memory(server, field="VmRSS"):
    """Bytes of the server process's memory: VmRSS now, or VmHWM, the peak so far."""
    with open(f"/proc/{server.process.pid}/status") as status:
        line = next(line for line in status if line.startswith(f"{field}:"))
    return int(line.split()[1]) * 1024


def assert_kept_up(latencies):
    """Other people's acks kept coming during an attack: generous bounds, not a benchmark."""
    ordered = sorted(latencies)
    assert ordered, "no ack completed during the attack"
    assert ordered[int(len(ordered) * 0.9)] < 1.0 and ordered[-1] < 2.0, ordered[-10:]


def match(first_id, second_id):
    """Two people paired through the match queue (inside an app context): the first
    waits, the second is matched with them. Returns their room."""
    assert matching.start(first_id)[0] == "waiting"
    state, room = matching.start(second_id)
    assert state == "matched", state
    return room


def link_test_clients(sock, first="alice", second="bob"):
    """Two people on Flask-SocketIO test clients (the `sock` fixture), matched:
    (first's client, second's client, room_id, ids by username)."""
    a, b = sock(first), sock(second)
    waiting = a.emit("match:start", {}, callback=True)
    assert waiting["ok"] and waiting["state"] == "waiting" and waiting["expires_at"].endswith("Z"), waiting
    ack = b.emit("match:start", {}, callback=True)
    assert ack["ok"] and ack["state"] == "matched", ack
    room = ack["room"]
    return a, b, room["id"], {member["username"]: member["id"] for member in room["members"]}


def link_clients(server, first="alice", second="bob", across=None):
    """Two people signed in over real websockets and matched; returns (a, b, room_id).
    The second connects to `across` (another worker) when given. Use the `linked` fixture."""
    server.make_user(first)
    server.make_user(second)
    a, b = server.connect(first), (across or server).connect(second)
    assert a.ask("match:start")["state"] == "waiting"
    ack = b.ask("match:start")
    assert ack["ok"] and ack["state"] == "matched"
    room_id = ack["room"]["id"]
    found = a.wait_for("match:found")
    assert found["room"]["id"] == room_id
    return a, b, room_id


def burst_from_both_sides(first, second, per_person=30):
    """Both people send at once as fast as acks come back; returns their acked seqs."""
    acked, errors = [], []

    def send_all(client, name):
        for index in range(per_person):
            ack = client.ask("message:send", {"room_id": first.room_id, "client_id": str(uuid.uuid4()),
                                              "text": f"{name} {index}"})
            (acked if ack["ok"] else errors).append(ack.get("message", {}).get("seq", ack))

    threads = [threading.Thread(target=send_all, args=(first, "a")), threading.Thread(target=send_all,
                                                                                       args=(second, "b"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors and len(acked) == 2 * per_person
    return sorted(acked)


def received_seqs(client, count, timeout=20):
    """The seqs of the next `count` message:new events, in the order they arrived."""
    return [client.wait_for("message:new", timeout=timeout)["message"]["seq"] for _ in range(count)]


def raw_socket(server, token):
    """A websocket speaking Engine.IO 4 by hand, connected to the default namespace."""
    ws = websocket.create_connection(
        server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket", timeout=5)
    assert ws.recv().startswith("0")  # engine.io open
    ws.send("40" + json.dumps({"token": token}))
    assert ws.recv().startswith("40")  # socket.io connect
    return ws


def browser_session(server, username):
    """A requests session signed in through the login form, like a browser."""
    http = requests.Session()
    page = http.get(server.url + "/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    http.post(server.url + "/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    # Signing in starts a new session, and with it a new CSRF token.
    page = http.get(server.url + "/login").text
    return http, re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


@contextmanager
def two_workers_sharing(database_url, redis_url, tmp_path, **settings):
    """Workers w1 and w2 over one database and one Redis channel, with one SECRET_KEY (a token from
    either works on both), closed afterwards."""
    shared = {"SOCKETIO_MESSAGE_QUEUE": redis_url, "SECRET_KEY": secrets.token_hex(16),
              "HEARTLINK_SOCKETIO_CHANNEL": f"heartlink-test-{secrets.token_hex(4)}", **settings}
    started = []
    try:
        for name in ("w1", "w2"):
            started.append(LiveServer(database_url, tmp_path, HEARTLINK_WORKER_ID=name, **shared))
        yield started
    finally:
        for server in started:
            server.close()


def crowd(workers, names, drivers=4):
    """Accounts for `names`, and a python-socketio client for each, signed in with a token on the
    workers in turn (`drivers` connecting at once). Returns the clients, in the order of `names`."""
    for name in names:
        workers[0].make_user(name)

    def connect(index):
        client = EventClient()
        server = workers[index % len(workers)]
        client.connect(server.url, auth={"token": server.token(names[index])})
        return client

    with ThreadPoolExecutor(drivers) as pool:
        return list(pool.map(connect, range(len(names))))


def fresh_names(prefix):
    """Two usernames no other test on a shared server has used."""
    tag = uuid.uuid4().hex[:6]
    return f"{prefix}a{tag}", f"{prefix}b{tag}"


class ClientProcess:
    """People on an official Socket.IO client in a process of their own, written as a client
    author would from docs/protocol.md: tests/clients/person.py (python-socketio's Client) or
    tests/clients/person.js (socket.io-client). Reconnection is the library's; after every
    connect each person rejoins its room with since_seq and resends its outbox.

    JSON lines: commands on the process's stdin ({"op": "add", name, url, token, room_id},
    {"op": "send", name, client_id, text}, {"op": "connect_again", name}, {"op": "quit"}); on its
    stdout, what happened (ev: connect, disconnect, caught_up, message, acked, error, restricted,
    connect_error), gathered here per person.
    pause() and resume() freeze the whole process (SIGSTOP), as a suspended laptop."""

    SCRIPTS = {"python": [sys.executable, "person.py"], "js": ["node", "person.js"]}
    # One for all processes: a test may wait for people of several at once.
    _changed = threading.Condition()

    def __init__(self, language, log_path, transport="websocket"):
        self.language, self.log_path = language, log_path
        self.people = {}
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen([*self.SCRIPTS[language], transport], cwd=BASE_DIR / "tests" / "clients",
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
                                            bufsize=1)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.process.stdout:
            event = json.loads(line)
            with self._changed:
                person = self.people[event["name"]]
                kind = event["ev"]
                if kind == "connect":
                    person["connects"] += 1
                elif kind == "disconnect":
                    person["disconnects"].append(event["reason"])
                elif kind == "message":
                    person["received"].add((event["seq"], event["sender_id"]))
                elif kind == "caught_up":
                    person["received"].update((seq, sender) for seq, sender in event["messages"])
                    person["catch_ups"] += 1
                elif kind == "acked":
                    person["acked"][event["client_id"]] = event["seq"]
                elif kind == "error":
                    person["errors"].append(event["what"])
                elif kind == "restricted":
                    person["restricted"].append(event["data"])
                elif kind == "connect_error":
                    person["refusals"].append(event["data"])
                self._changed.notify_all()

    def _command(self, **command):
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()

    def add(self, name, server, room_id, user_id):
        """A person signed in on `server` with a token, in `room_id`; returns once connected."""
        with self._changed:
            self.people[name] = {"name": name, "user_id": user_id, "client": self.language, "connects": 0,
                                 "catch_ups": 0, "disconnects": [], "received": set(), "acked": {}, "sent": [],
                                 "errors": [], "restricted": [], "refusals": []}
        self._command(op="add", name=name, url=server.url, token=server.token(name), room_id=room_id)
        self.wait(lambda: self.people[name]["catch_ups"] >= 1, 30, f"{name} connects and joins its room")

    def connect_again(self, name):
        """The person's client connects again by hand (after a close the server meant as final)."""
        self._command(op="connect_again", name=name)

    def send(self, name, text):
        client_id = str(uuid.uuid4())
        with self._changed:
            self.people[name]["sent"].append(client_id)
        self._command(op="send", name=name, client_id=client_id, text=text)

    def wait(self, condition, timeout, what):
        """Until `condition()` holds (checked whenever the process reports something)."""
        with self._changed:
            if not self._changed.wait_for(condition, timeout):
                raise AssertionError(f"{what}: not within {timeout} s; {self.language} clients: {self.summary()}; "
                                     f"their stderr ends: {self.log_path.read_text(errors='replace')[-1500:]!r}")

    def summary(self):
        """Per person: connects, catch-ups, sends acked of sent, why each connection ended."""
        return {name: f"{p['connects']} connects, {p['catch_ups']} catch-ups, {len(p['acked'])}/{len(p['sent'])} "
                      f"acked, disconnects {p['disconnects']}, errors {p['errors'][-2:]}"
                for name, p in self.people.items()}

    def pause(self):
        self.process.send_signal(signal.SIGSTOP)

    def resume(self):
        self.process.send_signal(signal.SIGCONT)

    def close(self):
        self.resume()
        try:
            self._command(op="quit")
            self.process.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        self._reader.join(5)
        self.process.stdin.close()
        self.process.stdout.close()


class Proxy:
    """A TCP proxy on 127.0.0.1 to one port. cut() drops every connection through it and
    refuses new ones (the engine looks down or restarting); restore() accepts again."""

    def __init__(self, target_port):
        self.target = ("127.0.0.1", target_port)
        self.port = None
        self.connections = set()
        self.accepted = 0
        self._lock = threading.Lock()
        self._listener = None
        self.restore()

    def restore(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port or 0))
        listener.listen(512)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self):
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)  # wakes the accept thread, which closes it
            except OSError:
                pass
        with self._lock:
            pairs = list(self.connections)
        for pair in pairs:
            self._shut(pair)

    def close(self):
        self.cut()

    @staticmethod
    def _shut(pair):
        # Only shut down here: a socket is closed by the last pump thread using it, so that
        # no thread is ever blocked on a file descriptor that a new connection reuses.
        for conn in pair:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _accept(self, listener):
        while True:
            try:
                downstream, _ = listener.accept()
            except OSError:
                listener.close()
                return  # cut
            try:
                upstream = socket.create_connection(self.target, timeout=3)
                upstream.settimeout(None)
            except OSError:
                downstream.close()
                continue
            pair = (downstream, upstream)
            with self._lock:
                if self._listener is not listener:  # cut while connecting
                    downstream.close(), upstream.close()
                    continue
                self.connections.add(pair)
                self.accepted += 1
            running = [2]
            for source, sink in ((downstream, upstream), (upstream, downstream)):
                threading.Thread(target=self._pump, args=(source, sink, pair, running), daemon=True).start()

    def _pump(self, source, sink, pair, running):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        self._shut(pair)
        with self._lock:
            running[0] -= 1
            if running[0] == 0:
                self.connections.discard(pair)
                for conn in pair:
                    conn.close()
