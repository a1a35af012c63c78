// The media viewer: a picture or a video clip of the link at full size over the page, with who sent
// it and when, previous/next through the link's pictures and clips (loaded page by page from
// GET /api/rooms/<id>/attachments?kind=media, both ways from the one opened), the arrow keys, a swipe
// on a phone, a download button; Escape, the close button or the backdrop close it. The focus stays
// inside while it is open and goes back to what opened it.
import { formatDateTime, formatNumber, t } from "../i18n.js";
import { displayName, h, icon } from "./dom.js";

const VIDEO_MIME = /^video\/(mp4|webm)$/;
const PAGE = 30;
const NEAR_END = 3; // load the next page when this close to the loaded end
const SWIPE_PX = 50;
const PREV = "M15.4 7.4 14 6l-6 6 6 6 1.4-1.4-4.6-4.6z";
const NEXT = "M8.6 16.6 10 18l6-6-6-6-1.4 1.4 4.6 4.6z";
const CLOSE = "M19 6.4 17.6 5 12 10.6 6.4 5 5 6.4l5.6 5.6L5 17.6 6.4 19l5.6-5.6 5.6 5.6 1.4-1.4-5.6-5.6z";
const DOWNLOAD = "M19 9h-4V3H9v6H5l7 7 7-7zM5 18v2h14v-2H5z";

let store = null;
let actions = null;
let parts = null;
let state = null; // {roomId, items (oldest first), index, older, newer, loading: {older, newer}, opener}

/** Wire the viewer to the page's store (names) and actions (pages of items). app.js calls this once. */
export function mountMediaViewer(pageStore, pageActions) {
  store = pageStore;
  actions = pageActions;
}

export const isMedia = (attachment) => attachment?.kind === "image" || VIDEO_MIME.test(attachment?.mime || "");
export const isClip = (attachment) => VIDEO_MIME.test(attachment?.mime || "");

function build() {
  const button = (testid, label, path) => h("button", {
    type: "button", class: "viewer__button", "data-testid": testid, "aria-label": label, title: label,
  }, icon(path));
  const sender = h("p", { class: "viewer__sender", "data-testid": "viewer-sender", id: "viewer-sender" });
  const time = h("p", { class: "viewer__time", "data-testid": "viewer-time" });
  const counter = h("p", { class: "viewer__counter", "data-testid": "viewer-counter", hidden: true });
  const download = h("a", {
    class: "viewer__button", "data-testid": "lightbox-download", "aria-label": t("download"), title: t("download"),
  }, icon(DOWNLOAD));
  const close = button("lightbox-close", t("close"), CLOSE);
  const prev = button("viewer-prev", t("viewer_previous"), PREV);
  const next = button("viewer-next", t("viewer_next"), NEXT);
  const stage = h("div", { class: "viewer__stage", "data-testid": "viewer-stage" });
  const caption = h("p", { class: "viewer__caption", "data-testid": "viewer-caption", hidden: true });
  const status = h("p", { class: "visually-hidden", "aria-live": "polite", "data-testid": "viewer-status" });
  const overlay = h("div", {
    class: "viewer", "data-testid": "lightbox", role: "dialog", "aria-modal": "true", "aria-labelledby": "viewer-sender",
    hidden: true, tabindex: "-1",
  },
  h("div", { class: "viewer__bar" },
    h("div", { class: "viewer__who" }, sender, time), counter, download, close),
  h("div", { class: "viewer__body" }, prev, stage, next),
  caption, status);
  parts = { overlay, sender, time, counter, download, close, prev, next, stage, caption, status };

  close.addEventListener("click", closeMediaViewer);
  prev.addEventListener("click", () => step(-1));
  next.addEventListener("click", () => step(1));
  overlay.addEventListener("click", (event) => {
    if (event.target === stage || event.target.classList.contains("viewer__body")) closeMediaViewer();
  });
  // On the document: a key pressed while the focus sits on a button just disabled still counts.
  document.addEventListener("keydown", (event) => {
    if (!overlay.hidden) onKey(event);
  });
  // A swipe: a horizontal move of a finger (or pen) across the stage steps; a mouse drags nothing.
  let start = null;
  stage.addEventListener("pointerdown", (event) => {
    start = event.pointerType === "mouse" ? null : { x: event.clientX, y: event.clientY, id: event.pointerId };
  });
  stage.addEventListener("pointerup", (event) => {
    if (!start || start.id !== event.pointerId) return;
    const dx = event.clientX - start.x;
    const dy = event.clientY - start.y;
    start = null;
    if (Math.abs(dx) >= SWIPE_PX && Math.abs(dx) > Math.abs(dy)) step(dx < 0 ? 1 : -1); // finger to the left: the next
  });
  stage.addEventListener("pointercancel", () => { start = null; });
  document.body.append(overlay);
}

