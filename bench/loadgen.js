// One load-generator process of the benchmark (bench/run.py starts several).
//
// It speaks only the wire protocol, with the official socket.io-client over websocket, so it
// drives Heart Link and the two relays (bench/relay_py.py, bench/relay.js) by the same code path;
// `noToken` skips POST /api/token for the relays, which have no accounts.
//
// Talks to the orchestrator in JSON lines: it prints {"type":"hello"}, reads {"cmd":"connect"},
// sets up its share, prints {"type":"ready"}, reads {"cmd":"go", t0}, runs until t0 + seconds,
// drains, prints {"type":"result"} and exits. If stdin closes it exits at once.
//
//   node bench/loadgen.js CONFIG.json
//
// Roles (config.role):
//   chat      its pairs (both people of a pair in this process, one clock) match on a code of
//             their own, join the room and each send at `rate` msg/s, one unacked send at a time.
//   capacity  `accounts` idle authenticated sockets, held for `seconds`.
//   storm     rounds of `stormSize` concurrent POST /api/token with the real password.
//   matching  `accounts` sockets, each asking match:start with its own `ask` payload (interests,
//             languages) at its own `at` ms after t0; each person's time from its ask to its
//             room (the ack's, or match:found's, whichever comes first).
"use strict";

const crypto = require("node:crypto");
const readline = require("node:readline");
const { monitorEventLoopDelay, performance } = require("node:perf_hooks");
const { io } = require("socket.io-client");

const config = JSON.parse(require("node:fs").readFileSync(process.argv[2], "utf8"));
const HTTP_TIMEOUT_MS = config.httpTimeoutMs || 120000;

// Resolves once the line is handed to the OS: a big result must not be cut short by exit().
function send(line) {
  return new Promise((resolve) => process.stdout.write(JSON.stringify(line) + "\n", resolve));
}

function roundAll(samples) {
  return samples.map((ms) => Math.round(ms * 100) / 100);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

// --- wire helpers --------------------------------------------------------------------------

async function token(url, username) {
  const response = await fetch(url + "/api/token", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password: config.password }),
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
  });
  const body = await response.json().catch(() => ({}));
  if (response.status !== 200 || !body.token) {
    throw new Error(`token for ${username}: HTTP ${response.status} ${JSON.stringify(body).slice(0, 200)}`);
  }
  return body.token;
}

function connect(url, authToken) {
  return new Promise((resolve, reject) => {
    const socket = io(url, {
      transports: ["websocket"],
      forceNew: true, // one connection per person (the client would otherwise share one)
      reconnection: false,
      timeout: config.connectTimeoutMs || 120000,
      auth: authToken ? { token: authToken } : {},
    });
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (error) => {
      socket.close();
      reject(new Error(`connect_error: ${error.message} ${JSON.stringify(error.data || {})}`));
    });
  });
}

function ask(socket, event, payload, timeoutMs) {
  return new Promise((resolve, reject) => {
    socket.timeout(timeoutMs).emit(event, payload, (error, answer) => {
      if (error) reject(new Error(`${event}: no ack in ${timeoutMs} ms`));
      else if (!answer || answer.ok !== true) reject(new Error(`${event}: ${JSON.stringify(answer).slice(0, 200)}`));
      else resolve(answer);
    });
  });
}

// Run `work(item)` over items with at most `limit` at a time; resolves when all are settled.
// Setups can take minutes (every sign-in hashes a password): tell the orchestrator every 10 s.
async function pool(items, limit, work) {
  let next = 0;
  let done = 0;
  const progress = setInterval(() => send({ type: "progress", done, of: items.length }), 10000);
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++];
      await work(item);
      done += 1;
    }
  });
  await Promise.all(runners);
  clearInterval(progress);
}

// --- measurement of this process -----------------------------------------------------------

// The histogram's samples include its own timer period; lag is what comes on top of it.
const LOOP_RESOLUTION_MS = 10;

function lagMs(nanoseconds) {
  return Math.max(0, nanoseconds / 1e6 - LOOP_RESOLUTION_MS);
}

