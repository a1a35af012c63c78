// A finished call's line in the history (message.kind "call", message.call = {call_id, media,
// outcome: missed|declined|cancelled|ended, duration_ms}), worded for the person reading it.
// The message's sender is the caller.
import { formatTime, t } from "../i18n.js";
import { h, icon } from "./dom.js";

/** "1:23", or "1:02:03" past an hour. */
export function formatDuration(ms) {
  const total = Math.max(0, Math.floor((Number(ms) || 0) / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

/** {title, detail, missed} for a call message as `meId` sees it. */
export function describeCall(message, meId) {
  const call = message.call || {};
  const video = call.media !== "audio";
  const iCalled = message.sender_id === meId;
  const title = video ? t("call_line_video") : t("call_line_audio");
  switch (call.outcome) {
    case "ended":
      return { title, detail: formatDuration(call.duration_ms), missed: false };
    case "declined":
      return { title, detail: t("call_line_declined"), missed: false };
    case "missed":
    case "cancelled":
      if (!iCalled) return { title: video ? t("call_line_missed_video") : t("call_line_missed_audio"), detail: "", missed: true };
      return { title, detail: call.outcome === "missed" ? t("call_line_no_answer") : t("call_line_cancelled"), missed: false };
    default:
      return { title, detail: "", missed: false };
  }
}

/** One line of text, for the links list's preview: "Video call · 1:23". */
export function callSummaryText(message, meId) {
  const { title, detail } = describeCall(message, meId);
  return detail ? `${title} · ${detail}` : title;
}

const ICONS = {
  video: "M17 10.5V7a1 1 0 0 0-1-1H4a1 1 0 0 0-1 1v10a1 1 0 0 0 1 1h12a1 1 0 0 0 1-1v-3.5l4 4v-11l-4 4z",
  audio: "M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1l-2.22 2.23z",
};

function mediaIcon(media) {
  return icon(ICONS[media === "audio" ? "audio" : "video"], "call-line__icon");
}

/** The <li> for a call message in the chat history. */
export function callLine(message, me) {
  const mine = message.sender_id === me.id;
  const { title, detail, missed } = describeCall(message, me.id);
  return h("li", {
    class: `message ${mine ? "message--mine" : "message--theirs"} call-line${missed ? " call-line--missed" : ""}`,
    "data-testid": "call-message",
    dataset: { seq: message.seq ?? "", outcome: message.call?.outcome || "", mine: String(mine) },
  },
  h("div", { class: "bubble call-line__bubble" },
    h("span", { class: "call-line__badge" }, mediaIcon(message.call?.media)),
    h("span", { class: "call-line__body" },
      h("span", { class: "call-line__title", "data-testid": "call-message-title", text: title }),
      h("span", { class: "call-line__detail", "data-testid": "call-message-detail", text: detail })),
    h("span", { class: "bubble__meta" }, h("time", { datetime: message.created_at, text: formatTime(message.created_at) }))));
}
