// The call session's state machine and signalling, with fake media and peer connections.
import assert from "node:assert/strict";
import { test } from "node:test";

import { createCallSession, mediaErrorKey } from "../../static/js/call_session.js";

class FakeTrack {
  constructor(kind) {
    this.kind = kind;
    this.enabled = true;
    this.stopped = false;
  }
  stop() {
    this.stopped = true;
  }
}

class FakeStream {
  constructor(kinds = ["audio", "video"]) {
    this.tracks = kinds.map((kind) => new FakeTrack(kind));
  }
  getTracks() { return this.tracks; }
  getAudioTracks() { return this.tracks.filter((track) => track.kind === "audio"); }
  getVideoTracks() { return this.tracks.filter((track) => track.kind === "video"); }
  addTrack(track) { this.tracks.push(track); }
}

class FakePeer {
  constructor(config) {
    this.config = config;
    this.added = [];
    this.remoteDescription = null;
    this.candidates = [];
    this.closed = false;
    this.connectionState = "new";
  }
  addTrack(track) { this.added.push(track); }
  async createOffer() { return { type: "offer", sdp: "offer-sdp" }; }
  async createAnswer() { return { type: "answer", sdp: "answer-sdp" }; }
  async setLocalDescription(description) { this.localDescription = description; }
  async setRemoteDescription(description) { this.remoteDescription = description; }
  async addIceCandidate(candidate) { this.candidates.push(candidate); }
  async getStats() { return new Map(); }
  close() { this.closed = true; }
  become(state) {
    this.connectionState = state;
    this.onconnectionstatechange?.();
  }
}

/** A session with fakes; `sent` records every request, `timers` can be run by hand. */
function harness({ media = () => Promise.resolve(new FakeStream()), answers = {} } = {}) {
  const sent = [];
  const peers = [];
  const timers = new Map();
  let nextTimer = 1;
  let clock = 1000;
  const session = createCallSession({
    request: async (event, payload) => {
      sent.push([event, payload]);
      const answer = answers[event];
      if (answer instanceof Error) throw answer;
      return { ok: true, ...(answer || {}) };
    },
    rtcConfig: async () => ({ iceServers: [{ urls: "stun:127.0.0.1" }] }),
    localMedia: media,
    createPeer: (config) => {
      const peer = new FakePeer(config);
      peers.push(peer);
      return peer;
    },
    now: () => clock,
    setTimer: (fn, ms) => {
      const id = nextTimer++;
      timers.set(id, { fn, ms });
      return id;
    },
    clearTimer: (id) => timers.delete(id),
    createStream: () => new FakeStream([]),
  });
  const phases = [];
  session.subscribe((call) => phases.push(call?.phase ?? null));
  return {
    session, sent, peers, phases, timers,
    advance(ms) { clock += ms; },
    runTimers(ms) {
      for (const [id, timer] of [...timers]) {
        if (timer.ms === ms) {
          timers.delete(id);
          timer.fn();
        }
      }
    },
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));
const events = (sent) => sent.map(([event]) => event);

test("a caller invites, rings, and offers only once the callee accepted", async () => {
  const h = harness({ answers: { "call:invite": { call_id: "c1" } } });
  await h.session.start({ roomId: "r1", media: "video", partner: { id: 2 } });
  assert.equal(h.session.call.phase, "ringing");
  assert.deepEqual(h.phases, ["starting", "calling", "ringing"]);
  assert.deepEqual(h.sent, [["call:invite", { room_id: "r1", media: "video" }]]);
  assert.equal(h.peers.length, 0);

  h.session.state({ call_id: "c1", state: "accepted" });
  assert.equal(h.session.call.phase, "connecting");
  await settle();
  assert.equal(h.peers.length, 1);
  assert.equal(h.peers[0].added.length, 2);
  assert.deepEqual(h.sent.at(-1), ["call:signal", { call_id: "c1", data: { type: "offer", sdp: "offer-sdp" } }]);

  // Candidates that come before the answer wait for it.
  h.session.signalled({ call_id: "c1", data: { type: "candidate", candidate: { candidate: "a" } } });
  await settle();
  assert.deepEqual(h.peers[0].candidates, []);
  h.session.signalled({ call_id: "c1", data: { type: "answer", sdp: "answer-sdp" } });
  await settle();
  assert.deepEqual(h.peers[0].candidates, [{ candidate: "a" }]);

  h.peers[0].become("connected");
  assert.equal(h.session.call.phase, "active");
  assert.deepEqual(h.sent.at(-1), ["call:signal", { call_id: "c1", data: { type: "media", video: true } }]);
});

test("a caller sees Calling… until a device of the callee rings, then Ringing…", async () => {
  const h = harness({ answers: { "call:invite": { call_id: "c1" } } });
  await h.session.start({ roomId: "r1", media: "audio", partner: { id: 2 } });
  assert.equal(h.session.call.phase, "ringing");
  assert.equal(h.session.call.status.key, "call_calling");
  h.session.state({ call_id: "c1", state: "ringing", device_ringing: false });
  assert.equal(h.session.call.status.key, "call_calling");
  h.session.state({ call_id: "c1", state: "ringing", device_ringing: true });
  assert.equal(h.session.call.status.key, "call_ringing");
  h.session.state({ call_id: "c1", state: "ringing", device_ringing: false }); // a late invitation state
  assert.equal(h.session.call.status.key, "call_ringing");
});

