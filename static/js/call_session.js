// The call session: the state machine of this tab's one call, its RTCPeerConnection and its
// signalling. No DOM: views/call.js draws it (and plays its tones); dispatcher.js feeds it the
// server's call events. Everything it needs from the outside world is passed in, so it runs
// under `node --test` with fakes (tests/js/call_session.test.mjs).
//
// Signalling goes through the server (call:signal, relayed to the other member's call tab only).
// The caller makes the offer once the callee has accepted, so both sides never offer at once;
// ICE candidates trickle both ways and are held back until the remote description is set.
//
// phase: starting | calling | ringing | incoming | answering | connecting | active | ended | error
// The view shows `status` ({key, values}) and `error` ({key} or {text}) through i18n.

export const ENDED_LINGER_MS = 3000;
export const DISCONNECTED_GRACE_MS = 15000;
const STATS_EVERY_MS = 1000;
const FINAL_STATES = new Set(["declined", "cancelled", "missed", "ended"]);

/** The i18n key for a getUserMedia failure. */
export function mediaErrorKey(error, media) {
  switch (error?.name) {
    case "NotAllowedError":
    case "SecurityError":
      return media === "video" ? "media_denied_video" : "media_denied_audio";
    case "NotFoundError":
    case "OverconstrainedError":
      return "media_missing";
    case "NotReadableError":
    case "AbortError":
      return "media_busy";
    case "Unsupported":
      return "media_unsupported";
    default:
      return "media_failed";
  }
}

/**
 * request(event, payload) -> Promise<ack>    the socket's request (throws on {ok: false})
 * rtcConfig() -> Promise<{iceServers}>       STUN/TURN servers, asked afresh per call
 * localMedia(media) -> Promise<MediaStream>  camera and microphone
 * createPeer(config) -> RTCPeerConnection
 * now(), setTimer(fn, ms), clearTimer(id)    time, replaceable in tests
 */
