// What is inside a chat bubble (text, big emoji, a picture, a voice note, a file or video clip,
// the quoted message it replies to, "edited", the tombstone) and what hangs under it (reactions,
// the hover / long-press actions: react, reply, copy, edit, delete for me or for everyone, and on a
// long press the full date and time). chat.js draws the bubble itself, its time and ticks, and draws
// with the object createMessageContent(store) gives it.
import { formatDateTime, humanSize, t } from "../i18n.js";
import { choiceDialog } from "./confirm.js";
import { h, icon } from "./dom.js";
import { closeEmojiPicker, emojiOnlyCount, openEmojiPicker } from "./emoji.js";
import { openMediaViewer } from "./media_viewer.js";
import { formatMs, renderVoicePlayer } from "./voice.js";

const QUICK_REACTIONS = ["👍", "❤️", "😂", "😮", "😢", "🙏"];
const THUMB_BOX = 280; // the largest side of a picture in the chat, CSS pixels
const LONG_PRESS_MS = 450;
const VIDEO_MIME = /^video\/(mp4|webm)$/;
const TOAST_MS = 2500;

/**
 * Wire the actions under bubbles (delegated on the message list). `composer`: composer_media.js's
 * {startReply(message), startEdit(message)}.
 */
export function mountMessageContent(list, store, actions, composer) {
  /** The open room's stored message a bubble shows. */
  function messageOf(item) {
    if (!item || !store.state.roomId || !item.dataset.seq) return null;
    return store.messageBySeq(store.state.roomId, Number(item.dataset.seq));
  }

  // "Copied": a short line in a polite live region (templates/app.html), gone after a moment.
  const toast = document.querySelector('[data-testid="toast"]');
  let toastTimer = null;
  function say(text) {
    if (!toast) return;
    toast.textContent = text;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { toast.textContent = ""; }, TOAST_MS);
  }

  async function copyText(text) {
    try {
      await navigator.clipboard.writeText(text);
      say(t("copied"));
    } catch {
      say(t("copy_failed"));
    }
  }

  /** Delete for me, always; for everyone too when it is one's own message the server may still change. */
  async function askDelete(message) {
    const everyone = forEveryone(message, store.state.me, store.room(message.room_id));
    const choice = await choiceDialog({
      title: t("delete_title"), text: everyone ? t("delete_choice") : t("delete_for_me_only"),
      confirm: t("delete_for_me"), alternative: everyone ? t("delete_for_everyone") : null,
    });
    if (choice === "ok") actions.hideMessage(message);
    else if (choice === "alternative") actions.deleteMessage(message);
  }

  list.addEventListener("click", (event) => {
    const target = event.target.closest("[data-reply-seq], [data-reply-id], [data-image], [data-action], [data-react]");
    if (!target || !list.contains(target)) return;
    const item = target.closest('[data-testid="message"]');
    if (target.dataset.replySeq || target.dataset.replyId) {
      showMessage(store.state.roomId, target.dataset.replySeq, target.dataset.replyId);
      return;
    }
    if (target.dataset.image !== undefined) {
      const message = messageOf(item);
      if (message?.attachment) openMediaViewer({ roomId: message.room_id, item: message, opener: target });
      return;
    }
    const message = messageOf(item);
    if (!message) return;
    if (target.dataset.react) {
      closeActions(list);
      item?.focus({ preventScroll: true }); // the keyboard stays on the message (chat.js keeps it there when redrawn)
      actions.react(message, target.dataset.react);
    } else if (target.dataset.action === "react-open") {
      const open = !item.classList.contains("message--reacting");
      closeActions(list);
      item.classList.toggle("message--reacting", open);
      target.setAttribute("aria-expanded", String(open));
      if (open) item.querySelector('[data-testid="quick-reaction"]')?.focus();
    } else if (target.dataset.action === "react-more") {
      openEmojiPicker(target, (emoji) => {
        closeActions(list);
        actions.react(message, emoji);
      });
    } else if (target.dataset.action === "reply") {
      closeActions(list);
      composer.startReply(message);
    } else if (target.dataset.action === "edit") {
      closeActions(list);
      composer.startEdit(message);
    } else if (target.dataset.action === "copy") {
      closeActions(list);
      // By keyboard (a click with no pointer), the focus goes back to the message; a finger leaves
      // it where it was, so that a focused message does not keep its actions showing under it.
      if (event.detail === 0) item.focus({ preventScroll: true });
      copyText(message.text);
    } else if (target.dataset.action === "delete") {
      closeActions(list);
      item.focus({ preventScroll: true });
      askDelete(message);
    } else if (target.dataset.action === "report") {
      closeActions(list);
      document.dispatchEvent(new CustomEvent("heartlink:report-message", { detail: { message } })); // views/safety.js
    }
  });

  // Touch: a long press opens the actions and the reaction bar (hover does it with a mouse).
  let pressTimer = null;
  let swallowClick = false; // the click ending this press does nothing (a keyboard's click is never swallowed)
  list.addEventListener("pointerdown", (event) => {
    if (event.pointerType === "mouse") return;
    const item = event.target.closest('[data-testid="message"]');
    if (!item?.querySelector(".message-actions") || event.target.closest("button, a, audio, video, input")) return;
    clearTimeout(pressTimer);
    pressTimer = setTimeout(() => {
      closeActions(list);
      item.classList.add("message--actions-open", "message--reacting");
      swallowClick = true; // the press opened the actions; it does not also tap what it was on (a quote)
    }, LONG_PRESS_MS);
  });
  for (const type of ["pointerup", "pointercancel", "pointermove"]) {
    list.addEventListener(type, (event) => {
      if (type !== "pointermove" || Math.abs(event.movementX) + Math.abs(event.movementY) > 6) clearTimeout(pressTimer);
    });
  }
  // A finger's tap outside open actions only closes them, as a phone's menus do: its click goes nowhere,
  // so the history closing up under the finger cannot make it a tap on whatever came under it.
  document.addEventListener("pointerdown", (event) => {
    const outside = !event.target.closest(".message--actions-open, .message--reacting, .emoji-popover");
    swallowClick = outside && event.pointerType !== "mouse" && Boolean(list.querySelector(".message--actions-open, .message--reacting"));
    if (outside) closeActions(list);
  });
  document.addEventListener("click", (event) => {
    if (!swallowClick || event.detail === 0) return;
    swallowClick = false;
    event.preventDefault();
    event.stopPropagation();
  }, true);
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    const open = list.querySelector(".message--actions-open, .message--reacting");
    if (!open) return;
    const reacting = open.classList.contains("message--reacting") && open.contains(document.activeElement);
    closeActions(list);
    if (reacting) open.querySelector('[data-action="react-open"]')?.focus();
    else if (open.contains(document.activeElement) || document.activeElement === document.body) open.focus();
  });
}

