// Voice notes: recording in the browser (MediaRecorder) and the player in the chat.
import { t } from "../i18n.js";
import { pref, setPref } from "../prefs.js";
import { h, icon } from "./dom.js";

// What the server accepts (webm/opus, ogg/opus, mp4/aac), best first.
const RECORDING_TYPES = [
  ["audio/webm;codecs=opus", "webm"],
  ["audio/webm", "webm"],
  ["audio/ogg;codecs=opus", "ogg"],
  ["audio/mp4", "m4a"],
];

/** "0:07", "12:34". */
export function formatMs(ms) {
  const total = Math.max(0, Math.round((Number(ms) || 0) / 1000));
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, "0")}`;
}

export function canRecord() {
  return Boolean(navigator.mediaDevices?.getUserMedia && window.MediaRecorder);
}

/** A RecordingError's `code`: "denied" | "missing" | "unsupported" | "failed". */
export class RecordingError extends Error {
  constructor(code) {
    super(code);
    this.code = code;
  }
}

/**
 * Start recording from the microphone. Resolves with {stop, cancel, pause, resume, paused, elapsedMs, level}:
 * stop() resolves with a File ready to upload (with its duration_ms), cancel() throws it away;
 * pause() and resume() hold and go on (the time paused is not counted); level() is the
 * microphone's loudness now, 0-255 (an AnalyserNode on the stream; 0 where Web Audio is missing).
 */
export async function startRecording() {
  if (!canRecord()) throw new RecordingError("unsupported");
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
  } catch (error) {
    const code = error?.name === "NotAllowedError" || error?.name === "SecurityError" ? "denied"
      : error?.name === "NotFoundError" ? "missing" : "failed";
    throw new RecordingError(code);
  }
  const [mimeType, extension] = RECORDING_TYPES.find(([type]) => MediaRecorder.isTypeSupported(type)) || ["", "webm"];
  let recorder;
  try {
    recorder = new MediaRecorder(stream, mimeType ? { mimeType, audioBitsPerSecond: 32000 } : {});
  } catch {
    stream.getTracks().forEach((track) => track.stop());
    throw new RecordingError("unsupported");
  }
  const chunks = [];
  recorder.addEventListener("dataavailable", (event) => {
    if (event.data?.size) chunks.push(event.data);
  });
  const finished = new Promise((resolve) => recorder.addEventListener("stop", resolve, { once: true }));
  const meter = levelMeter(stream);
  // Time recorded: what ran before the last pause, plus the run since (none while paused).
  let before = 0;
  let runningSince = performance.now();
  recorder.start(250);

  const elapsedMs = () => before + (runningSince === null ? 0 : performance.now() - runningSince);
  function release() {
    stream.getTracks().forEach((track) => track.stop());
    meter.close();
  }
  return {
    elapsedMs,
    level: () => (runningSince === null ? 0 : meter.level()),
    paused: () => runningSince === null,
    pause() {
      if (recorder.state !== "recording") return;
      recorder.pause();
      before = elapsedMs();
      runningSince = null;
    },
    resume() {
      if (recorder.state !== "paused") return;
      recorder.resume();
      runningSince = performance.now();
    },
    async stop() {
      const durationMs = elapsedMs();
      if (recorder.state !== "inactive") recorder.stop();
      await finished;
      release();
      const type = (recorder.mimeType || mimeType || "audio/webm").split(";")[0];
      const file = new File(chunks, `voice-note.${extension}`, { type });
      file.durationMs = durationMs;
      return file;
    },
    cancel() {
      if (recorder.state !== "inactive") recorder.stop();
      release();
      chunks.length = 0;
    },
  };
}

/** {level(), close()}: the stream's peak loudness now, 0-255, from an AnalyserNode. */
function levelMeter(stream) {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return { level: () => 0, close() {} };
  const context = new Context();
  const analyser = context.createAnalyser();
  analyser.fftSize = 1024;
  context.createMediaStreamSource(stream).connect(analyser);
  const samples = new Uint8Array(analyser.fftSize);
  return {
    level() {
      analyser.getByteTimeDomainData(samples);
      let peak = 0;
      for (const sample of samples) peak = Math.max(peak, Math.abs(sample - 128));
      return Math.min(255, peak * 2);
    },
    close() {
      context.close().catch(() => {});
    },
  };
}

// --- the player ----------------------------------------------------------------------------------
const PLAY = "M8 5v14l11-7z";
const PAUSE = "M6 19h4V5H6v14zm8-14v14h4V5h-4z";
export const BARS = 64; // as many as the server measures (heartlink/lib/media.py WAVEFORM_BARS)
const FLAT = 40; // the level drawn for a note without a waveform (sent before waveforms were measured)
const SPEEDS = ["1", "1.5", "2"];

// One player per voice note and place, kept across redraws of its bubble (a reaction or a tick must not stop it).
const players = new Map(); // key (the attachment id in the chat) -> element

function speedLabel(speed) {
  return t("voice_speed_value", { speed: Number(speed).toLocaleString(document.documentElement.lang || "en") });
}

/**
 * A voice note: play/pause, its waveform as bars that fill as it plays (a slider: click, drag or
 * arrow keys to seek), the speed (1×, 1.5×, 2×: kept for the next notes), and the time. `key`:
 * which kept player this is (another place showing the same note, as the partner panel, has its own).
 */
export function renderVoicePlayer(attachment, { key = attachment.id } = {}) {
  const known = players.get(key);
  if (known) return known;
  const durationMs = Number(attachment.duration_ms) || 0;
  const stored = Array.isArray(attachment.waveform) && attachment.waveform.length ? attachment.waveform : null;
  const levels = stored || Array(BARS).fill(FLAT);
  const audio = h("audio", { class: "voice__audio", src: attachment.url, preload: "none", "data-testid": "voice-audio" });
  const shape = h("span", { class: "voice__icon" }, icon(PLAY));
  const button = h("button", {
    type: "button", class: "voice__play", "data-testid": "voice-play", "aria-label": t("play"), title: t("play"),
  }, shape);
  const bars = levels.map((level) => {
    const bar = h("span", { class: "voice__level" });
    // Drawn on a square-root scale, so quiet speech still shows next to a loud laugh.
    bar.style.setProperty("--level", String(Math.max(0.08, Math.sqrt(Math.min(255, Number(level) || 0) / 255))));
    return bar;
  });
  const wave = h("div", {
    class: "voice__wave", role: "slider", tabindex: "0", "aria-label": t("voice_seek"),
    "aria-valuemin": "0", "aria-valuemax": String(Math.round(durationMs / 1000)), "aria-valuenow": "0",
    "aria-valuetext": t("voice_position", { at: formatMs(0), total: formatMs(durationMs) }),
    "data-testid": "voice-progress", "data-duration-ms": String(durationMs),
    "data-waveform": stored ? "server" : "flat", "data-bars": String(bars.length), "data-played": "0",
  }, bars);
  const time = h("span", { class: "voice__time", "data-testid": "voice-time", text: formatMs(durationMs) });
  const speedButton = h("button", { type: "button", class: "voice__speed", "data-testid": "voice-speed" });
  const player = h("div", { class: "voice", "data-testid": "voice-player", "data-playing": "false" },
    button, h("span", { class: "voice__track" }, wave, h("span", { class: "voice__meta" }, time, speedButton)), audio);

  function applySpeed(speed) {
    audio.defaultPlaybackRate = Number(speed); // what a (re)load starts at
    audio.playbackRate = Number(speed);
    speedButton.textContent = speedLabel(speed);
    speedButton.dataset.speed = speed;
    const label = t("voice_speed", { speed: speedLabel(speed) });
    speedButton.setAttribute("aria-label", label);
    speedButton.title = label;
  }
  applySpeed(SPEEDS.includes(pref("voiceSpeed")) ? pref("voiceSpeed") : "1");

  const totalMs = () => (Number.isFinite(audio.duration) && audio.duration > 0 ? audio.duration * 1000 : durationMs);

  function paint() {
    const playing = !audio.paused && !audio.ended;
    const failed = !playing && Boolean(audio.error); // its load failed: Play tries again
    player.dataset.playing = String(playing);
    player.dataset.failed = String(failed);
    shape.replaceChildren(icon(playing ? PAUSE : PLAY));
    const label = playing ? t("pause") : failed ? t("retry") : t("play");
    button.setAttribute("aria-label", label);
    button.title = label;
    const atMs = Math.min(audio.currentTime * 1000, totalMs());
    const played = Math.round((atMs / Math.max(1, totalMs())) * bars.length);
    bars.forEach((bar, index) => bar.classList.toggle("voice__level--played", index < played));
    wave.dataset.played = String(played);
    wave.setAttribute("aria-valuenow", String(Math.round(atMs / 1000)));
    wave.setAttribute("aria-valuetext", t("voice_position", { at: formatMs(atMs), total: formatMs(totalMs()) }));
    if (failed) time.textContent = t("voice_failed");
    else time.textContent = playing || atMs > 0 ? formatMs(atMs) : formatMs(durationMs);
  }

  function seek(ms) {
    audio.currentTime = Math.max(0, Math.min(totalMs(), ms)) / 1000;
    paint();
  }

  button.addEventListener("click", () => {
    if (audio.paused || audio.ended) {
      for (const other of document.querySelectorAll(".voice__audio")) if (other !== audio) other.pause();
      if (audio.error) audio.load(); // a media element whose load failed stays failed until loaded again
      audio.play().catch(() => paint());
    } else {
      audio.pause();
    }
  });
  speedButton.addEventListener("click", () => {
    const next = SPEEDS[(SPEEDS.indexOf(speedButton.dataset.speed) + 1) % SPEEDS.length];
    setPref("voiceSpeed", next);
    for (const other of players.values()) other.applySpeed?.(next);
  });
  player.applySpeed = applySpeed;

  // Click or drag along the bars; arrows a second, Page Up/Down ten, Home/End the ends.
  function seekTo(event) {
    const box = wave.getBoundingClientRect();
    const fraction = Math.max(0, Math.min(1, (event.clientX - box.left) / Math.max(1, box.width)));
    seek(fraction * totalMs());
  }
  wave.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    wave.setPointerCapture?.(event.pointerId);
    wave.focus();
    seekTo(event);
  });
  wave.addEventListener("pointermove", (event) => {
    if (wave.hasPointerCapture?.(event.pointerId)) seekTo(event);
  });
  wave.addEventListener("keydown", (event) => {
    const at = audio.currentTime * 1000;
    const step = { ArrowRight: 1000, ArrowUp: 1000, ArrowLeft: -1000, ArrowDown: -1000, PageUp: 10000, PageDown: -10000 }[event.key];
    if (step !== undefined) seek(at + step);
    else if (event.key === "Home") seek(0);
    else if (event.key === "End") seek(totalMs());
    else return;
    event.preventDefault();
  });
  for (const type of ["play", "playing", "pause", "timeupdate", "error", "loadedmetadata"]) audio.addEventListener(type, paint);
  audio.addEventListener("ended", () => {
    audio.currentTime = 0;
    paint();
  });
  players.set(key, player);
  return player;
}