function selfMeter() {
  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  let cpu0, wall0;
  return {
    start() {
      loop.reset();
      loop.enable();
      cpu0 = process.cpuUsage();
      wall0 = performance.now();
    },
    stop() {
      loop.disable();
      const cpu = process.cpuUsage(cpu0);
      const wallMs = performance.now() - wall0;
      const cpuPct = ((cpu.user + cpu.system) / 1000 / wallMs) * 100;
      const lagP99 = lagMs(loop.percentile(99));
      const lagMax = lagMs(loop.max);
      // One Node process is one core: near a full core, or an event loop too late to send on
      // time, means the numbers describe this process rather than the server. (High lag at low
      // CPU means the machine did not give this process a core: as bad.)
      const saturatedBy = cpuPct > (config.saturationCpuPct || 85) ? "cpu"
        : lagP99 > (config.saturationLagMs || 50) ? "event-loop lag" : null;
      return {
        cpu_pct: round(cpuPct),
        loop_lag_p50_ms: round(lagMs(loop.percentile(50))),
        loop_lag_p99_ms: round(lagP99),
        loop_lag_max_ms: round(lagMax),
        saturated: saturatedBy !== null,
        saturated_by: saturatedBy,
      };
    },
  };
}

function round(value) {
  return Math.round(value * 1000) / 1000;
}

// --- roles -----------------------------------------------------------------------------------

class Person {
  constructor(username, url) {
    this.username = username;
    this.url = url;
    this.socket = null;
    this.sent = 0;
    this.acked = 0;
    this.errors = {};
    this.pending = new Map(); // client_id -> {sentAt, acked}
    this.maxSeq = new Map(); // room_id -> highest seq received in message:new
    this.disconnects = 0;
  }
}

const debug = process.env.BENCH_DEBUG ? (...args) => console.error(new Date().toISOString(), ...args) : () => {};

async function setUpPair(pair, stats) {
  const [first, second] = pair.people;
  for (const person of pair.people) {
    debug("token", person.username);
    const authToken = config.noToken ? null : await token(person.url, person.username);
    debug("connect", person.username);
    person.socket = await connect(person.url, authToken);
    debug("connected", person.username);
    person.socket.on("disconnect", (reason) => {
      if (!stats.closing && !person.closedByUs) {
        person.disconnects += 1;
        stats.disconnectReasons[reason] = (stats.disconnectReasons[reason] || 0) + 1;
      }
    });
  }
  const timeout = config.askTimeoutMs || 120000;
  const waiting = await ask(first.socket, "match:start", { code: pair.code }, timeout);
  if (waiting.state === "matched") throw new Error(`match:start: first of pair ${pair.code} matched at once`);
  const matched = await ask(second.socket, "match:start", { code: pair.code }, timeout);
  if (matched.state !== "matched") throw new Error(`match:start: ${JSON.stringify(matched).slice(0, 200)}`);
  pair.roomId = matched.room.id;
  await ask(first.socket, "room:join", { room_id: pair.roomId }, timeout);
  await ask(second.socket, "room:join", { room_id: pair.roomId }, timeout);
}

function listen(receiver, sender, stats) {
  receiver.socket.on("message:new", (data) => {
    const now = performance.now();
    const message = (data && data.message) || {};
    const record = sender.pending.get(message.client_id);
    if (!record) {
      stats.unknownDeliveries += 1;
      return;
    }
    record.deliveries += 1;
    if (record.deliveries > 1) {
      stats.duplicated += 1;
      return;
    }
    const highest = receiver.maxSeq.get(message.room_id) || 0;
    if (typeof message.seq !== "number" || message.seq <= highest) stats.outOfOrder += 1;
    else receiver.maxSeq.set(message.room_id, message.seq);
    stats.delivered += 1;
    if (now <= stats.endPerf) stats.deliveredInPhase += 1;
    stats.deliveryMs.push(now - record.sentAt);
    if (config.receipts) {
      // As the page does for a message it shows: delivered, then read (acks not awaited).
      const mark = { room_id: message.room_id, up_to_seq: message.seq };
      receiver.socket.emit("message:delivered", mark);
      receiver.socket.emit("message:read", mark);
    }
  });
}

