// People on socket.io-client, as a client author writes one from docs/protocol.md section 8:
// reconnection is left to the library (its default); after every connect the client rejoins
// its room with since_seq and resends its outbox with the same client_ids.
//
// A test drives it over JSON lines (support.ClientProcess in tests/support.py): `node person.js TRANSPORT`,
// commands on stdin, what happened on stdout. tests/clients/person.py is the same person on
// python-socketio.
"use strict";

const readline = require("node:readline");
const { io } = require("socket.io-client");

const transport = process.argv[2];

function report(event) {
  process.stdout.write(JSON.stringify(event) + "\n");
}

class Person {
  constructor(name, url, token, roomId) {
    this.name = name;
    this.roomId = roomId;
    this.seqs = new Set(); // every seq held: pushed, caught up, or one's own acked
    this.outbox = new Map(); // client_id -> text, not acked yet
    this.connects = 0;
    this.socket = io(url, {
      transports: [transport],
      forceNew: true, // one connection per person
      auth: { token },
      reconnectionDelay: 500,
      reconnectionDelayMax: 2000,
    });
    this.socket.on("connect", () => {
      this.connects += 1;
      report({ ev: "connect", name, n: this.connects });
      this.catchUp();
    });
    this.socket.on("disconnect", (reason) => report({ ev: "disconnect", name, reason }));
    // Refusals say why in data (docs/protocol.md): a suspended person's reconnect says "restricted".
    this.socket.on("connect_error", (error) => report({ ev: "connect_error", name, data: error.data ?? null }));
    this.socket.on("account:restricted", (data) => report({ ev: "restricted", name, data }));
    this.socket.on("message:new", ({ message }) => {
      this.seqs.add(message.seq);
      report({ ev: "message", name, seq: message.seq, sender_id: message.sender_id });
    });
  }

  heldSeq() {
    let held = 0;
    while (this.seqs.has(held + 1)) held += 1;
    return held;
  }

  async catchUp() {
    try {
      for (;;) {
        const ack = await this.socket.timeout(15000).emitWithAck(
          "room:join", { room_id: this.roomId, since_seq: this.heldSeq() });
        for (const message of ack.messages) this.seqs.add(message.seq);
        report({ ev: "caught_up", name: this.name, messages: ack.messages.map((m) => [m.seq, m.sender_id]) });
        if (!ack.has_more) break;
      }
      for (const clientId of this.outbox.keys()) this.emit(clientId);
    } catch (error) {
      // Lost again meanwhile: the next connect catches up.
      report({ ev: "error", name: this.name, what: `catch-up: ${error}` });
    }
  }

  send(clientId, text) {
    this.outbox.set(clientId, text);
    this.emit(clientId);
  }

  emit(clientId) {
    const text = this.outbox.get(clientId);
    // Not while disconnected (socket.io-client would buffer it): it goes out after the next connect.
    if (text === undefined || !this.socket.connected) return;
    this.socket.emit("message:send", { room_id: this.roomId, client_id: clientId, text }, (ack) => {
      if (!ack.ok) {
        report({ ev: "error", name: this.name, what: `send: ${JSON.stringify(ack)}` });
        setTimeout(() => this.emit(clientId), 1000); // as the page: try again
        return;
      }
      this.seqs.add(ack.message.seq);
      this.outbox.delete(clientId);
      report({ ev: "acked", name: this.name, client_id: clientId, seq: ack.message.seq });
    });
  }
}

const people = new Map();
const commands = readline.createInterface({ input: process.stdin });
commands.on("line", (line) => {
  const command = JSON.parse(line);
  if (command.op === "add") {
    people.set(command.name, new Person(command.name, command.url, command.token, command.room_id));
  } else if (command.op === "connect_again") {
    people.get(command.name).socket.connect(); // as a person pressing "try again"
  } else if (command.op === "send") {
    people.get(command.name).send(command.client_id, command.text);
  } else if (command.op === "quit") {
    commands.close();
  }
});
commands.on("close", () => {
  for (const person of people.values()) person.socket.close();
  process.exit(0);
});
