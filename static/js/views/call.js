// Calls: the call buttons in the room header, the incoming-call overlay with its ringtone, and
// the call view, around one RTCPeerConnection per call.
//
// Signalling goes through the server (call:signal, relayed to the other member's call tab only).
// The caller makes the offer once the callee has accepted, so both sides never offer at once;
// ICE candidates trickle both ways and are held back until the remote description is set.
// Media flows peer to peer; STUN/TURN servers come from GET /api/rtc-config.
//
// For tests and for the person alike, the call view carries its state in data- attributes:
// data-phase, data-media, data-connection-state (the RTCPeerConnection's) and data-frames-decoded
// (the partner's video frames decoded so far, from getStats).
import { getJSON } from "../api.js";
import { t } from "../i18n.js";
import { formatDuration } from "./call-line.js";
import { displayName, paintAvatar, show } from "./dom.js";

const ENDED_LINGER_MS = 3000;
const DISCONNECTED_GRACE_MS = 15000;
const STATS_EVERY_MS = 1000;
const FINAL_STATES = new Set(["declined", "cancelled", "missed", "ended"]);

// --- sounds: made with WebAudio oscillators, no audio files -------------------------------------
const TONES = {
  // The incoming ring: two short chimes (a major third), then a pause.
  ring: { notes: [659.25, 830.61], volume: 0.2, cycle: 2.4, bursts: [[0, 0.35], [0.5, 0.85]] },
  // What the caller hears while it rings at the other end: one soft long beep.
  ringback: { notes: [440, 480], volume: 0.05, cycle: 4, bursts: [[0, 1.2]] },
};

/** Start a tone; returns {stop()}. The whole pattern is scheduled ahead (longer than any ring). */
function playTone(name) {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return { stop() {} };
  const { notes, volume, cycle, bursts } = TONES[name];
  const context = new Context();
  context.resume().catch(() => {}); // may stay suspended without a user gesture: silent, not broken
  const output = context.createGain();
  output.gain.value = volume;
  output.connect(context.destination);
  const envelope = context.createGain();
  envelope.gain.value = 0;
  envelope.connect(output);
  const oscillators = notes.map((frequency) => {
    const oscillator = context.createOscillator();
    oscillator.type = "sine";
    oscillator.frequency.value = frequency;
    oscillator.connect(envelope);
    oscillator.start();
    return oscillator;
  });
  const start = context.currentTime + 0.05;
  for (let round = 0; round < Math.ceil(120 / cycle); round += 1) {
    for (const [from, to] of bursts) {
      const on = start + round * cycle + from;
      const off = start + round * cycle + to;
      envelope.gain.setValueAtTime(0, on);
      envelope.gain.linearRampToValueAtTime(1, on + 0.02);
      envelope.gain.setValueAtTime(1, off - 0.06);
      envelope.gain.linearRampToValueAtTime(0, off);
    }
  }
  return {
    stop() {
      for (const oscillator of oscillators) {
        try { oscillator.stop(); } catch { /* already stopped */ }
      }
      context.close().catch(() => {});
    },
  };
}

// --- camera and microphone ---------------------------------------------------------------------
function mediaErrorText(error, media) {
  switch (error?.name) {
    case "NotAllowedError":
    case "SecurityError":
      return media === "video" ? t("media_denied_video") : t("media_denied_audio");
    case "NotFoundError":
    case "OverconstrainedError":
      return t("media_missing");
    case "NotReadableError":
    case "AbortError":
      return t("media_busy");
    case "Unsupported":
      return t("media_unsupported");
    default:
      return t("media_failed");
  }
}