async function talk(person, pair, t0Perf, endPerf, stats) {
  const interval = 1000 / config.rate;
  // Everyone starts at a random point of the first interval, not all in the same millisecond.
  let nextAt = t0Perf + Math.random() * interval;
  let index = 0;
  while (true) {
    await sleep(nextAt - performance.now());
    if (performance.now() >= endPerf) return;
    const clientId = crypto.randomUUID();
    const record = { sentAt: performance.now(), acked: false, deliveries: 0 };
    person.pending.set(clientId, record);
    person.sent += 1;
    const payload = { room_id: pair.roomId, client_id: clientId, kind: "text", text: `${person.username} ${index++}` };
    const answer = await new Promise((resolve) => {
      person.socket.timeout(stats.ackDeadlineMs(record.sentAt)).emit("message:send", payload, (error, ack) =>
        resolve(error ? null : ack));
    });
    if (answer === null) {
      stats.ackTimeouts += 1;
      return; // still unacked at the drain deadline: this person stops
    }
    if (answer.ok === true) {
      record.acked = true;
      person.acked += 1;
      stats.ackMs.push(performance.now() - record.sentAt);
    } else {
      const code = (answer.error && answer.error.code) || "unknown";
      person.errors[code] = (person.errors[code] || 0) + 1;
    }
    nextAt = Math.max(nextAt + interval, performance.now()); // pace; a late ack delays the next send
  }
}

async function runChat(commands) {
  const stats = {
    closing: false, delivered: 0, deliveredInPhase: 0, endPerf: Infinity, duplicated: 0, outOfOrder: 0, unknownDeliveries: 0, ackTimeouts: 0,
    ackMs: [], deliveryMs: [], disconnectReasons: {}, setupErrors: [],
  };
  const pairs = config.pairs.map((pair) => ({
    code: pair.code,
    people: pair.people.map((person) => new Person(person.username, person.url)),
  }));
  await commands.next("connect");
  const setupStarted = performance.now();
  const ready = [];
  await pool(pairs, config.setupConcurrency || 4, async (pair) => {
    try {
      await withDeadline(setUpPair(pair, stats), config.setupDeadlineMs, "setup");
      const [first, second] = pair.people;
      listen(first, second, stats);
      listen(second, first, stats);
      ready.push(pair);
    } catch (error) {
      stats.setupErrors.push(String(error.message || error));
      for (const person of pair.people) {
        person.closedByUs = true;
        if (person.socket) person.socket.close();
      }
    }
  });
  send({ type: "ready", pairs: ready.length, connections: ready.length * 2,
    setup_ms: performance.now() - setupStarted, setup_errors: stats.setupErrors.slice(0, 5),
    setup_error_count: stats.setupErrors.length });

  const go = await commands.next("go");
  const t0Perf = performance.now() + (go.t0 - Date.now());
  const endPerf = t0Perf + config.seconds * 1000;
  stats.endPerf = endPerf;
  const drainEnd = endPerf + config.drainSeconds * 1000;
  stats.ackDeadlineMs = (sentAt) => Math.max(1, drainEnd - sentAt);
  const meter = selfMeter();
  await sleep(t0Perf - performance.now());
  meter.start();
  const senders = [];
  for (const pair of ready) {
    for (const [slot, person] of pair.people.entries()) {
      if (config.senders === "first" && slot > 0) continue;
      senders.push(talk(person, pair, t0Perf, endPerf, stats));
    }
  }
  await Promise.all(senders);
  const self = meter.stop(); // the send phase (and any wait for late acks), not the drain
  // Drain: wait, up to the deadline, until every acked message has reached the partner.
  const everyone = ready.flatMap((pair) => pair.people);
  const outstanding = () => everyone.reduce((sum, person) => {
    for (const record of person.pending.values()) if (record.acked && record.deliveries === 0) sum += 1;
    return sum;
  }, 0);
  while (outstanding() > 0 && performance.now() < drainEnd) await sleep(20);

  // Acked and never delivered is lost, unless the partner's socket had dropped (then nobody could
  // have received it there; it is counted apart, with the disconnects).
  const totals = { sent: 0, acked: 0, lost: 0, partnerGone: 0, errors: {} };
  for (const pair of ready) {
    for (const [slot, person] of pair.people.entries()) {
      const partner = pair.people[1 - slot];
      for (const record of person.pending.values()) {
        if (!record.acked || record.deliveries > 0) continue;
        if (partner.disconnects > 0) totals.partnerGone += 1;
        else totals.lost += 1;
      }
    }
  }
  for (const person of everyone) {
    totals.sent += person.sent;
    totals.acked += person.acked;
    for (const [code, count] of Object.entries(person.errors)) totals.errors[code] = (totals.errors[code] || 0) + count;
  }
  stats.closing = true;
  await send({
    type: "result", role: "chat", pairs: ready.length, connections: ready.length * 2,
    sent: totals.sent, acked: totals.acked, delivered: stats.delivered,
    delivered_in_phase: stats.deliveredInPhase, lost: totals.lost,
    undelivered_partner_gone: totals.partnerGone,
    duplicated: stats.duplicated, out_of_order: stats.outOfOrder, unacked: totals.sent - totals.acked -
      Object.values(totals.errors).reduce((a, b) => a + b, 0),
    error_codes: totals.errors, unknown_deliveries: stats.unknownDeliveries,
    disconnects: stats.disconnectReasons, ack_ms: roundAll(stats.ackMs), delivery_ms: roundAll(stats.deliveryMs), loadgen: self,
  });
  for (const person of everyone) person.socket.close();
}

