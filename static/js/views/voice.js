// Voice notes: recording in the browser (MediaRecorder) and the player in the chat.
import { t } from "../i18n.js";
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
 * Start recording from the microphone. Resolves with {stop, cancel, elapsedMs}:
 * stop() resolves with a File ready to upload (with its duration_ms), cancel() throws it away.
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
  const startedAt = performance.now();
  recorder.start(250);

  function release() {
    stream.getTracks().forEach((track) => track.stop());
  }
  return {
    elapsedMs: () => performance.now() - startedAt,
    async stop() {
      const durationMs = performance.now() - startedAt;
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

// --- the player ----------------------------------------------------------------------------------
const PLAY = "M8 5v14l11-7z";
const PAUSE = "M6 19h4V5H6v14zm8-14v14h4V5h-4z";


// One player per voice note, kept across redraws of its bubble (a reaction or a tick must not stop it).
const players = new Map(); // attachment id -> element

/** A voice note: play/pause, a seekable progress bar, the time (duration from the server). */
export function renderVoicePlayer(attachment) {
  const known = players.get(attachment.id);
  if (known) return known;
  const durationMs = Number(attachment.duration_ms) || 0;
  const audio = h("audio", { class: "voice__audio", src: attachment.url, preload: "none", "data-testid": "voice-audio" });
  const shape = h("span", { class: "voice__icon" }, icon(PLAY));
  const button = h("button", {
    type: "button", class: "voice__play", "data-testid": "voice-play", "aria-label": t("play"), title: t("play"),
  }, shape);
  const bar = h("input", {
    type: "range", class: "voice__bar", min: "0", max: String(Math.max(1, durationMs)), step: "10", value: "0",
    "aria-label": t("voice_note"), "data-testid": "voice-progress",
  });
  const time = h("span", { class: "voice__time", "data-testid": "voice-time", text: formatMs(durationMs) });
  const player = h("div", { class: "voice", "data-testid": "voice-player", "data-playing": "false" },
    button, h("span", { class: "voice__track" }, bar, time), audio);

  function paint() {
    const playing = !audio.paused && !audio.ended;
    const failed = !playing && Boolean(audio.error); // its load failed: Play tries again
    player.dataset.playing = String(playing);
    player.dataset.failed = String(failed);
    shape.replaceChildren(icon(playing ? PAUSE : PLAY));
    const label = playing ? t("pause") : failed ? t("retry") : t("play");
    button.setAttribute("aria-label", label);
    button.title = label;
    const atMs = audio.currentTime * 1000;
    bar.value = String(Math.min(atMs, Number(bar.max)));
    bar.style.setProperty("--progress", `${Math.min(100, (atMs / Math.max(1, durationMs)) * 100)}%`);
    if (failed) time.textContent = t("voice_failed");
    else time.textContent = playing || atMs > 0 ? formatMs(atMs) : formatMs(durationMs);
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
  bar.addEventListener("input", () => {
    audio.currentTime = Number(bar.value) / 1000;
    paint();
  });
  for (const type of ["play", "playing", "pause", "timeupdate", "error"]) audio.addEventListener(type, paint);
  audio.addEventListener("ended", () => {
    audio.currentTime = 0;
    paint();
  });
  players.set(attachment.id, player);
  return player;
}
