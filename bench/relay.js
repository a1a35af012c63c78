// The Node.js peer of the benchmark: a bare socket.io server that relays chat the way Heart Link
// answers it on the wire, with no accounts and no database (see bench/relay_py.py, its twin).
//
//   node bench/relay.js PORT
//
// match:start {code}  pairs the two sockets that gave the same code: {ok, state:"waiting"} to the
//                     first, {ok, state:"matched", room:{id}} to the second, match:found to the first
// room:join {room_id} enters the room (only its two sockets): {ok, room:{id}, messages:[]}
// message:send        message:new {message:{client_id, seq, room_id, text, sender_id}} to the
//                     partner, ack {ok, message, duplicate:false}
"use strict";

const crypto = require("node:crypto");
const http = require("node:http");
const { Server } = require("socket.io");

const port = Number(process.argv[2]);
const waiting = new Map(); // code -> socket
const rooms = new Map(); // room id -> {members: [sid, sid], seq}

const httpServer = http.createServer({ noDelay: true }); // as Heart Link sets TCP_NODELAY
const server = new Server(httpServer, { transports: ["websocket", "polling"] });

function ack(callback, answer) {
  if (typeof callback === "function") callback(answer);
}

server.on("connection", (socket) => {
  socket.on("match:start", (payload, callback) => {
    const code = payload && payload.code;
    const other = waiting.get(code);
    if (!other || other.id === socket.id || !other.connected) {
      waiting.set(code, socket);
      return ack(callback, { ok: true, state: "waiting" });
    }
    waiting.delete(code);
    const room = { id: crypto.randomUUID() };
    rooms.set(room.id, { members: [other.id, socket.id], seq: 0 });
    other.emit("match:found", { room });
    ack(callback, { ok: true, state: "matched", room });
  });

  socket.on("room:join", (payload, callback) => {
    const room = rooms.get(payload && payload.room_id);
    if (!room || !room.members.includes(socket.id)) {
      return ack(callback, { ok: false, error: { code: "forbidden", message: "Not your room." } });
    }
    socket.join(payload.room_id);
    ack(callback, { ok: true, room: { id: payload.room_id }, messages: [], has_more: false, receipts: {} });
  });

  socket.on("message:send", (payload, callback) => {
    const room = rooms.get(payload && payload.room_id);
    if (!room || !room.members.includes(socket.id)) {
      return ack(callback, { ok: false, error: { code: "forbidden", message: "Not your room." } });
    }
    room.seq += 1;
    const message = { client_id: payload.client_id, seq: room.seq, room_id: payload.room_id,
      text: payload.text, sender_id: socket.id };
    socket.to(payload.room_id).emit("message:new", { message });
    ack(callback, { ok: true, message, duplicate: false });
  });
});

httpServer.listen(port, "127.0.0.1", () => {
  console.error(`node relay serving on http://127.0.0.1:${port}`);
});