export function createCallSession({
  request, rtcConfig, localMedia, createPeer,
  now = () => Date.now(), setTimer = (fn, ms) => setTimeout(fn, ms), clearTimer = (id) => clearTimeout(id),
  createStream = () => new MediaStream(),
}) {
  let call = null;
  const listeners = new Set();
  const ringingDevices = new Set(); // ids of calls a device of the callee announced ringing

  function emit(detail = {}) {
    for (const listener of listeners) listener(call, detail);
  }

  const busy = () => Boolean(call) && call.phase !== "ended" && call.phase !== "error";
  const live = (current) => call === current && current.phase !== "ended" && current.phase !== "error";

  function newCall(fields) {
    if (call) close(); // an ended call still on screen gives way
    call = {
      id: null, phase: "starting", pc: null, local: null, remote: null, pending: [], chain: Promise.resolve(),
      acceptedAt: null, muted: false, cameraOff: false, partnerVideo: true, timers: {},
      status: null, error: null, connectionState: "new", framesDecoded: 0, config: null,
      ...fields,
    };
    return call;
  }

  function setStatus(current, key, values = {}) {
    current.status = key ? { key, values } : null;
  }

  /** Stop everything this call holds: timers, the peer connection, camera and microphone. */
  function release(current) {
    if (!current) return;
    for (const timer of Object.values(current.timers)) clearTimer(timer);
    current.timers = {};
    if (current.pc) {
      current.pc.ontrack = current.pc.onicecandidate = current.pc.onconnectionstatechange = null;
      current.pc.close();
      current.connectionState = "closed";
    }
    for (const track of current.local?.getTracks() || []) track.stop();
    current.local = null;
    current.remote = null;
  }

  /** The call is over on this side; the view shows why for a moment, then it goes. */
  function ended(key, values) {
    if (!call) return;
    const over = call;
    release(over);
    over.phase = "ended";
    setStatus(over, key, values);
    over.timers.close = setTimer(() => { if (call === over) close(); }, ENDED_LINGER_MS);
    emit();
  }

  /** Something went wrong (e.g. no permission for the camera): shown until closed. */
  function failed(error) {
    if (!call) return;
    release(call);
    call.phase = "error";
    call.status = null;
    call.error = error;
    emit();
  }

  function close() {
    release(call);
    call = null;
    emit();
  }

  const quietly = (event, payload) => request(event, payload).catch(() => {});

  async function start({ roomId, media, partner }) {
    if (busy()) return;
    const current = newCall({ role: "caller", roomId, media, partner });
    setStatus(current, media === "video" ? "call_starting" : "call_starting_audio");
    emit();
    const config = rtcConfig();
    try {
      current.local = await localMedia(media);
    } catch (error) {
      if (call === current) failed({ key: mediaErrorKey(error, media) }); // nothing asked of the server yet
      return;
    }
    if (call !== current) {
      release(current); // hung up while the browser asked for the camera
      return;
    }
    current.phase = "calling";
    setStatus(current, "call_calling");
    emit();
    try {
      const ack = await request("call:invite", { room_id: roomId, media });
      current.id = ack.call_id;
    } catch (error) {
      if (call === current) failed({ text: error.message });
      return;
    }
    if (call !== current || current.phase !== "calling") {
      quietly("call:cancel", { call_id: current.id }); // hung up before the server answered
      return;
    }
    current.phase = "ringing";
    current.config = config;
    // "Calling…" until a device of the callee says it rings (call:state device_ringing), which
    // may have come before this ack.
    setStatus(current, ringingDevices.has(current.id) ? "call_ringing" : "call_calling");
    emit();
  }

  function incoming({ call_id: callId, room_id: roomId, from, media }) {
    if (busy()) return; // rings out on the server and becomes missed
    newCall({ id: callId, role: "callee", roomId, media, partner: from, phase: "incoming" });
    quietly("call:ringing", { call_id: callId }); // the caller's page turns "Calling…" into "Ringing…"
    emit();
  }

  async function accept() {
    const current = call;
    if (!current || current.phase !== "incoming") return;
    current.phase = "answering";
    setStatus(current, current.media === "video" ? "call_starting" : "call_starting_audio");
    emit();
    try {
      current.local = await localMedia(current.media);
    } catch (error) {
      quietly("call:decline", { call_id: current.id });
      if (call === current) failed({ key: mediaErrorKey(error, current.media) });
      return;
    }
    if (call !== current) {
      release(current); // cancelled or missed while the browser asked for the camera
      return;
    }
    setStatus(current, "call_connecting");
    emit();
    // The peer connection exists before the server hears "accept": the offer may follow at once.
    await queue(current, () => makePeer(current, rtcConfig()));
    if (call !== current || current.phase !== "answering") return;
    try {
      await request("call:accept", { call_id: current.id });
    } catch (error) {
      if (call === current && current.phase !== "ended") failed({ text: error.message });
    }
  }

  function decline() {
    if (!call || call.phase !== "incoming") return;
    quietly("call:decline", { call_id: call.id });
    close();
  }

  function hangUp() {
    const current = call;
    if (!current) return;
    if (current.phase === "ended" || current.phase === "error") {
      close();
      return;
    }
    if (current.id) {
      const event = current.role === "caller" && current.phase === "ringing" ? "call:cancel" : "call:hangup";
      quietly(event, { call_id: current.id });
    } // else: still starting or inviting; start() cancels it once the invitation is acknowledged
    if (current.acceptedAt) ended("call_ended_after", { duration_ms: now() - current.acceptedAt });
    else ended("call_ended");
  }

  /** `call:state` from the server. */
  function state(event) {
    if (event.state === "ringing" && event.device_ringing) deviceRings(event.call_id);
    const current = call;
    if (!current || event.call_id !== current.id) return;
    if (event.state === "accepted") {
      if (current.phase === "incoming") {
        close(); // answered in another tab of mine
        return;
      }
      if (current.phase === "ended" || current.phase === "error") return;
      current.acceptedAt = now();
      current.phase = "connecting";
      setStatus(current, "call_connecting");
      emit();
      if (current.role === "caller") {
        queue(current, async () => {
          await makePeer(current, current.config || rtcConfig());
          await makeOffer(current);
        });
      }
      return;
    }
    if (!FINAL_STATES.has(event.state)) return;
    if (current.phase === "incoming") {
      close(); // cancelled, missed, or declined in another tab: the history shows the missed call
      return;
    }
    if (current.phase === "error") return;
    const caller = current.role === "caller";
    const [key, values] = {
      ended: event.duration_ms != null ? ["call_ended_after", { duration_ms: event.duration_ms }] : ["call_ended", {}],
      declined: caller ? ["call_declined", {}] : ["call_ended", {}],
      cancelled: caller ? ["call_cancelled", {}] : ["call_ended", {}],
      missed: caller ? ["call_no_answer", {}] : ["call_ended", {}],
    }[event.state];
    if (current.phase === "ended") { // our own hang-up: now with the true duration
      setStatus(current, key, values);
      emit();
    } else {
      ended(key, values);
    }
  }

  /** A device of the callee rings: the caller's "Calling…" becomes "Ringing…", for good. */
  function deviceRings(callId) {
    ringingDevices.add(callId);
    if (ringingDevices.size > 20) ringingDevices.delete(ringingDevices.values().next().value);
    const current = call;
    if (current?.id === callId && current.role === "caller" && current.phase === "ringing" && current.status?.key !== "call_ringing") {
      setStatus(current, "call_ringing");
      emit();
    }
  }

  /** `call:signal` from the server. */
  function signalled({ call_id: callId, data }) {
    const current = call;
    if (current && callId === current.id) queue(current, () => handleSignal(current, data));
  }

  // --- WebRTC ------------------------------------------------------------------------------------
  /** Signalling steps run one after another, in the order they came. */
  function queue(current, step) {
    current.chain = current.chain.then(() => (live(current) ? step() : null))
      .catch(() => {
        if (live(current)) {
          if (current.id) quietly("call:hangup", { call_id: current.id });
          failed({ key: "call_failed" });
        }
      });
    return current.chain;
  }

  function signal(current, data) {
    quietly("call:signal", { call_id: current.id, data }); // over already: nothing to tell
  }

  async function makePeer(current, configPromise) {
    const { iceServers } = await configPromise;
    if (call !== current || current.pc) return;
    const pc = createPeer({ iceServers: Array.isArray(iceServers) ? iceServers : [] });
    current.pc = pc;
    for (const track of current.local.getTracks()) pc.addTrack(track, current.local);
    pc.onicecandidate = ({ candidate }) => {
      if (candidate) signal(current, { type: "candidate", candidate: candidate.toJSON ? candidate.toJSON() : candidate });
    };
    pc.ontrack = ({ track, streams }) => {
      const stream = streams?.[0] || current.remote || createStream();
      if (!stream.getTracks().includes(track)) stream.addTrack(track);
      current.remote = stream;
      emit({ remote: true });
    };
    pc.onconnectionstatechange = () => connectionChanged(current);
    watchStats(current);
  }

  async function makeOffer(current) {
    const offer = await current.pc.createOffer();
    await current.pc.setLocalDescription(offer);
    signal(current, { type: "offer", sdp: offer.sdp });
  }

  async function flushCandidates(current) {
    for (const candidate of current.pending.splice(0)) await current.pc.addIceCandidate(candidate);
  }

  async function handleSignal(current, data) {
    const pc = current.pc;
    if (!pc || typeof data !== "object" || data === null) return;
    if (data.type === "offer" && current.role === "callee") {
      await pc.setRemoteDescription({ type: "offer", sdp: data.sdp });
      await flushCandidates(current);
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      signal(current, { type: "answer", sdp: answer.sdp });
    } else if (data.type === "answer" && current.role === "caller") {
      await pc.setRemoteDescription({ type: "answer", sdp: data.sdp });
      await flushCandidates(current);
    } else if (data.type === "candidate" && data.candidate) {
      if (pc.remoteDescription) await pc.addIceCandidate(data.candidate);
      else current.pending.push(data.candidate);
    } else if (data.type === "media") {
      current.partnerVideo = data.video !== false;
      if (current.phase === "active" && current.media === "video") setStatus(current, current.partnerVideo ? null : "call_partner_muted_video");
      emit();
    }
  }

  function connectionChanged(current) {
    if (call !== current || !current.pc) return;
    const connection = current.pc.connectionState;
    current.connectionState = connection;
    clearTimer(current.timers.disconnected);
    if (connection === "connected") {
      if (current.phase !== "active") {
        current.phase = "active";
        signal(current, { type: "media", video: !current.cameraOff });
      }
      setStatus(current, current.media === "audio" ? "call_line_audio" : null);
      emit();
    } else if (connection === "disconnected") {
      setStatus(current, "call_reconnecting");
      current.timers.disconnected = setTimer(() => {
        if (call === current && current.pc?.connectionState !== "connected") hangUpBroken(current);
      }, DISCONNECTED_GRACE_MS);
      emit();
    } else if (connection === "failed") {
      hangUpBroken(current);
    } else {
      emit();
    }
  }

  function hangUpBroken(current) {
    if (current.id) quietly("call:hangup", { call_id: current.id });
    failed({ key: "call_failed" });
  }

  /** How many of the partner's video frames were decoded: shows the video really flows. */
  function watchStats(current) {
    current.timers.stats = setTimer(async () => {
      if (call !== current || !current.pc) return;
      try {
        const report = await current.pc.getStats();
        report.forEach((entry) => {
          if (entry.type === "inbound-rtp" && entry.kind === "video") current.framesDecoded = entry.framesDecoded || 0;
        });
        emit({ stats: true });
      } catch {
        // closed meanwhile
      }
      watchStats(current);
    }, STATS_EVERY_MS);
  }

  // --- the person's controls -----------------------------------------------------------------------
  function toggleMute() {
    if (!call?.local) return;
    call.muted = !call.muted;
    for (const track of call.local.getAudioTracks()) track.enabled = !call.muted;
    emit();
  }

  function toggleCamera() {
    if (!call?.local) return;
    call.cameraOff = !call.cameraOff;
    for (const track of call.local.getVideoTracks()) track.enabled = !call.cameraOff;
    if (call.pc && call.id) signal(call, { type: "media", video: !call.cameraOff });
    emit();
  }

  /** Leaving the page ends the call rather than leaving the partner in a dead one. */
  function pageHidden() {
    if (call?.id && busy() && call.phase !== "incoming") hangUp();
  }

  return {
    get call() {
      return call;
    },
    busy,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    start, incoming, accept, decline, hangUp, close, state, signalled, toggleMute, toggleCamera, pageHidden,
  };
}

/** The local stream for a call (the browser's); a video call without a camera goes on with sound only. */
export async function browserMedia(media) {
  if (!globalThis.navigator?.mediaDevices?.getUserMedia) throw Object.assign(new Error("no mediaDevices"), { name: "Unsupported" });
  const devices = navigator.mediaDevices;
  const audio = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
  if (media !== "video") return devices.getUserMedia({ audio, video: false });
  try {
    return await devices.getUserMedia({
      audio, video: { width: { ideal: 1280 }, height: { ideal: 720 }, facingMode: "user" },
    });
  } catch (error) {
    if (error?.name !== "NotFoundError" && error?.name !== "OverconstrainedError") throw error;
    return devices.getUserMedia({ audio, video: false });
  }
}