function onKey(event) {
  if (event.key === "Escape") {
    event.preventDefault();
    event.stopPropagation();
    closeMediaViewer();
  } else if ((event.key === "ArrowLeft" || event.key === "ArrowRight") && !event.target.closest("video")) {
    event.preventDefault();
    const forwards = event.key === "ArrowRight";
    step((getComputedStyle(parts.overlay).direction === "rtl") === forwards ? -1 : 1);
  } else if (event.key === "Tab") {
    const focusable = [...parts.overlay.querySelectorAll("button, a[href], video[controls]")]
      .filter((element) => !element.disabled && element.offsetParent !== null);
    if (!focusable.length) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (event.shiftKey && (document.activeElement === first || document.activeElement === parts.overlay)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  }
}

/**
 * Open the viewer on one message's picture or clip: `item` is {seq, id, sender_id, created_at, text,
 * attachment} (a message has these fields); `roomId` its link; `opener` gets the focus back.
 */
export function openMediaViewer({ roomId, item, opener = document.activeElement }) {
  if (!item?.attachment) return;
  if (!parts) build();
  state = { roomId, items: [item], index: 0, older: true, newer: true, loading: { older: false, newer: false }, opener };
  parts.overlay.hidden = false;
  document.body.classList.add("has-lightbox");
  paint();
  parts.overlay.focus();
  if (actions && roomId) {
    load("older", { before: item.seq });
    load("newer", { after: item.seq });
  } else {
    state.older = state.newer = false;
    paint();
  }
}

export function closeMediaViewer() {
  if (!parts || parts.overlay.hidden) return;
  parts.overlay.hidden = true;
  parts.stage.replaceChildren(); // a clip stops
  document.body.classList.remove("has-lightbox");
  const opener = state?.opener;
  state = null;
  (opener?.isConnected ? opener : redrawn(opener))?.focus();
}

/** The element drawn again in place of `opener` (a list read again while the viewer was open): the
 * same test id under the same message seq. */
function redrawn(opener) {
  const seq = opener?.closest("[data-seq]")?.dataset.seq;
  const testid = opener?.dataset.testid;
  if (!seq || !testid) return null;
  for (const holder of document.querySelectorAll(`[data-seq="${CSS.escape(seq)}"]`)) {
    const again = holder.dataset.testid === testid ? holder : holder.querySelector(`[data-testid="${CSS.escape(testid)}"]`);
    if (again && again.offsetParent !== null) return again;
  }
  return null;
}

export function mediaViewerOpen() {
  return Boolean(parts && !parts.overlay.hidden);
}

async function load(direction, cursor) {
  const asked = state;
  if (!asked || asked.loading[direction] || !asked[direction]) return;
  asked.loading[direction] = true;
  let page;
  try {
    page = await actions.sharedItems(asked.roomId, "media", cursor, PAGE);
  } catch {
    asked.loading[direction] = false;
    return; // the ends stay where they are; the next step asks again
  }
  asked.loading[direction] = false;
  if (state !== asked) return; // closed or opened on another item meanwhile
  const known = new Set(asked.items.map((one) => one.seq));
  const fresh = page.items.filter((one) => !known.has(one.seq)).reverse(); // oldest first
  if (direction === "older") {
    asked.items = [...fresh, ...asked.items];
    asked.index += fresh.length;
    asked.older = page.has_more;
  } else {
    asked.items = [...asked.items, ...fresh];
    asked.newer = page.has_more;
  }
  paint();
  if (asked.pending) {
    const wanted = asked.pending;
    asked.pending = 0;
    step(wanted);
  }
}

function step(delta) {
  if (!state) return;
  const target = state.index + delta;
  if (target < 0 || target >= state.items.length) {
    // Past what is loaded: go there once the page arrives.
    const direction = target < 0 ? "older" : "newer";
    if (state[direction]) {
      state.pending = delta;
      loadMore(direction);
    }
    return;
  }
  state.index = target;
  paint();
  parts.status.textContent = parts.counter.hidden ? parts.sender.textContent : parts.counter.textContent;
  if (state.index < NEAR_END) loadMore("older");
  if (state.items.length - 1 - state.index < NEAR_END) loadMore("newer");
}

function loadMore(direction) {
  const edge = direction === "older" ? state.items[0] : state.items[state.items.length - 1];
  load(direction, direction === "older" ? { before: edge.seq } : { after: edge.seq });
}

function senderName(senderId) {
  if (store && String(senderId) === String(store.state.me?.id)) return t("you");
  const room = store?.room(state.roomId);
  const partner = store?.partnerOf(room);
  return displayName(partner, t("someone"));
}

function paint() {
  const item = state.items[state.index];
  const { attachment } = item;
  parts.overlay.dataset.seq = String(item.seq);
  parts.sender.textContent = senderName(item.sender_id);
  parts.time.textContent = formatDateTime(item.created_at);
  parts.caption.textContent = item.text || "";
  parts.caption.hidden = !item.text;
  parts.download.href = attachment.url;
  parts.download.setAttribute("download", attachment.filename || "");
  const complete = !state.older && !state.newer;
  parts.counter.hidden = !complete || state.items.length < 2;
  parts.counter.textContent = t("viewer_counter", {
    index: formatNumber(state.index + 1), total: formatNumber(state.items.length),
  });
  parts.prev.disabled = state.index === 0 && !state.older;
  parts.next.disabled = state.index === state.items.length - 1 && !state.newer;
  // A button disabled under the focus drops it to the page: keep it in the viewer, where the keys work.
  if (!parts.overlay.contains(document.activeElement) || document.activeElement.disabled) parts.overlay.focus();
  const shown = parts.stage.firstElementChild;
  if (shown?.dataset.attachmentId === attachment.id) return;
  parts.stage.replaceChildren(isClip(attachment) ? clip(attachment) : picture(attachment, item));
}

function picture(attachment, item) {
  const image = h("img", {
    class: "viewer__media", "data-testid": "lightbox-image", src: attachment.url, alt: item.text || t("photo"),
    dataset: { attachmentId: attachment.id, full: attachment.url },
  });
  if (attachment.width && attachment.height) {
    image.width = attachment.width;
    image.height = attachment.height;
  }
  image.draggable = false;
  return image;
}

function clip(attachment) {
  const video = h("video", {
    class: "viewer__media", "data-testid": "viewer-video", src: attachment.url, controls: true, playsinline: true,
    preload: "metadata", "aria-label": t("video"), dataset: { attachmentId: attachment.id },
  });
  if (attachment.width && attachment.height) {
    video.width = attachment.width;
    video.height = attachment.height;
  }
  return video;
}