/** Open a message's actions for the keyboard (Enter, the menu key, Shift+F10): focus the first. */
export function openActions(list, item) {
  if (!item.querySelector(".message-actions")) return false;
  closeActions(list);
  item.classList.add("message--actions-open");
  item.querySelector(".message-actions button")?.focus();
  return true;
}

export function closeActions(list) {
  for (const open of list.querySelectorAll(".message--actions-open, .message--reacting")) {
    open.classList.remove("message--actions-open", "message--reacting");
    open.querySelector('[data-action="react-open"]')?.setAttribute("aria-expanded", "false");
  }
  closeEmojiPicker();
}

/** The quoted message, wherever it is in the history: chat.js loads (one not loaded yet is
 * looked for by its id), draws, centres, flashes and focuses it. */
function showMessage(roomId, seq, id) {
  const detail = seq ? { roomId, seq: Number(seq) } : { roomId, seq: null, id: Number(id) || id };
  document.dispatchEvent(new CustomEvent("heartlink:show-message", { detail }));
}

/**
 * What chat.js draws a bubble's content with, reading the quoted message, the partner and the room
 * from `store`: {contentSignature(message), renderContent(message), renderAround(message, state)}.
 */
export function createMessageContent(store) {
  const findById = (roomId, id) => store.messageById(roomId, id); // a Map: no scan per bubble

  function partnerName(roomId) {
    const partner = store.partnerOf(store.room(roomId));
    return partner?.display_name || partner?.username || t("someone");
  }

  function replyQuote(message) {
    const quoted = findById(message.room_id, message.reply_to);
    const gone = !quoted && store.isHidden(message.room_id, message.reply_to); // I deleted it for me
    const me = store.state.me;
    const author = !quoted ? "" : quoted.sender_id === me.id ? t("you") : partnerName(message.room_id);
    return h("button", {
      type: "button",
      class: `reply-quote${quoted && quoted.sender_id === me.id ? " reply-quote--mine" : ""}`,
      "data-testid": "reply-quote",
      ...(quoted ? { "data-reply-seq": String(quoted.seq) } : message.reply_to && { "data-reply-id": String(message.reply_to) }),
      title: t("go_to_replied"), // a description: the name is what it shows (WCAG 2.5.3)
    },
    h("span", { class: "reply-quote__author", text: author || t("original_message") }),
    h("span", { class: "reply-quote__text", text: quoted ? snippet(quoted) : t(gone ? "original_hidden" : "original_unavailable") }));
  }

  return {
    /** Everything renderContent/renderAround draw from, so a cached bubble is redrawn when it changes. */
    contentSignature(message) {
      const quoted = message.reply_to && findById(message.room_id, message.reply_to);
      const room = store.room(message.room_id);
      return JSON.stringify([
        message.id, message.kind, message.attachment?.id, message.reactions, message.reply_to,
        quoted ? [quoted.text, quoted.deleted, quoted.attachment?.id] : null, room?.status,
      ]);
    },
    /** The nodes inside .bubble, before chat.js's time and ticks. */
    renderContent(message) {
      if (message.deleted) {
        return [h("p", { class: "bubble__text", "data-testid": "message-text", text: t("deleted") })];
      }
      const nodes = [];
      if (message.reply_to) nodes.push(replyQuote(message));
      const attachment = message.attachment;
      if (attachment) nodes.push(renderAttachment(attachment, message.kind));
      if (message.text) {
        const count = message.kind === "text" ? emojiOnlyCount(message.text) : 0;
        nodes.push(h("p", {
          class: `bubble__text${count ? " bubble__text--emoji" : ""}${attachment ? " bubble__caption" : ""}`,
          "data-testid": "message-text",
          ...(count && { "data-emoji-only": String(count) }),
        }, count ? message.text : linkify(message.text)));
      } else if (!attachment) {
        nodes.push(h("p", { class: "bubble__text", "data-testid": "message-text", text: message.kind === "call" ? t("call") : t("attachment") }));
      }
      if (message.edited_at) nodes.push(h("span", { class: "bubble__edited", "data-testid": "message-edited", text: t("edited") }));
      return nodes;
    },
    /** Reactions with counts, and the actions a stored message offers (hover / long press). */
    renderAround(message, state) {
      return renderAround(message, state, store.state.me, store.room(message.room_id));
    },
  };
}