/** The local stream for a call; a video call on a device without a camera goes on with sound only. */
async function localMedia(media) {
  if (!navigator.mediaDevices?.getUserMedia) throw Object.assign(new Error("no mediaDevices"), { name: "Unsupported" });
  const audio = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
  if (media !== "video") return navigator.mediaDevices.getUserMedia({ audio, video: false });
  try {
    return await navigator.mediaDevices.getUserMedia({
      audio, video: { width: { ideal: 1280 }, height: { ideal: 720 }, facingMode: "user" },
    });
  } catch (error) {
    if (error?.name !== "NotFoundError" && error?.name !== "OverconstrainedError") throw error;
    return navigator.mediaDevices.getUserMedia({ audio, video: false });
  }
}

export function mountCalls(root, store, socket) {
  const $ = (id) => root.querySelector(`[data-testid="${id}"]`);
  const buttons = $("call-buttons");
  const incoming = $("call-incoming");
  const view = $("call-view");
  const remoteVideo = $("call-remote-video");
  const localVideo = $("call-local-video");
  const statusLine = $("call-status");
  const durationLine = $("call-duration");
  const errorBox = $("call-error");
  const muteButton = $("call-mute");
  const cameraButton = $("call-camera");
  const rtcConfigUrl = view.dataset.rtcConfigUrl;

  /**
   * The one call of this tab, or null:
   * {id, roomId, role: "caller"|"callee", media, partner, phase, pc, local, pending, chain,
   *  acceptedAt, muted, cameraOff, partnerVideo, ring, timers}
   * phase: starting | calling | ringing | incoming | answering | connecting | active | ended | error
   */
  let call = null;

  const busy = () => Boolean(call) && call.phase !== "ended" && call.phase !== "error";

  // --- drawing -----------------------------------------------------------------------------------
  function render() {
    const room = store.state.roomId && store.room(store.state.roomId);
    show(buttons, room?.status === "active");
    for (const button of buttons.querySelectorAll("button")) {
      button.disabled = busy() || store.state.connection !== "online";
    }
    if (!call || call.phase === "incoming") {
      view.hidden = true;
      view.dataset.phase = "idle";
      return;
    }
    view.hidden = false;
    view.dataset.phase = call.phase;
    view.dataset.media = call.media;
    view.dataset.role = call.role;
    const hasVideo = Boolean(call.local?.getVideoTracks().length);
    view.dataset.localVideo = hasVideo && !call.cameraOff ? "on" : "off";
    view.dataset.partnerVideo = call.media === "video" && call.partnerVideo && call.phase === "active" ? "on" : "off";
    paintAvatar($("call-avatar"), call.partner);
    $("call-name").textContent = displayName(call.partner, t("someone"));
    show(durationLine, call.phase === "active");
    const live = !["ended", "error"].includes(call.phase);
    show(muteButton, live);
    show(cameraButton, live && hasVideo);
    show($("call-hangup"), live);
    muteButton.setAttribute("aria-pressed", String(call.muted));
    muteButton.title = call.muted ? t("call_unmute") : t("call_mute");
    muteButton.setAttribute("aria-label", muteButton.title);
    cameraButton.setAttribute("aria-pressed", String(call.cameraOff));
    cameraButton.title = call.cameraOff ? t("call_camera_on") : t("call_camera_off");
    cameraButton.setAttribute("aria-label", cameraButton.title);
  }

  function setStatus(text) {
    statusLine.textContent = text || "";
  }

  function showIncoming(visible) {
    incoming.hidden = !visible;
    if (visible) {
      paintAvatar($("call-incoming-avatar"), call.partner);
      $("call-incoming-name").textContent = displayName(call.partner, t("someone"));
      $("call-incoming-kind").textContent = call.media === "video" ? t("call_incoming_video") : t("call_incoming_audio");
    }
  }

  function setTone(name) {
    call?.ring?.stop();
    if (call) call.ring = name ? playTone(name) : null;
    incoming.dataset.ringtone = call?.ring && name === "ring" ? "playing" : "stopped";
    view.dataset.ringback = call?.ring && name === "ringback" ? "playing" : "stopped";
  }

  // --- the call's life ---------------------------------------------------------------------------
  function newCall(fields) {
    if (call) close(); // an ended call still on screen gives way
    call = {
      id: null, phase: "starting", pc: null, local: null, pending: [], chain: Promise.resolve(),
      acceptedAt: null, muted: false, cameraOff: false, partnerVideo: true, ring: null, timers: {},
      ...fields,
    };
    errorBox.hidden = true;
    durationLine.textContent = formatDuration(0);
    view.dataset.connectionState = "new";
    view.dataset.framesDecoded = "0";
    return call;
  }

  /** Stop everything this call holds: sounds, timers, the peer connection, camera and microphone. */
  function release(current) {
    if (!current) return;
    current.ring?.stop();
    current.ring = null;
    incoming.dataset.ringtone = "stopped";
    view.dataset.ringback = "stopped";
    for (const timer of Object.values(current.timers)) clearTimeout(timer);
    current.timers = {};
    if (current.pc) {
      current.pc.ontrack = current.pc.onicecandidate = current.pc.onconnectionstatechange = null;
      current.pc.close();
      view.dataset.connectionState = "closed";
    }
    for (const track of current.local?.getTracks() || []) track.stop();
    remoteVideo.srcObject = null;
    localVideo.srcObject = null;
  }

  /** The call is over on this side; the view shows why for a moment, then goes. */
  function ended(text) {
    if (!call) return;
    release(call);
    showIncoming(false);
    call.phase = "ended";
    setStatus(text);
    const over = call;
    call.timers.close = setTimeout(() => { if (call === over) close(); }, ENDED_LINGER_MS);
    render();
  }

  /** Something went wrong (e.g. no permission for the camera): the view stays until closed. */
  function failed(text) {
    if (!call) return;
    release(call);
    showIncoming(false);
    call.phase = "error";
    setStatus("");
    $("call-error-text").textContent = text;
    errorBox.hidden = false;
    render();
    $("call-close").focus();
  }

  function close() {
    release(call);
    showIncoming(false);
    errorBox.hidden = true;
    call = null;
    render();
  }

  function request(event, payload) {
    return socket.request(event, payload);
  }

  async function startCall(media) {
    const roomId = store.state.roomId;
    const room = roomId && store.room(roomId);
    if (!room || room.status !== "active" || busy()) return;
    const current = newCall({ role: "caller", roomId, media, partner: store.partnerOf(room) });
    setStatus(media === "video" ? t("call_starting") : t("call_starting_audio"));
    render();
    const config = rtcConfig();
    try {
      current.local = await localMedia(media);
    } catch (error) {
      if (call === current) failed(mediaErrorText(error, media)); // nothing was asked of the server yet
      return;
    }
    if (call !== current) {
      release(current); // hung up while the browser asked for the camera
      return;
    }
    localVideo.srcObject = current.local;
    current.phase = "calling";
    setStatus(t("call_calling"));
    render();
    try {
      const ack = await request("call:invite", { room_id: roomId, media });
      current.id = ack.call_id;
    } catch (error) {
      if (call === current) failed(error.message);
      return;
    }
    if (call !== current || current.phase !== "calling") {
      request("call:cancel", { call_id: current.id }).catch(() => {}); // hung up before the server answered
      return;
    }
    current.phase = "ringing";
    current.config = config;
    setStatus(t("call_ringing"));
    setTone("ringback");
    render();
  }

  function onIncoming({ call_id: callId, room_id: roomId, from, media }) {
    if (busy()) return; // rings out on the server and becomes missed
    newCall({ id: callId, role: "callee", roomId, media, partner: from, phase: "incoming" });
    showIncoming(true);
    setTone("ring");
    render();
    $("call-accept").focus();
  }

  async function accept() {
    const current = call;
    if (!current || current.phase !== "incoming") return;
    current.phase = "answering";
    setTone(null);
    showIncoming(false);
    setStatus(current.media === "video" ? t("call_starting") : t("call_starting_audio"));
    render();
    try {
      current.local = await localMedia(current.media);
    } catch (error) {
      request("call:decline", { call_id: current.id }).catch(() => {});
      if (call === current) failed(mediaErrorText(error, current.media));
      return;
    }
    if (call !== current) {
      release(current); // cancelled or missed while the browser asked for the camera
      return;
    }
    localVideo.srcObject = current.local;
    setStatus(t("call_connecting"));
    render();
    // The peer connection exists before the server hears "accept": the offer may follow at once.
    await queue(current, () => createPeer(current, rtcConfig()));
    if (call !== current || current.phase !== "answering") return;
    try {
      await request("call:accept", { call_id: current.id });
    } catch (error) {
      if (call === current && current.phase !== "ended") failed(error.message);
    }
  }

  function decline() {
    if (!call || call.phase !== "incoming") return;
    request("call:decline", { call_id: call.id }).catch(() => {});
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
      request(event, { call_id: current.id }).catch(() => {});
    } // else: still starting or inviting; startCall cancels it once the invitation is acknowledged
    ended(current.acceptedAt ? t("call_ended_after", { duration: formatDuration(Date.now() - current.acceptedAt) }) : t("call_ended"));
  }

  function onState(state) {
    const current = call;
    if (!current || state.call_id !== current.id) return;
    if (state.state === "accepted") {
      if (current.phase === "incoming") {
        close(); // answered in another tab of mine
        return;
      }
      if (current.phase === "ended" || current.phase === "error") return;
      current.acceptedAt = Date.now();
      current.phase = "connecting";
      setTone(null);
      setStatus(t("call_connecting"));
      render();
      if (current.role === "caller") {
        queue(current, async () => {
          await createPeer(current, current.config || rtcConfig());
          await makeOffer(current);
        });
      }
      return;
    }
    if (!FINAL_STATES.has(state.state)) return;
    if (current.phase === "incoming") {
      close(); // cancelled, missed, or declined in another tab: the history shows the missed call
      return;
    }
    if (current.phase === "error") return;
    const name = displayName(current.partner, t("someone"));
    const texts = {
      ended: state.duration_ms != null ? t("call_ended_after", { duration: formatDuration(state.duration_ms) }) : t("call_ended"),
      declined: current.role === "caller" ? t("call_declined", { name }) : t("call_ended"),
      cancelled: current.role === "caller" ? t("call_cancelled") : t("call_ended"),
      missed: current.role === "caller" ? t("call_no_answer") : t("call_ended"),
    };
    if (current.phase === "ended") setStatus(texts[state.state]); // our own hang-up: now with the true duration
    else ended(texts[state.state]);
  }

  // --- WebRTC --------------------------------------------------------------------------------------
  /** STUN/TURN servers, asked for afresh each call (TURN credentials may be short-lived). */
  function rtcConfig() {
    return getJSON(rtcConfigUrl).catch(() => ({ iceServers: [] }));
  }

  /** Signalling steps run one after another, in the order they came. */
  function queue(current, step) {
    const live = () => call === current && current.phase !== "ended" && current.phase !== "error";
    current.chain = current.chain.then(() => (live() ? step() : null))
      .catch(() => {
        if (live()) {
          if (current.id) request("call:hangup", { call_id: current.id }).catch(() => {});
          failed(t("call_failed"));
        }
      });
    return current.chain;
  }

  function signal(current, data) {
    request("call:signal", { call_id: current.id, data }).catch(() => {}); // over already: nothing to tell
  }

  async function createPeer(current, configPromise) {
    const { iceServers } = await configPromise;
    if (call !== current || current.pc) return;
    const pc = new RTCPeerConnection({ iceServers: Array.isArray(iceServers) ? iceServers : [] });
    current.pc = pc;
    for (const track of current.local.getTracks()) pc.addTrack(track, current.local);
    pc.onicecandidate = ({ candidate }) => {
      if (candidate) signal(current, { type: "candidate", candidate: candidate.toJSON() });
    };
    pc.ontrack = ({ track, streams }) => {
      const stream = streams[0] || remoteVideo.srcObject || new MediaStream();
      if (!stream.getTracks().includes(track)) stream.addTrack(track);
      if (remoteVideo.srcObject !== stream) remoteVideo.srcObject = stream;
      remoteVideo.play().catch(() => {}); // autoplay covers it; a refused play() is not an error here
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
      if (current.phase === "active" && current.media === "video") setStatus(current.partnerVideo ? "" : t("call_partner_muted_video"));
      render();
    }
  }

  function connectionChanged(current) {
    const state = current.pc.connectionState;
    view.dataset.connectionState = state;
    clearTimeout(current.timers.disconnected);
    if (state === "connected") {
      if (current.phase !== "active") {
        current.phase = "active";
        tickDuration(current);
        signal(current, { type: "media", video: !current.cameraOff });
      }
      setStatus(current.media === "audio" ? t("call_line_audio") : "");
      render();
    } else if (state === "disconnected") {
      setStatus(t("call_reconnecting"));
      current.timers.disconnected = setTimeout(() => {
        if (call === current && current.pc?.connectionState !== "connected") hangUpBroken(current);
      }, DISCONNECTED_GRACE_MS);
    } else if (state === "failed") {
      hangUpBroken(current);
    }
  }

  function hangUpBroken(current) {
    if (current.id) request("call:hangup", { call_id: current.id }).catch(() => {});
    failed(t("call_failed"));
  }

  function tickDuration(current) {
    if (call !== current || current.phase !== "active") return;
    durationLine.textContent = formatDuration(Date.now() - current.acceptedAt);
    current.timers.duration = setTimeout(() => tickDuration(current), 1000 - ((Date.now() - current.acceptedAt) % 1000));
  }

  /** How many of the partner's video frames were decoded: shows the video really flows. */
  function watchStats(current) {
    current.timers.stats = setTimeout(async () => {
      if (call !== current || !current.pc) return;
      try {
        const report = await current.pc.getStats();
        report.forEach((entry) => {
          if (entry.type === "inbound-rtp" && entry.kind === "video") view.dataset.framesDecoded = String(entry.framesDecoded || 0);
        });
      } catch {
        // closed meanwhile
      }
      watchStats(current);
    }, STATS_EVERY_MS);
  }

  // --- the person's controls -------------------------------------------------------------------
  function toggleMute() {
    if (!call?.local) return;
    call.muted = !call.muted;
    for (const track of call.local.getAudioTracks()) track.enabled = !call.muted;
    render();
  }

  function toggleCamera() {
    if (!call?.local) return;
    call.cameraOff = !call.cameraOff;
    for (const track of call.local.getVideoTracks()) track.enabled = !call.cameraOff;
    if (call.pc && call.id) signal(call, { type: "media", video: !call.cameraOff });
    render();
  }

  buttons.addEventListener("click", (event) => {
    const button = event.target.closest("[data-call-media]");
    if (button) startCall(button.dataset.callMedia);
  });
  $("call-accept").addEventListener("click", accept);
  $("call-decline").addEventListener("click", decline);
  $("call-hangup").addEventListener("click", hangUp);
  $("call-close").addEventListener("click", close);
  muteButton.addEventListener("click", toggleMute);
  cameraButton.addEventListener("click", toggleCamera);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && call?.phase === "error") close();
  });
  // Leaving the page ends the call rather than leaving the partner in a dead one.
  window.addEventListener("pagehide", () => {
    if (call?.id && busy() && call.phase !== "incoming") hangUp();
  });

  socket.on("call:incoming", onIncoming);
  socket.on("call:state", onState);
  socket.on("call:signal", ({ call_id: callId, data }) => {
    const current = call;
    if (current && callId === current.id) queue(current, () => handleSignal(current, data));
  });
  store.subscribe((topic) => {
    if (topic === "route" || topic === "rooms" || topic === "chat" || topic === "connection") render();
  });
  render();
}
