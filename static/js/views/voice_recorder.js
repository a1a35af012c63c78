// The composer's recorder bar: while a voice note is recorded, its live waveform (the
// microphone's level, drawn as bars that move along), the time, pause / resume, cancel and send.
// composer_media.js owns the microphone button and hands over what to do with the file.
import { t } from "../i18n.js";
import { h, icon } from "./dom.js";
import { RecordingError, formatMs, startRecording } from "./voice.js";

const LIVE_BARS = 48;
const CANCEL = "M19 6.4 17.6 5 12 10.6 6.4 5 5 6.4 10.6 12 5 17.6 6.4 19 12 13.4 17.6 19 19 17.6 13.4 12z";
const SEND = "M2.01 21L23 12 2.01 3 2 10l15 2-15 2z";
const PAUSE = "M6 19h4V5H6v14zm8-14v14h4V5h-4z";
const RESUME = "M12 5a7 7 0 1 0 0 14 7 7 0 0 0 0-14z"; // a record dot: go on recording

/**
 * Mounts the recorder bar in `composer`. Options: micButton (starts it), maxMs, disabled(),
 * showError(text|null), send(file), button(testid, label, path) (the composer's tool button).
 * Returns {cancel()}: drop a recording in progress (when the room changes or the composer closes).
 */
export function mountVoiceRecorder(composer, { micButton, maxMs, disabled, showError, send, button }) {
  const time = h("span", { class: "recorder__time", "data-testid": "recorder-time", text: "0:00" });
  const label = h("span", { class: "recorder__label", "data-testid": "recorder-label", text: t("recording") });
  const cancelButton = button("recorder-cancel", t("cancel_recording"), CANCEL);
  const pauseButton = button("recorder-pause", t("pause_recording"), PAUSE);
  const sendButton = button("recorder-send", t("send_voice"), SEND);
  sendButton.classList.add("recorder__send");
  const bars = Array.from({ length: LIVE_BARS }, () => h("span", { class: "recorder__level" }));
  // Decorative for screen readers (the label and the time say what happens); its levels are in data-levels.
  const wave = h("span", { class: "recorder__wave", "data-testid": "recorder-wave", "aria-hidden": "true", "data-levels": "" }, bars);
  const bar = h("div", { class: "recorder", "data-testid": "recorder", role: "status", hidden: true },
    cancelButton, h("span", { class: "recorder__dot", "aria-hidden": "true" }), label, wave, time, pauseButton, sendButton);
  composer.append(bar);

  const reducedMotion = window.matchMedia?.("(prefers-reduced-motion: reduce)");
  let recording = null;
  let frame = null;
  let levels = Array(LIVE_BARS).fill(0);
  let lastStep = 0;

  function draw(now) {
    frame = requestAnimationFrame(draw);
    if (!recording) return;
    const elapsed = recording.elapsedMs();
    time.textContent = formatMs(elapsed);
    time.dataset.elapsedMs = String(elapsed); // exact: what the text was rounded from
    if (elapsed >= maxMs - 500) {
      finish();
      return;
    }
    // A new bar every 100 ms, moving along; with reduced motion, the bars only change once a second.
    if (recording.paused() || now - lastStep < (reducedMotion?.matches ? 1000 : 100)) return;
    lastStep = now;
    levels = [...levels.slice(1), recording.level()];
    levels.forEach((level, index) => bars[index].style.setProperty("--level", String(Math.max(0.08, Math.sqrt(level / 255)))));
    wave.dataset.levels = levels.join(",");
  }

  function paintPaused() {
    const paused = recording?.paused() || false;
    bar.dataset.paused = String(paused);
    label.textContent = paused ? t("recording_paused") : t("recording");
    const text = paused ? t("resume_recording") : t("pause_recording");
    pauseButton.replaceChildren(icon(paused ? RESUME : PAUSE));
    pauseButton.setAttribute("aria-label", text);
    pauseButton.title = text;
    pauseButton.setAttribute("aria-pressed", String(paused));
  }

  micButton.addEventListener("click", async () => {
    if (recording || disabled()) return;
    showError(null);
    micButton.disabled = true;
    try {
      recording = await startRecording();
    } catch (error) {
      const code = error instanceof RecordingError ? error.code : "failed";
      showError(t(`mic_${code}`));
      return;
    } finally {
      micButton.disabled = disabled();
    }
    composer.classList.add("composer--recording");
    bar.hidden = false;
    time.textContent = "0:00";
    time.dataset.elapsedMs = "0";
    levels = Array(LIVE_BARS).fill(0);
    wave.dataset.levels = "";
    for (const level of bars) level.style.setProperty("--level", "0.08");
    paintPaused();
    frame = requestAnimationFrame(draw);
    sendButton.focus();
  });
  // The person's own cancel or send: the focus goes back to the text box (the recorder's buttons are gone).
  const backToText = () => composer.querySelector('[data-testid="composer-input"]')?.focus();
  cancelButton.addEventListener("click", () => {
    cancel();
    backToText();
  });
  sendButton.addEventListener("click", () => {
    finish(); // the recorder is gone before its first await
    backToText();
  });
  bar.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !recording) return;
    event.preventDefault();
    event.stopPropagation();
    cancel();
    backToText();
  });
  pauseButton.addEventListener("click", () => {
    if (!recording) return;
    if (recording.paused()) recording.resume();
    else recording.pause();
    paintPaused();
    const elapsed = recording.elapsedMs(); // once: the text and the number agree
    time.textContent = formatMs(elapsed);
    time.dataset.elapsedMs = String(elapsed); // exact: what the text was rounded from
  });

  function end() {
    cancelAnimationFrame(frame);
    composer.classList.remove("composer--recording");
    bar.hidden = true;
    delete bar.dataset.paused;
  }

  function cancel() {
    if (!recording) return;
    recording.cancel();
    recording = null;
    end();
  }

  async function finish() {
    const current = recording;
    if (!current) return;
    recording = null;
    end();
    const file = await current.stop();
    if (file.durationMs < 500 || !file.size) {
      showError(t("voice_too_short"));
      return;
    }
    send(file);
  }

  return { cancel };
}
