// The call's view: the call buttons in the room header, the incoming-call overlay with its
// ringtone, and the call view. The call itself (state machine, RTCPeerConnection, signalling)
// is static/js/call_session.js; this draws it and turns clicks into its methods.
//
// For tests and for the person alike, the call view carries its state in data- attributes:
// data-phase, data-media, data-connection-state (the RTCPeerConnection's) and data-frames-decoded
// (the partner's video frames decoded so far, from getStats).
import { t } from "../i18n.js";
import { playTone } from "../sounds.js";
import { formatDuration } from "./call_line.js";
import { displayName, paintAvatar, show } from "./dom.js";

export function mountCalls(root, store, session) {
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

  let tone = { name: null, player: null };
  let shownPhase = null;
  let ticking = null;

  function setTone(name) {
    if (tone.name === name) return;
    tone.player?.stop();
    tone = { name, player: name ? playTone(name) : null };
    incoming.dataset.ringtone = name === "ring" ? "playing" : "stopped";
    view.dataset.ringback = name === "ringback" ? "playing" : "stopped";
  }

  function statusText(status, call) {
    if (!status) return "";
    const values = { ...status.values, name: displayName(call.partner, t("someone")) };
    if (status.values.duration_ms != null) values.duration = formatDuration(status.values.duration_ms);
    return t(status.key, values);
  }

  function tick() {
    const call = session.call;
    if (call?.phase === "active" && call.acceptedAt) durationLine.textContent = formatDuration(Date.now() - call.acceptedAt);
  }

  function renderButtons() {
    const room = store.state.roomId && store.room(store.state.roomId);
    show(buttons, room?.status === "active");
    for (const button of buttons.querySelectorAll("button")) {
      button.disabled = session.busy() || store.state.connection !== "online";
    }
  }

  function render(call, detail = {}) {
    renderButtons();
    if (detail.stats) {
      view.dataset.framesDecoded = String(call?.framesDecoded || 0);
      return;
    }
    const phase = call?.phase || "idle";
    setTone(phase === "incoming" ? "ring" : phase === "ringing" ? "ringback" : null);
    renderIncoming(call, phase);
    clearInterval(ticking);
    ticking = null;
    if (!call || phase === "incoming") hideView(phase);
    else renderView(call, phase);
    shownPhase = phase;
  }

  /** The overlay of a call ringing here: who calls, and how. */
  function renderIncoming(call, phase) {
    incoming.hidden = phase !== "incoming";
    if (phase !== "incoming") return;
    paintAvatar($("call-incoming-avatar"), call.partner);
    $("call-incoming-name").textContent = displayName(call.partner, t("someone"));
    $("call-incoming-kind").textContent = call.media === "video" ? t("call_incoming_video") : t("call_incoming_audio");
  }

  /** No call in the view (none, or one ringing here): it is hidden and lets go of the streams. */
  function hideView(phase) {
    view.hidden = true;
    view.dataset.phase = "idle";
    errorBox.hidden = true;
    remoteVideo.srcObject = null;
    localVideo.srcObject = null;
    if (phase === "incoming" && shownPhase !== "incoming") $("call-accept").focus();
  }

  function renderView(call, phase) {
    view.hidden = false;
    view.dataset.phase = phase;
    view.dataset.media = call.media;
    view.dataset.role = call.role;
    view.dataset.connectionState = call.connectionState;
    view.dataset.framesDecoded = String(call.framesDecoded || 0);
    const hasVideo = renderStreams(call, phase);
    paintAvatar($("call-avatar"), call.partner);
    $("call-name").textContent = displayName(call.partner, t("someone"));
    statusLine.textContent = phase === "error" ? "" : statusText(call.status, call);
    show(durationLine, phase === "active");
    if (phase === "active") {
      tick();
      ticking = setInterval(tick, 1000);
    } else if (phase === "starting") {
      durationLine.textContent = formatDuration(0);
    }
    renderControls(call, phase, hasVideo);
    renderError(call, phase);
  }

  /** The two videos: mine and the partner's streams, and whether each shows a picture. Returns whether I send video. */
  function renderStreams(call, phase) {
    if (localVideo.srcObject !== call.local) localVideo.srcObject = call.local;
    if (remoteVideo.srcObject !== call.remote) {
      remoteVideo.srcObject = call.remote;
      if (call.remote) remoteVideo.play().catch(() => {}); // autoplay covers it; a refused play() is not an error
    }
    const hasVideo = Boolean(call.local?.getVideoTracks().length);
    view.dataset.localVideo = hasVideo && !call.cameraOff ? "on" : "off";
    view.dataset.partnerVideo = call.media === "video" && call.partnerVideo && phase === "active" ? "on" : "off";
    return hasVideo;
  }

  /** Mute, camera and hang up, while the call lasts. */
  function renderControls(call, phase, hasVideo) {
    const live = !["ended", "error"].includes(phase);
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

  function renderError(call, phase) {
    errorBox.hidden = phase !== "error";
    if (phase !== "error") return;
    $("call-error-text").textContent = call.error?.key ? t(call.error.key) : call.error?.text || t("call_failed");
    if (shownPhase !== "error") $("call-close").focus();
  }

  buttons.addEventListener("click", (event) => {
    const button = event.target.closest("[data-call-media]");
    const room = store.state.roomId && store.room(store.state.roomId);
    if (!button || !room || room.status !== "active") return;
    session.start({ roomId: room.id, media: button.dataset.callMedia, partner: store.partnerOf(room) });
  });
  $("call-accept").addEventListener("click", () => session.accept());
  $("call-decline").addEventListener("click", () => session.decline());
  $("call-hangup").addEventListener("click", () => session.hangUp());
  $("call-close").addEventListener("click", () => session.close());
  muteButton.addEventListener("click", () => session.toggleMute());
  cameraButton.addEventListener("click", () => session.toggleCamera());
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && session.call?.phase === "error") session.close();
  });
  window.addEventListener("pagehide", () => session.pageHidden());

  session.subscribe(render);
  store.subscribe((topic) => {
    if (topic === "route" || topic === "rooms" || topic === "chat" || topic === "connection") renderButtons();
  });
  render(null);
}
