"""People on python-socketio's Client, as a client author writes one from docs/protocol.md
section 8: reconnection is left to the library (reconnection=True); after every connect the
client rejoins its room with since_seq and resends its outbox with the same client_ids.

A test drives it over JSON lines (support.ClientProcess): `python person.py TRANSPORT`,
commands on stdin, what happened on stdout. tests/clients/person.js is the same person
on socket.io-client.
"""
import json
import sys
import threading

import socketio

_print_lock = threading.Lock()


def report(**event):
    with _print_lock:
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()


class Person:
    def __init__(self, name, url, token, room_id, transport):
        self.name, self.room_id = name, room_id
        self.lock = threading.Lock()
        self.seqs = set()   # every seq held: pushed, caught up, or one's own acked
        self.outbox = {}    # client_id -> text, not acked yet
        self.connects = 0
        self.client = socketio.Client(reconnection=True, reconnection_delay=0.5, reconnection_delay_max=2)
        self.client.on("connect", self._on_connect)
        self.client.on("disconnect", self._on_disconnect)
        self.client.on("message:new", self._on_message)
        # Refusals say why in data (docs/protocol.md): a suspended person's reconnect says "restricted".
        self.client.on("connect_error", lambda data=None: report(ev="connect_error", name=name, data=data))
        self.client.on("account:restricted", lambda data: report(ev="restricted", name=name, data=data))
        self.url, self.token, self.transport = url, token, transport
        self.connect()

    def connect(self):
        self.client.connect(self.url, auth={"token": self.token}, transports=[self.transport], wait_timeout=10)

    def connect_again(self):
        """As a person pressing "try again"; a refusal is reported by the connect_error handler."""
        try:
            self.connect()
        except socketio.exceptions.ConnectionError:
            pass

    def held_seq(self):
        """lastSeq of docs/protocol.md: up to here every message is held."""
        with self.lock:
            held = 0
            while held + 1 in self.seqs:
                held += 1
            return held

    def _on_connect(self):
        self.connects += 1
        report(ev="connect", name=self.name, n=self.connects)
        # Not in the handler itself: the catch-up waits for acks the read loop delivers.
        self.client.start_background_task(self._catch_up)

    def _on_disconnect(self, reason=None):
        report(ev="disconnect", name=self.name, reason=str(reason))

    def _on_message(self, data):
        message = data["message"]
        with self.lock:
            self.seqs.add(message["seq"])
        report(ev="message", name=self.name, seq=message["seq"], sender_id=message["sender_id"])

    def _catch_up(self):
        try:
            while True:
                ack = self.client.call("room:join", {"room_id": self.room_id, "since_seq": self.held_seq()},
                                       timeout=15)
                with self.lock:
                    self.seqs.update(m["seq"] for m in ack["messages"])
                report(ev="caught_up", name=self.name,
                       messages=[[m["seq"], m["sender_id"]] for m in ack["messages"]])
                if not ack.get("has_more"):
                    break
            with self.lock:
                waiting = list(self.outbox)
            for client_id in waiting:
                self._emit(client_id)
        except Exception as error:  # noqa: BLE001 - lost again meanwhile: the next connect catches up
            report(ev="error", name=self.name, what=f"catch-up: {error!r}")

    def send(self, client_id, text):
        with self.lock:
            self.outbox[client_id] = text
        self._emit(client_id)

    def _emit(self, client_id):
        with self.lock:
            text = self.outbox.get(client_id)
        if text is None or not self.client.connected:
            return  # acked meanwhile, or it goes out after the next connect
        try:
            self.client.emit("message:send", {"room_id": self.room_id, "client_id": client_id, "text": text},
                             callback=lambda ack: self._on_ack(client_id, ack))
        except Exception:  # noqa: BLE001 - not connected any more: it goes out after the next connect
            pass

    def _on_ack(self, client_id, ack):
        if not ack.get("ok"):
            report(ev="error", name=self.name, what=f"send: {ack}")
            threading.Timer(1, self._emit, args=(client_id,)).start()  # as the page: try again
            return
        seq = ack["message"]["seq"]
        with self.lock:
            self.seqs.add(seq)
            self.outbox.pop(client_id, None)
        report(ev="acked", name=self.name, client_id=client_id, seq=seq)


def main(transport):
    people = {}
    for line in sys.stdin:
        command = json.loads(line)
        op = command["op"]
        if op == "add":
            people[command["name"]] = Person(command["name"], command["url"], command["token"],
                                             command["room_id"], transport)
        elif op == "connect_again":
            people[command["name"]].connect_again()
        elif op == "send":
            people[command["name"]].send(command["client_id"], command["text"])
        elif op == "quit":
            break
    for person in people.values():
        person.client.reconnection = False
        person.client.disconnect()


if __name__ == "__main__":
    main(sys.argv[1])
