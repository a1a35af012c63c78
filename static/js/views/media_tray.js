// The tray over the chat where pictures and files wait before they go (as WhatsApp Web's): the
// chosen item large (a picture, a clip's player or a file's card), a caption for each, a strip of
// everything chosen with a remove on each and "add more", and Send. Escape or Cancel discards.
// What cannot go (too large, empty, a "picture" that is not one) is named here and never sent.
// The markup is templates/partials/media_tray.html; composer_media.js uploads and sends.
import { humanSize, t } from "../i18n.js";
import { h, show } from "./dom.js";

export const MAX_ITEMS = 10;
const IMAGE_TYPES = new Set(["image/jpeg", "image/png", "image/gif", "image/webp"]);
const VIDEO_TYPES = new Set(["video/mp4", "video/webm"]);

/** The kind a file is uploaded as: a picture the server can read, or any other file. */
export function kindOf(file) {
  return IMAGE_TYPES.has(file.type) ? "image" : "file";
}

/**
 * refusal(file, kind)  why it cannot go (too large, empty), known before uploading; or null
 * textMax       the longest caption (as a text message)
 * pickFiles()   opens the file chooser ("add more"); what is chosen comes back through add()
 * onSend(items, tookComposerText)  the items that may go, in order: [{file, kind, caption}]; whether
 *               the send box's text went with them (as a caption), so the box is emptied
 * onClose()     after the person closes it (sent or discarded): the focus goes back to the composer
 * Returns {open(files, caption), add(files), close() (quietly: the room changed), isOpen()}.
 */