test("a device that rang before the invitation's ack still turns the label to Ringing…", async () => {
  const h = harness({ answers: { "call:invite": { call_id: "c9" } } });
  const { session } = h;
  const started = session.start({ roomId: "r1", media: "audio", partner: { id: 2 } });
  session.state({ call_id: "c9", state: "ringing", device_ringing: true }); // before the ack
  await started;
  assert.equal(session.call.status.key, "call_ringing");
});

test("a callee rings, answers with the peer ready before accept, and answers the offer", async () => {
  const h = harness();
  h.session.incoming({ call_id: "c2", room_id: "r1", from: { id: 2 }, media: "audio" });
  assert.equal(h.session.call.phase, "incoming");
  // A second call while busy is ignored (it rings out on the server).
  h.session.incoming({ call_id: "c3", room_id: "r1", from: { id: 3 }, media: "audio" });
  assert.equal(h.session.call.id, "c2");

  await h.session.accept();
  assert.equal(h.peers.length, 1);
  assert.deepEqual(events(h.sent), ["call:ringing", "call:accept"]); // it said it rings, once shown
  h.session.state({ call_id: "c2", state: "accepted" });
  h.session.signalled({ call_id: "c2", data: { type: "offer", sdp: "offer-sdp" } });
  await settle();
  assert.deepEqual(h.sent.at(-1), ["call:signal", { call_id: "c2", data: { type: "answer", sdp: "answer-sdp" } }]);
  assert.deepEqual(h.peers[0].remoteDescription, { type: "offer", sdp: "offer-sdp" });
});

test("hanging up while ringing cancels; the view lingers, then closes", async () => {
  const h = harness({ answers: { "call:invite": { call_id: "c4" } } });
  await h.session.start({ roomId: "r1", media: "audio", partner: { id: 2 } });
  const local = h.session.call.local;
  h.session.hangUp();
  assert.deepEqual(h.sent.at(-1), ["call:cancel", { call_id: "c4" }]);
  assert.equal(h.session.call.phase, "ended");
  assert.deepEqual(h.session.call.status, { key: "call_ended", values: {} });
  assert.ok(local.getTracks().every((track) => track.stopped), "camera and microphone released");
  h.runTimers(3000);
  assert.equal(h.session.call, null);
});

test("an ended call reports its duration; a declined one says so to the caller", async () => {
  const h = harness({ answers: { "call:invite": { call_id: "c5" } } });
  await h.session.start({ roomId: "r1", media: "video", partner: { id: 2 } });
  h.session.state({ call_id: "c5", state: "declined" });
  assert.deepEqual(h.session.call.status, { key: "call_declined", values: {} });

  const g = harness({ answers: { "call:invite": { call_id: "c6" } } });
  await g.session.start({ roomId: "r1", media: "video", partner: { id: 2 } });
  g.session.state({ call_id: "c6", state: "accepted" });
  g.advance(65000);
  g.session.hangUp();
  assert.deepEqual(g.session.call.status, { key: "call_ended_after", values: { duration_ms: 65000 } });
  assert.deepEqual(g.sent.at(-1), ["call:hangup", { call_id: "c6" }]);
  g.session.state({ call_id: "c6", state: "ended", duration_ms: 64000 });
  assert.deepEqual(g.session.call.status, { key: "call_ended_after", values: { duration_ms: 64000 } });
});

test("no camera permission: an error to show, nothing asked of the server", async () => {
  const denied = Object.assign(new Error("no"), { name: "NotAllowedError" });
  const h = harness({ media: () => Promise.reject(denied) });
  await h.session.start({ roomId: "r1", media: "video", partner: { id: 2 } });
  assert.equal(h.session.call.phase, "error");
  assert.deepEqual(h.session.call.error, { key: "media_denied_video" });
  assert.deepEqual(h.sent, []);
  assert.equal(mediaErrorKey({ name: "NotFoundError" }, "audio"), "media_missing");
});

test("an incoming call cancelled or answered elsewhere goes away; a failed connection hangs up", async () => {
  const h = harness();
  h.session.incoming({ call_id: "c7", room_id: "r1", from: { id: 2 }, media: "audio" });
  h.session.state({ call_id: "c7", state: "cancelled" });
  assert.equal(h.session.call, null);

  h.session.incoming({ call_id: "c8", room_id: "r1", from: { id: 2 }, media: "audio" });
  await h.session.accept();
  h.peers[0].become("failed");
  assert.equal(h.session.call.phase, "error");
  assert.deepEqual(h.sent.at(-1), ["call:hangup", { call_id: "c8" }]);
  assert.ok(h.peers[0].closed);
});

test("mute and camera toggles reach the tracks and the partner", async () => {
  const h = harness();
  h.session.incoming({ call_id: "c9", room_id: "r1", from: { id: 2 }, media: "video" });
  await h.session.accept();
  h.session.toggleMute();
  assert.equal(h.session.call.local.getAudioTracks()[0].enabled, false);
  h.session.toggleCamera();
  assert.equal(h.session.call.local.getVideoTracks()[0].enabled, false);
  assert.deepEqual(h.sent.at(-1), ["call:signal", { call_id: "c9", data: { type: "media", video: false } }]);
});