async function runCapacity(commands) {
  const stats = { closing: false, disconnectReasons: {}, setupErrors: [] };
  const people = config.accounts.map((account) => new Person(account.username, account.url));
  await commands.next("connect");
  const setupStarted = performance.now();
  const connected = [];
  let tokenMs = 0;
  const tokens = new Map(); // username -> promise: sockets sharing an account sign in once
  await pool(people, config.setupConcurrency || 4, async (person) => {
    try {
      const began = performance.now();
      if (!config.noToken && !tokens.has(person.username)) tokens.set(person.username, token(person.url, person.username));
      const authToken = config.noToken ? null : await tokens.get(person.username);
      tokenMs += performance.now() - began;
      person.socket = await withDeadline(connect(person.url, authToken), config.setupDeadlineMs, "connect");
      person.socket.on("disconnect", (reason) => {
        if (!stats.closing) stats.disconnectReasons[reason] = (stats.disconnectReasons[reason] || 0) + 1;
      });
      connected.push(person);
    } catch (error) {
      stats.setupErrors.push(String(error.message || error));
    }
  });
  send({ type: "ready", connections: connected.length, setup_ms: performance.now() - setupStarted,
    token_ms_sum: tokenMs, setup_errors: stats.setupErrors.slice(0, 5), setup_error_count: stats.setupErrors.length });
  const go = await commands.next("go");
  const meter = selfMeter();
  meter.start();
  await sleep(go.t0 + config.seconds * 1000 - Date.now());
  const self = meter.stop();
  const still = connected.filter((person) => person.socket.connected).length;
  stats.closing = true;
  await send({ type: "result", role: "capacity", connections: connected.length, still_connected: still,
    disconnects: stats.disconnectReasons, loadgen: self });
  for (const person of connected) person.socket.close();
}

async function runStorm(commands) {
  await commands.next("connect");
  send({ type: "ready", connections: 0, setup_ms: 0, setup_error_count: 0 });
  const go = await commands.next("go");
  const meter = selfMeter();
  await sleep(go.t0 - Date.now());
  meter.start();
  const end = go.t0 + config.seconds * 1000;
  const signinMs = [];
  let rounds = 0, errors = 0;
  while (Date.now() < end) {
    rounds += 1;
    await Promise.all(config.accounts.map(async (account) => {
      const began = performance.now();
      try {
        await token(account.url, account.username);
        signinMs.push(performance.now() - began);
      } catch (error) {
        errors += 1;
      }
    }));
  }
  await send({ type: "result", role: "storm", rounds, signins: signinMs.length, signin_errors: errors,
    signin_ms: roundAll(signinMs), loadgen: meter.stop() });
}