// Links in text: http(s) only, built as elements holding text nodes (never HTML from the message).
// "www.example.org" is a link too, to https:// (not inside an address or a path: "a.www.b", "x/www.y").
const URL_RE = /(?:\bhttps?:\/\/|(?<![\w.@/-])www\.)[^\s<>"'`，。！？、；：（）「」《》]+/giu;
const TRAILING = /[.,;:!?'"\]}»]$/u;

/** The text as strings and <a> elements, for h(): "see https://example.com." -> ["see ", <a>, "."]. */
export function linkify(text) {
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(URL_RE)) {
    let raw = match[0];
    while (TRAILING.test(raw) || (raw.endsWith(")") && raw.split("(").length <= raw.split(")").length - 1)) raw = raw.slice(0, -1);
    const bare = /^www\./i.test(raw); // "www.example.org" -> https://www.example.org/
    if (bare && !/^www\.[^./]+\.\w/i.test(raw)) continue; // "www.foo" names no host
    let href = null;
    try {
      const url = new URL(bare ? `https://${raw}` : raw);
      if (url.protocol === "http:" || url.protocol === "https:") href = url.href;
    } catch {
      href = null;
    }
    if (!href) continue;
    if (match.index > last) nodes.push(text.slice(last, match.index));
    nodes.push(h("a", { href, target: "_blank", rel: "noopener noreferrer", "data-testid": "message-link", text: raw }));
    last = match.index + raw.length;
  }
  if (last < text.length) nodes.push(text.slice(last));
  return nodes;
}

/** One line about a message: its text, or what it carries ("📷 Photo"). */
export function snippet(message) {
  if (message.deleted) return t("deleted");
  const kind = VIDEO_MIME.test(message.attachment?.mime || "") ? "video" : message.attachment?.kind || message.kind;
  const label = {
    image: `📷 ${t("photo")}`,
    video: `🎬 ${t("video")}`,
    voice: `🎤 ${t("voice_note")}${message.attachment?.duration_ms ? ` (${formatMs(message.attachment.duration_ms)})` : ""}`,
    file: `📄 ${message.attachment?.filename || t("file")}`,
  }[kind];
  if (label && message.text) return `${label.split(" ")[0]} ${message.text}`;
  return label || message.text || "";
}

function renderAttachment(attachment, kind) {
  if (attachment.kind === "image" || kind === "image") return pictureThumb(attachment);
  if (attachment.kind === "voice") return renderVoicePlayer(attachment);
  if (VIDEO_MIME.test(attachment.mime || "")) {
    const player = h("video", {
      class: "media-video__player", "data-testid": "message-video", src: attachment.url,
      controls: true, preload: "metadata", playsinline: true,
    });
    // The box is fixed before the clip loads (media.css), so loading never moves the chat; its
    // shape is the clip's when the attachment says it. CSSOM, not a style attribute: the CSP allows it.
    if (Number(attachment.width) > 0 && Number(attachment.height) > 0) {
      player.style.aspectRatio = `${Number(attachment.width)} / ${Number(attachment.height)}`;
    }
    // The clip plays where it is; the button opens it in the viewer with the link's other pictures and clips.
    const open = h("button", {
      type: "button", class: "file-card__download", "data-image": "", "data-testid": "message-video-open",
      title: t("open_clip"), "aria-label": t("open_clip"),
    }, icon("M7 14H5v5h5v-2H7v-3zm-2-4h2V7h3V5H5v5zm12 7h-3v2h5v-5h-2v3zM14 5v2h3v3h2V5h-5z"));
    return h("div", { class: "media-video" }, player, fileCard(attachment, open));
  }
  return fileCard(attachment);
}

function pictureThumb(attachment) {
  const { width, height } = fit(attachment.width, attachment.height, THUMB_BOX);
  return h("button", {
    type: "button", class: "media-image", "data-image": "", "data-testid": "message-image",
    "aria-label": t("open_picture"),
  }, h("img", {
    class: "media-image__img", src: attachment.thumb_url || attachment.url, alt: t("photo"),
    width, height, loading: "lazy", decoding: "async", draggable: "false",
  }));
}

/** width x height scaled down to fit a square box (the attributes reserve the space: no jump). */
function fit(width, height, box) {
  const w = Number(width) || box;
  const hgt = Number(height) || box;
  const scale = Math.min(1, box / Math.max(w, hgt));
  return { width: Math.max(1, Math.round(w * scale)), height: Math.max(1, Math.round(hgt * scale)) };
}

function fileCard(attachment, extra = null) {
  return h("div", { class: "file-card", "data-testid": "message-file" },
    h("span", { class: "file-card__icon", "aria-hidden": "true", text: extension(attachment.filename) }),
    h("span", { class: "file-card__body" },
      h("span", { class: "file-card__name", "data-testid": "file-name", text: attachment.filename, title: attachment.filename }),
      h("span", { class: "file-card__size", "data-testid": "file-size", text: humanSize(attachment.size) })),
    h("a", {
      class: "file-card__download", href: attachment.url, download: attachment.filename, "data-testid": "file-download",
      title: t("download"), "aria-label": `${t("download")} ${attachment.filename}`,
    }, icon("M5 20h14v-2H5v2zM19 9h-4V3H9v6H5l7 7 7-7z")),
    extra);
}

function extension(filename) {
  const match = /\.([a-z0-9]{1,4})$/i.exec(filename || "");
  return match ? match[1].toUpperCase() : "FILE";
}

// --- under the bubble ---------------------------------------------------------------------------------
/** The server's rule for delete for everyone (messages.delete): one's own message, sent, not deleted, a
 * text or an attachment, in an active link. */
function forEveryone(message, me, room) {
  return Boolean(message.id) && !message.deleted && message.sender_id === me?.id && room?.status === "active"
    && (message.kind === "text" || Boolean(message.attachment));
}

function renderAround(message, state, me, room) {
  const nodes = [];
  const reactions = Object.entries(message.reactions || {}).filter(([, users]) => users.length);
  // Stored messages drawn as bubbles always offer copy (when there is text) and delete for me, in
  // an ended link too; reacting, replying, editing and reporting are for an active link.
  const stored = state === "sent" && Boolean(message.id) && message.kind !== "system" && message.kind !== "call";
  const canAct = stored && !message.deleted && room?.status === "active";
  if (reactions.length && !message.deleted) {
    nodes.push(h("div", { class: "reactions", "data-testid": "reactions" },
      reactions.map(([emoji, users]) => {
        const mine = users.some((id) => String(id) === String(me?.id));
        return h("button", {
          type: "button", class: `reaction${mine ? " reaction--mine" : ""}`, "data-testid": "reaction",
          "data-react": canAct ? emoji : null, "data-emoji": emoji, "aria-pressed": String(mine), disabled: !canAct,
          title: mine ? t("reaction_remove") : t("reaction_add"),
        }, h("span", { class: "reaction__emoji", text: emoji }), h("span", { class: "reaction__count", "data-testid": "reaction-count", text: String(users.length) }));
      })));
  }
  if (!stored) return nodes;
  const mine = message.sender_id === me?.id;
  const editable = canAct && mine && (message.kind === "text" || message.attachment);
  // On a long press (or the keyboard's menu) the full date and time shows above the actions; a
  // pointer has it in the time's title (chat.js).
  nodes.push(h("p", { class: "message-info", "data-testid": "message-info", text: t("sent_at", { when: formatDateTime(message.created_at, { full: true }) }) }));
  nodes.push(h("div", { class: "message-actions", "data-testid": "message-actions", role: "menu", "aria-orientation": "horizontal", "aria-label": t("message_options") },
    canAct ? actionButton("react-open", t("react"), "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm-3.5 6a1.5 1.5 0 1 1 0 3 1.5 1.5 0 0 1 0-3zm7 0a1.5 1.5 0 1 1 0 3 1.5 1.5 0 0 1 0-3zM12 17.5a5.5 5.5 0 0 1-5.1-3.5h10.2a5.5 5.5 0 0 1-5.1 3.5z") : null,
    canAct ? actionButton("reply", t("reply"), "M10 9V5l-7 7 7 7v-4.1c5 0 8.5 1.6 11 5.1-1-5-4-10-11-11z") : null,
    !message.deleted && message.text ? actionButton("copy", t("copy"), "M16 1H4a2 2 0 0 0-2 2v14h2V3h12V1zm3 4H8a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h11a2 2 0 0 0 2-2V7a2 2 0 0 0-2-2zm0 16H8V7h11v14z") : null,
    editable ? actionButton("edit", t("edit"), "M3 17.25V21h3.75L17.8 9.94l-3.75-3.75L3 17.25zM20.7 7.04a1 1 0 0 0 0-1.41l-2.34-2.34a1 1 0 0 0-1.41 0l-1.83 1.83 3.75 3.75 1.83-1.83z") : null,
    actionButton("delete", t("delete"), "M6 19a2 2 0 0 0 2 2h8a2 2 0 0 0 2-2V7H6v12zM19 4h-3.5l-1-1h-5l-1 1H5v2h14V4z"),
    mine || !canAct ? null : actionButton("report", t("report_message"), "M14.4 6 14 4H5v17h2v-7h5.6l.4 2h7V6z")));
  if (!canAct) return nodes;
  const myReaction = reactions.find(([, users]) => users.some((id) => String(id) === String(me?.id)))?.[0];
  nodes.push(h("div", { class: "reaction-bar", "data-testid": "reaction-bar", role: "menu", "aria-orientation": "horizontal", "aria-label": t("react") },
    QUICK_REACTIONS.map((emoji) => h("button", {
      type: "button", class: `reaction-bar__emoji${emoji === myReaction ? " reaction-bar__emoji--mine" : ""}`,
      role: "menuitem", tabindex: "-1", "data-react": emoji, "data-testid": "quick-reaction", "aria-label": emoji, text: emoji,
    })),
    h("button", {
      type: "button", class: "reaction-bar__more", "data-action": "react-more", "data-testid": "reaction-more", role: "menuitem", tabindex: "-1",
      "aria-label": t("more_reactions"), title: t("more_reactions"), "aria-haspopup": "dialog",
    }, icon("M19 13h-6v6h-2v-6H5v-2h6V5h2v6h6v2z"))));
  return nodes;
}

function actionButton(action, label, path) {
  return h("button", {
    type: "button", class: "message-actions__button", "data-action": action, "data-testid": `message-${action}`,
    role: "menuitem", tabindex: "-1", title: label, "aria-label": label,
    ...(action === "react-open" && { "aria-haspopup": "menu", "aria-expanded": "false" }),
  }, icon(path));
}