export function mountMediaTray(tray, { refusal, textMax, pickFiles, onSend, onClose }) {
  const $ = (id) => tray.querySelector(`[data-testid="${id}"]`);
  const title = $("tray-title");
  const notice = $("tray-notice");
  const stage = $("tray-stage");
  const caption = $("tray-caption");
  const thumbs = $("tray-thumbs");
  const sendButton = $("tray-send");
  const count = $("tray-count");
  let items = []; // {id, file, kind, url, caption, refused}
  let current = null;
  let nextId = 1;
  const sendLabel = sendButton.getAttribute("aria-label");

  function add(files) {
    const room = MAX_ITEMS - items.length;
    const taken = files.slice(0, Math.max(0, room));
    for (const file of taken) {
      const kind = kindOf(file);
      const item = { id: nextId++, file, kind, url: null, caption: "", refused: refusal(file, kind) };
      if (!item.refused && (kind === "image" || VIDEO_TYPES.has(file.type))) item.url = URL.createObjectURL(file);
      items.push(item);
      if (kind === "image" && item.url) checkPicture(item);
    }
    const left = files.length - taken.length;
    showNotice(left > 0 ? t("tray_too_many", { max: MAX_ITEMS, count: left }) : null);
    if (taken.length) select(items[items.length - taken.length]); // the first of those just added
    paint();
  }

  /** A file called a picture that does not decode is refused here rather than by the server. */
  function checkPicture(item) {
    const probe = new Image();
    probe.addEventListener("error", () => {
      if (!items.includes(item)) return;
      URL.revokeObjectURL(item.url);
      item.url = null;
      item.refused = t("not_a_picture", { name: item.file.name });
      paint();
    });
    probe.src = item.url;
  }

  function showNotice(text) {
    notice.textContent = text || "";
    show(notice, Boolean(text));
  }

  function keepCaption() {
    if (current) current.caption = caption.value;
  }

  function select(item) {
    keepCaption();
    current = item;
    caption.value = item?.caption || "";
    paint();
  }

  function remove(item) {
    const at = items.indexOf(item);
    if (at < 0) return;
    if (item.url) URL.revokeObjectURL(item.url);
    items.splice(at, 1);
    if (!items.length) {
      close();
      return;
    }
    if (current === item) {
      current = null;
      select(items[Math.min(at, items.length - 1)]);
    } else {
      paint();
    }
    const thumb = thumbs.querySelector(`[data-item="${current.id}"]`);
    thumb?.focus();
  }

  function preview(item) {
    if (item.refused) {
      return h("div", { class: "tray-file tray-file--refused", "data-testid": "tray-refused" },
        h("span", { class: "tray-file__icon", "aria-hidden": "true", text: "⚠️" }),
        h("p", { class: "tray-file__reason", text: item.refused }));
    }
    if (item.kind === "image") {
      return h("img", { class: "tray__picture", "data-testid": "tray-picture", src: item.url, alt: item.file.name });
    }
    if (item.url) {
      return h("video", { class: "tray__video", "data-testid": "tray-video", src: item.url, controls: true, preload: "metadata", playsinline: true });
    }
    return h("div", { class: "tray-file", "data-testid": "tray-file" },
      h("span", { class: "tray-file__icon", "aria-hidden": "true", text: "📄" }),
      h("p", { class: "tray-file__name", text: item.file.name }),
      h("p", { class: "tray-file__size", text: humanSize(item.file.size) }));
  }

  function thumb(item) {
    const chosen = item === current;
    let face;
    if (item.kind === "image" && item.url) face = h("img", { class: "tray-thumb__img", src: item.url, alt: "" });
    else face = h("span", { class: "tray-thumb__icon", "aria-hidden": "true", text: item.refused ? "⚠️" : item.url ? "🎬" : "📄" });
    const label = item.refused ? t("tray_not_sent", { name: item.file.name }) : item.file.name;
    const button = h("button", {
      type: "button", class: "tray-thumb", "data-testid": "tray-thumb", "data-item": item.id,
      "aria-label": label, title: label, "aria-current": chosen ? "true" : null,
      dataset: { refused: item.refused ? "true" : "false" },
    }, face);
    button.addEventListener("click", () => {
      select(item);
      caption.focus();
    });
    const removeButton = h("button", {
      type: "button", class: "tray-thumb__remove", "data-testid": "tray-remove",
      "aria-label": t("tray_remove", { name: item.file.name }), title: t("tray_remove", { name: item.file.name }), text: "×",
    });
    removeButton.addEventListener("click", () => remove(item));
    return h("li", { class: "tray__thumb-item", "data-testid": "tray-item" }, button, removeButton);
  }

  function paint() {
    if (!current) return;
    title.textContent = current.file.name;
    stage.replaceChildren(preview(current));
    caption.disabled = Boolean(current.refused);
    thumbs.replaceChildren(...items.map(thumb));
    // The chosen one in view on a narrow strip (a pasted picture joins at its end).
    thumbs.querySelector('[aria-current="true"]')?.closest("li, .tray-thumb")?.scrollIntoView({ block: "nearest", inline: "nearest" });
    const sendable = items.filter((item) => !item.refused).length;
    count.textContent = items.length > 1 ? String(sendable) : "";
    sendButton.setAttribute("aria-label", items.length > 1 ? t("tray_send", { count: sendable }) : sendLabel);
    sendButton.disabled = sendable === 0;
  }

  function send() {
    keepCaption();
    const going = items.filter((item) => !item.refused);
    if (!going.length) return;
    const long = going.find((item) => item.caption.trim().length > textMax);
    if (long) {
      select(long);
      showNotice(t("too_long", { count: long.caption.trim().length, max: textMax }));
      caption.focus();
      return;
    }
    const chosen = going.map(({ file, kind, caption: text }) => ({ file, kind, caption: text.trim() ? text : null }));
    const tookComposerText = going.some((item) => item.fromComposer);
    close();
    onSend(chosen, tookComposerText);
  }

  function open(files, startCaption = "") {
    if (isOpen()) {
      add(files);
      return;
    }
    tray.hidden = false;
    document.body.classList.add("has-tray");
    add(files);
    if (!items.length) {
      close();
      return;
    }
    // What was typed in the send box becomes the caption of the first item that can go.
    const first = items.find((item) => !item.refused);
    if (first && startCaption) {
      first.caption = startCaption;
      first.fromComposer = true;
      if (current === first) caption.value = startCaption;
    }
    caption.focus();
    caption.setSelectionRange(caption.value.length, caption.value.length);
  }

  /** Empties and hides the tray; `byPerson` (Cancel, Escape, Send) hands the focus back. */
  function close(byPerson = true) {
    if (!isOpen()) return;
    for (const item of items) if (item.url) URL.revokeObjectURL(item.url);
    items = [];
    current = null;
    stage.replaceChildren();
    thumbs.replaceChildren();
    caption.value = "";
    showNotice(null);
    tray.hidden = true;
    document.body.classList.remove("has-tray");
    if (byPerson) onClose();
  }

  function isOpen() {
    return !tray.hidden;
  }

  $("tray-cancel").addEventListener("click", () => close());
  $("tray-add").addEventListener("click", () => pickFiles());
  sendButton.addEventListener("click", send);
  caption.addEventListener("input", keepCaption);
  caption.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  });
  caption.addEventListener("paste", (event) => {
    const files = [...(event.clipboardData?.files || [])];
    if (!files.length) return;
    event.preventDefault();
    add(files);
  });
  // A dialog: Escape discards, and Tab goes round inside it.
  tray.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close();
      return;
    }
    if (event.key !== "Tab") return;
    const focusable = [...tray.querySelectorAll("button, textarea, video, [href]")]
      .filter((element) => !element.disabled && element.getClientRects().length);
    if (!focusable.length) return;
    const first = focusable[0];
    const last = focusable.at(-1);
    if (event.shiftKey && (document.activeElement === first || !tray.contains(document.activeElement))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (document.activeElement === last || !tray.contains(document.activeElement))) {
      event.preventDefault();
      first.focus();
    }
  });
  // Focus that leaves the dialog (a click on the page behind) comes back to it.
  const behind = [tray.closest(".main"), document.querySelector(".sidebar")].filter(Boolean);
  document.addEventListener("focusin", (event) => {
    if (!isOpen() || tray.contains(event.target) || !behind.some((part) => part.contains(event.target))) return;
    if (caption.disabled) sendButton.focus();
    else caption.focus();
  });

  return { open, add, close: () => close(false), isOpen };
}