async function runMatching(commands) {
  const stats = { closing: false, disconnectReasons: {}, setupErrors: [] };
  const people = config.accounts.map((account) => Object.assign(new Person(account.username, account.url), account));
  await commands.next("connect");
  const setupStarted = performance.now();
  const connected = [];
  await pool(people, config.setupConcurrency || 4, async (person) => {
    try {
      person.socket = await withDeadline(connect(person.url, await token(person.url, person.username)),
        config.setupDeadlineMs, "connect");
      person.socket.on("disconnect", (reason) => {
        if (!stats.closing) stats.disconnectReasons[reason] = (stats.disconnectReasons[reason] || 0) + 1;
      });
      connected.push(person);
    } catch (error) {
      stats.setupErrors.push(String(error.message || error));
    }
  });
  send({ type: "ready", connections: connected.length, setup_ms: performance.now() - setupStarted,
    setup_errors: stats.setupErrors.slice(0, 5), setup_error_count: stats.setupErrors.length });
  const go = await commands.next("go");
  const meter = selfMeter();
  meter.start();
  const waitMs = [];
  const rooms = new Set();
  const errors = {};
  let firstAsk = null, lastFound = null;
  const everyone = connected.map((person) => new Promise((resolve) => {
    let asked = null;
    const found = (room) => {
      if (asked === null || person.found) return;
      person.found = true;
      waitMs.push(performance.now() - asked);
      lastFound = Math.max(lastFound || 0, Date.now());
      rooms.add(room.id);
      resolve();
    };
    person.socket.on("match:found", ({ room }) => found(room));
    setTimeout(() => {
      asked = performance.now();
      firstAsk = Math.min(firstAsk || Infinity, Date.now());
      person.socket.timeout(config.askTimeoutMs || 120000).emit("match:start", person.ask, (error, ack) => {
        if (error || !ack || ack.ok !== true) {
          const code = error ? "timeout" : (ack && ack.error && ack.error.code) || "unknown";
          errors[code] = (errors[code] || 0) + 1;
          resolve();
        } else if (ack.state === "matched") found(ack.room);
      });
    }, Math.max(0, go.t0 + person.at - Date.now()));
  }));
  await Promise.race([Promise.all(everyone), sleep(go.t0 + config.seconds * 1000 - Date.now())]);
  const self = meter.stop();
  stats.closing = true;
  await send({ type: "result", role: "matching", connections: connected.length, asked: firstAsk === null ? 0 : connected.length,
    found: waitMs.length, rooms: [...rooms], error_codes: errors, disconnects: stats.disconnectReasons,
    first_ask: firstAsk, last_found: lastFound, wait_ms: roundAll(waitMs), loadgen: self });
  for (const person of connected) person.socket.close();
}

function withDeadline(promise, ms, what) {
  if (!ms) return promise;
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: over the ${ms} ms deadline`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

// The orchestrator's commands, one JSON object a line; stdin closing means it is gone.
function commandReader() {
  const queue = [];
  const waiters = [];
  const lines = readline.createInterface({ input: process.stdin });
  lines.on("line", (line) => {
    const command = JSON.parse(line);
    if (waiters.length) waiters.shift()(command);
    else queue.push(command);
  });
  lines.on("close", () => process.exit(3));
  return {
    async next(expected) {
      const command = queue.length ? queue.shift() : await new Promise((resolve) => waiters.push(resolve));
      if (command.cmd !== expected) throw new Error(`expected ${expected}, got ${command.cmd}`);
      return command;
    },
  };
}

async function main() {
  const commands = commandReader();
  send({ type: "hello", pid: process.pid });
  const roles = { chat: runChat, capacity: runCapacity, storm: runStorm, matching: runMatching };
  await roles[config.role](commands);
  process.exit(0);
}

main().catch(async (error) => {
  await send({ type: "fatal", error: String(error.stack || error) });
  process.exit(2);
});
