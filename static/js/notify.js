// Alerts: the unread total in the tab title and as a badge on the favicon, and (with the person's
// permission, asked after their first match, never on page load) a browser notification and a
// short sound for a match found, a message while the page is hidden, and an incoming call.
// Clicking a notification focuses the chat it is about. Both can be turned off in Settings.
import { t } from "./i18n.js";
import { pref } from "./prefs.js";
import { playTone } from "./sounds.js";
import { displayName } from "./views/dom.js";

const hidden = () => document.visibilityState !== "visible";
const canNotify = () => "Notification" in window && Notification.permission === "granted" && pref("notifications") === "on";

export function mountNotify(store, calls, actions) {
  const baseTitle = document.title;
  const icon = document.querySelector('link[rel="icon"]');
  const iconUrl = icon?.href;
  let shownCount = 0;

  // --- title and favicon badge ---------------------------------------------------------------
  function unreadTotal() {
    let unread = 0;
    for (const room of store.state.rooms.values()) unread += room.unread > 0 ? room.unread : 0;
    return unread;
  }

  function renderTitle() {
    const unread = unreadTotal();
    const count = unread > 99 ? "99+" : unread;
    document.title = unread ? t("title_unread", { count, title: baseTitle }) : baseTitle;
    if (unread !== shownCount) {
      shownCount = unread;
      paintBadge(unread ? String(count) : null);
    }
  }

  let heart = null;
  function paintBadge(text) {
    if (!icon) return;
    document.documentElement.dataset.unreadBadge = text || "";
    if (!text) {
      icon.href = iconUrl;
      return;
    }
    const draw = () => {
      const canvas = document.createElement("canvas");
      canvas.width = canvas.height = 64;
      const context = canvas.getContext("2d");
      if (!context) return;
      if (heart?.complete && heart.naturalWidth) context.drawImage(heart, 0, 0, 64, 64);
      context.fillStyle = "#b91c1c";
      context.beginPath();
      context.arc(44, 20, 20, 0, 2 * Math.PI);
      context.fill();
      context.fillStyle = "#ffffff";
      context.font = `bold ${text.length > 2 ? 18 : 26}px sans-serif`;
      context.textAlign = "center";
      context.textBaseline = "middle";
      context.fillText(text, 44, 21);
      icon.href = canvas.toDataURL("image/png");
    };
    if (!heart) {
      heart = new Image();
      heart.addEventListener("load", () => shownCount && paintBadge(String(shownCount > 99 ? "99+" : shownCount)), { once: true });
      heart.src = iconUrl;
    }
    draw();
  }

  // --- notifications and sound -----------------------------------------------------------------
  let askedPermission = false;
  function askPermission() {
    if (askedPermission || !("Notification" in window) || Notification.permission !== "default" || pref("notifications") !== "on") return;
    askedPermission = true;
    Notification.requestPermission().catch(() => {});
  }

  function alert({ title, body, roomId, tag, sound = true }) {
    if (sound && pref("sound") === "on") playTone("notify");
    if (!canNotify() || !hidden()) return;
    try {
      const notification = new Notification(title, { body, tag, icon: iconUrl, lang: document.documentElement.lang });
      notification.addEventListener("click", () => {
        window.focus();
        if (roomId) actions.openRoom(roomId);
        notification.close();
      });
    } catch {
      // Notifications from a page are not allowed here (some mobile browsers): the title still counts.
    }
  }

  function messageText(message) {
    if (message.deleted) return t("deleted");
    if (message.text) return message.text;
    return { image: `📷 ${t("photo")}`, voice: `🎤 ${t("voice_note")}`, file: `📄 ${message.attachment?.filename || t("file")}` }[message.kind] || t("attachment");
  }

  store.subscribe((topic, detail) => {
    if (topic === "rooms" || topic === "route") renderTitle();
    if (topic === "matched") {
      askPermission();
      const partner = store.partnerOf(detail.room);
      alert({ title: t("notify_match_title"), body: t("notify_match_body", { name: displayName(partner, t("someone")) }), roomId: detail.room.id, tag: `match-${detail.room.id}` });
    }
    if (topic === "chat" && detail?.live && detail.incoming && detail.message.kind !== "call") { // a call rang already
      const message = detail.message;
      const elsewhere = store.state.roomId !== message.room_id;
      if (!hidden() && !elsewhere) return;
      const room = store.room(message.room_id);
      const name = displayName(store.partnerOf(room), t("someone"));
      alert({ title: name, body: messageText(message), roomId: message.room_id, tag: `room-${message.room_id}` });
    }
  });

  let ringing = null;
  calls.subscribe((call) => {
    const id = call?.phase === "incoming" ? call.id : null;
    if (id && id !== ringing) {
      const name = displayName(call.partner, t("someone"));
      alert({
        title: call.media === "video" ? t("call_incoming_video") : t("call_incoming_audio"), body: name,
        roomId: call.roomId, tag: `call-${id}`, sound: false, // the ringtone plays already
      });
    }
    ringing = id;
  });
  renderTitle();
}
