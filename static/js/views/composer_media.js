// The composer's rich side: the emoji button, pictures and files (button, drag and drop, paste)
// uploaded with a progress bar, voice notes recorded in the browser, and the reply / edit banner.
// chat.js keeps the text box and its send; actions.js asks composeIntent() what a send means.
import { humanSize, t } from "../i18n.js";
import { h, icon, show } from "./dom.js";
import { closeEmojiPicker, openEmojiPicker } from "./emoji.js";
import { mountMediaTray } from "./media_tray.js";
import { snippet } from "./message_content.js";
import { canRecord } from "./voice.js";
import { mountVoiceRecorder } from "./voice_recorder.js";

/**
 * Wires the composer's tools; returns what the rest of the page asks of it: composeIntent(roomId),
 * isEditing(roomId), showError(text), startReply(message), startEdit(message).
 */
export function mountComposerMedia(chat, store, actions) {
  const config = document.getElementById("media-config").dataset;
  const $ = (id) => chat.querySelector(`[data-testid="${id}"]`);
  const composer = $("composer");
  const input = $("composer-input");
  const sendButton = $("composer-send");
  const limits = {
    image: Number(config.imageMaxBytes), voice: Number(config.voiceMaxBytes), file: Number(config.fileMaxBytes),
  };
  const voiceMaxMs = Number(config.voiceMaxMs);
  // What the next send from the text box means, per room: a reply to a message, or an edit of one.
  const intents = new Map(); // room id -> {replyTo: message|null, editing: message|null}

  // --- the pieces, added around chat.js's text box ------------------------------------------------
  const emojiButton = iconButton("composer-emoji", t("emoji"), "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm0 18a8 8 0 1 1 0-16 8 8 0 0 1 0 16zm3.5-9a1.5 1.5 0 1 0 0-3 1.5 1.5 0 0 0 0 3zm-7 0a1.5 1.5 0 1 0 0-3 1.5 1.5 0 0 0 0 3zm3.5 6.5a5.5 5.5 0 0 0 5.1-3.5H6.9a5.5 5.5 0 0 0 5.1 3.5z");
  emojiButton.setAttribute("aria-haspopup", "dialog");
  emojiButton.setAttribute("aria-expanded", "false");
  const attachButton = iconButton("composer-attach", t("attach"), "M16.5 6v11.5a4 4 0 0 1-8 0V5a2.5 2.5 0 0 1 5 0v10.5a1 1 0 0 1-2 0V6H10v9.5a2.5 2.5 0 0 0 5 0V5a4 4 0 0 0-8 0v12.5a5.5 5.5 0 0 0 11 0V6h-1.5z");
  const fileInput = h("input", { type: "file", multiple: true, class: "visually-hidden", tabindex: "-1", "data-testid": "attach-input", "aria-hidden": "true" });
  const micButton = iconButton("composer-record", t("record_voice"), "M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5.3-3A5.3 5.3 0 0 1 12 16.1 5.3 5.3 0 0 1 6.7 11H5c0 3.4 2.7 6.2 6 6.7V21h2v-3.3c3.3-.5 6-3.3 6-6.7h-1.7z");
  micButton.hidden = !canRecord();
  composer.insertBefore(h("span", { class: "composer__tools" }, emojiButton, attachButton, fileInput), composer.firstChild);
  sendButton.before(micButton);
  // Voice notes: the recorder bar (voice_recorder.js) sends what it recorded as an upload.
  const recorder = mountVoiceRecorder(composer, {
    micButton, maxMs: voiceMaxMs, disabled: () => disabled(), showError, send: (file) => sendFile(file, "voice"),
    button: iconButton,
  });

  const contextLabel = h("span", { class: "compose-context__label", "data-testid": "compose-context-label" });
  const contextText = h("span", { class: "compose-context__text", "data-testid": "compose-context-text" });
  const contextClose = iconButton("compose-context-close", t("cancel"), "M19 6.4 17.6 5 12 10.6 6.4 5 5 6.4 10.6 12 5 17.6 6.4 19 12 13.4 17.6 19 19 17.6 13.4 12z");
  const contextBar = h("div", { class: "compose-context", "data-testid": "compose-context", hidden: true },
    h("span", { class: "compose-context__body" }, contextLabel, contextText), contextClose);
  const uploads = h("ul", { class: "uploads", "data-testid": "uploads", "aria-live": "polite" });
  const errorLine = h("p", { class: "media-error", "data-testid": "media-error", role: "alert", hidden: true });
  composer.before(uploads, errorLine, contextBar);

  const dropZone = h("div", { class: "drop-zone", "data-testid": "drop-zone", hidden: true },
    h("p", { class: "drop-zone__text", text: t("drop_here") }));
  chat.append(dropZone);

  const tray = mountMediaTray(chat.querySelector('[data-testid="media-tray"]'), {
    refusal, textMax: Number(document.getElementById("app")?.dataset.textMax) || 4000,
    pickFiles: () => fileInput.click(),
    onSend: sendChosen,
    onClose: () => input.focus(),
  });

  function iconButton(testid, label, path) {
    return h("button", { type: "button", class: "composer__tool", "data-testid": testid, title: label, "aria-label": label }, icon(path));
  }

  const roomId = () => store.state.roomId;
  const disabled = () => composer.dataset.disabled === "true";

  // chat.js decides when the composer is usable; the tools follow it.
  function followComposer() {
    const off = disabled();
    for (const button of [emojiButton, attachButton, micButton]) button.disabled = off;
    if (off) {
      closeEmojiPicker();
      tray.close();
      recorder.cancel();
    }
  }
  new MutationObserver(followComposer).observe(composer, { attributes: true, attributeFilter: ["data-disabled"] });
  followComposer();

  function showError(text) {
    errorLine.textContent = text || "";
    show(errorLine, Boolean(text));
  }

  // --- emoji into the text box ----------------------------------------------------------------------
  emojiButton.addEventListener("click", () => {
    openEmojiPicker(emojiButton, (emoji) => {
      const start = input.selectionStart ?? input.value.length;
      const end = input.selectionEnd ?? input.value.length;
      input.setRangeText(emoji, start, end, "end");
      input.dispatchEvent(new Event("input", { bubbles: true })); // chat.js sizes the box, enables send
      input.focus();
    }, { keepOpen: true });
  });

  // --- reply and edit ---------------------------------------------------------------------------------
  function setIntent(intent) {
    const id = roomId();
    if (!id) return;
    if (intent.replyTo || intent.editing) intents.set(id, intent);
    else intents.delete(id);
    paintIntent();
  }

  function paintIntent() {
    const intent = intents.get(roomId()) || {};
    const message = intent.editing || intent.replyTo;
    show(contextBar, Boolean(message));
    contextBar.dataset.mode = intent.editing ? "edit" : intent.replyTo ? "reply" : "";
    if (!message) return;
    const partner = store.partnerOf(store.room(message.room_id));
    const author = message.sender_id === store.state.me.id ? t("you") : partner?.display_name || partner?.username || t("someone");
    contextLabel.textContent = intent.editing ? t("editing") : t("replying_to", { name: author });
    contextText.textContent = snippet(message);
  }

  contextClose.addEventListener("click", () => {
    const wasEditing = intents.get(roomId())?.editing;
    setIntent({});
    if (wasEditing) setInput("");
    input.focus();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && intents.has(roomId())) {
      event.stopPropagation();
      contextClose.click();
    }
  });

  function setInput(text) {
    input.value = text;
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  let shownRoom = null;
  store.subscribe((topic) => {
    if (topic !== "route" && topic !== "chat") return;
    if (shownRoom !== roomId()) {
      shownRoom = roomId();
      showError(null);
      tray.close();
      recorder.cancel();
    }
    paintIntent();
  });

  // --- pictures and files: chosen (button, paste, drop), previewed in the tray, then sent --------------------
  attachButton.addEventListener("click", () => fileInput.click());
  fileInput.addEventListener("change", () => {
    chooseFiles([...fileInput.files]);
    fileInput.value = "";
  });
  input.addEventListener("paste", (event) => {
    const files = [...(event.clipboardData?.files || [])];
    if (!files.length) return;
    event.preventDefault();
    chooseFiles(files);
  });

  let dragDepth = 0;
  const carriesFiles = (event) => [...(event.dataTransfer?.types || [])].includes("Files");
  chat.addEventListener("dragenter", (event) => {
    if (!carriesFiles(event) || disabled()) return;
    dragDepth += 1;
    dropZone.hidden = false;
  });
  chat.addEventListener("dragleave", (event) => {
    if (!carriesFiles(event)) return;
    dragDepth = Math.max(0, dragDepth - 1);
    if (!dragDepth) dropZone.hidden = true;
  });
  chat.addEventListener("dragover", (event) => {
    if (!carriesFiles(event) || disabled()) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  chat.addEventListener("drop", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    dragDepth = 0;
    dropZone.hidden = true;
    if (!disabled()) chooseFiles([...event.dataTransfer.files]);
  });

  /** Files chosen go to the tray first; what is typed in the box becomes the first one's caption. */
  function chooseFiles(files) {
    if (!files.length || !roomId() || disabled()) return;
    showError(null);
    if (tray.isOpen()) tray.add(files);
    else tray.open(files, intents.get(roomId())?.editing ? "" : input.value);
  }

  /** Send from the tray: each its own message, in the order chosen, the box's text gone with them. */
  function sendChosen(chosen, tookComposerText) {
    if (tookComposerText) setInput("");
    for (const { file, kind, caption } of chosen) sendFile(file, kind, caption);
  }

  // Uploads run side by side, but their messages go in the order they were chosen: each waits for
  // the one before it (sent, failed or cancelled).
  let sendQueue = Promise.resolve();

  /** Upload one file to the open room, then send it as a message (with the reply, if any, and its caption). */
  function sendFile(file, kind, caption = null) {
    const id = roomId();
    if (!id || disabled()) return;
    showError(null);
    const refused = refusal(file, kind);
    if (refused) {
      showError(refused);
      return;
    }
    const replyTo = takeReply(id);
    const send = (attachment) => {
      if (attachment) actions.sendAttachment(id, attachment, replyTo, caption);
    };
    const attempt = () => upload(id, file, kind, () => attempt().then(send)); // Retry: sent once uploaded
    const uploaded = attempt();
    sendQueue = sendQueue.then(() => uploaded).then(send);
  }

  /** The upload with its line over the composer; resolves with the attachment, or null when it did not go
   * (then the line offers Retry, which sends it once uploaded). */
  function upload(id, file, kind, retry) {
    const cancelled = new AbortController();
    const row = uploadRow(file, kind, () => cancelled.abort());
    return actions.uploadAttachment(id, file, kind, row.progress, cancelled.signal).then((attachment) => {
      if (!attachment.id) throw Object.assign(new Error("upload_failed"), { code: "failed", details: {} });
      row.remove();
      return attachment;
    }).catch((error) => {
      if (error.code === "aborted") row.remove();
      else row.failed(uploadError(error, file), mayRetry(error) ? retry : null);
      return null;
    });
  }

  /** Why a file cannot go, known before uploading it: too large for its kind, or empty. */
  function refusal(file, kind) {
    if (file.size > limits[kind]) return t("too_large", { name: file.name, size: humanSize(limits[kind]) });
    if (!file.size) return t("empty_file", { name: file.name });
    return null;
  }

  /** The id of the message the reply banner is on, if any; a file sent now answers it, and the banner goes. */
  function takeReply(id) {
    const intent = intents.get(id);
    if (intent?.replyTo) setIntent({});
    return intent?.replyTo?.id || null;
  }

  /** An upload's line over the composer: its name, progress and Cancel; once failed, why, Dismiss and (when
   * trying again may work) Retry. */
  function uploadRow(file, kind, cancelUpload) {
    const bar = h("progress", { class: "upload__progress", max: "100", value: "0", "data-testid": "upload-progress" });
    const cancel = h("button", { type: "button", class: "link-button upload__cancel", "data-testid": "upload-cancel", text: t("cancel") });
    const status = h("span", { class: "upload__status", "data-testid": "upload-status", text: t("uploading") });
    const item = h("li", { class: "upload", "data-testid": "upload", "data-kind": kind },
      h("span", { class: "upload__name", text: kind === "voice" ? t("voice_note") : file.name }), status, bar, cancel);
    uploads.append(item);
    cancel.addEventListener("click", () => {
      if (item.dataset.state === "failed") item.remove();
      else cancelUpload();
    });
    return {
      progress(percent) {
        bar.value = percent;
      },
      remove() {
        item.remove();
      },
      failed(text, retry) {
        item.dataset.state = "failed";
        bar.remove();
        if (retry) {
          const again = h("button", { type: "button", class: "link-button upload__retry", "data-testid": "upload-retry", text: t("retry") });
          again.addEventListener("click", () => {
            item.remove();
            retry();
          });
          cancel.before(again);
        }
        status.textContent = text;
        status.setAttribute("role", "alert");
        status.dataset.testid = "upload-error";
        cancel.textContent = t("dismiss");
      },
    };
  }

  /** Whether sending the same bytes again may work: the connection failed, the server failed, or it asked
   * to slow down. A refusal of the file itself (not a picture, too large, its name) would come back the same. */
  function mayRetry(error) {
    const status = error.details?.status;
    return !status || status >= 500 || status === 429;
  }

  /** The server says why (in the person's language); a few cases have words of our own. */
  function uploadError(error, file) {
    const { status, explained } = error.details;
    if (status === 413 && !explained) return t("too_large", { name: file.name, size: humanSize(limits.file) });
    if (status === 0 || !explained) return t("upload_failed");
    return error.message;
  }

  return {
    /** What a send from the text box means now ({replyTo, editing}); it is used up. */
    composeIntent(id) {
      const intent = intents.get(id) || { replyTo: null, editing: null };
      intents.delete(id);
      paintIntent();
      return intent;
    },
    /** Whether the text box is editing a message in this room now (then no draft is saved). */
    isEditing(id) {
      return Boolean(intents.get(id)?.editing);
    },
    showError,
    startReply(message) {
      setIntent({ replyTo: message, editing: null });
      input.focus();
    },
    /** Edit `message`, its text in the box (or `text`, an edit the server refused, to be changed). */
    startEdit(message, text = message.text) {
      setIntent({ replyTo: null, editing: message });
      setInput(text || "");
      input.focus();
      input.setSelectionRange(input.value.length, input.value.length);
    },
  };
}
