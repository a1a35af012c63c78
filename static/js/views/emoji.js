// Emoji: the picker (emoji-picker-element from npm, served by the app with its data, never its
// CDN), made to live under the page's strict CSP, and the "is this message only emoji" test.
import { locale } from "../i18n.js";
import { h } from "./dom.js";

const VENDOR = "/vendor";
const CHINESE = locale.toLowerCase().startsWith("zh");
const DATA_SOURCE = `${VENDOR}/emoji-picker-element-data/${CHINESE ? "zh" : "en"}/emojibase/data.json`;
// The emoji the bundled font draws (twemoji-colr-font 15: Emoji 15.0). Told to the picker, it no longer
// probes the system's fonts on a canvas, which finds none on a system without a colour emoji font and
// then hides every emoji or shows them as empty boxes.
const EMOJI_VERSION = 15;

// --- the CSP adapter ------------------------------------------------------------------------------
// The picker styles its shadow DOM with a <style> element and with `style` attributes set through
// setAttribute; the CSP (style-src 'self') refuses both. The same CSS goes in through the CSSOM
// instead, which the CSP allows: the <style> becomes a constructable stylesheet before the picker
// is ever connected, and `style` attributes set inside a picker (or inside the inert template
// copies it builds them from) are applied as element.style.cssText. Nothing else is touched.
let adapted = false;

function adaptToCsp() {
  if (adapted) return;
  adapted = true;
  const setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function setAttributeViaCssom(name, value) {
    if (this.style && String(name).toLowerCase() === "style" && isPickerPart(this)) {
      this.style.cssText = String(value);
      return;
    }
    setAttribute.call(this, name, value);
  };
}

function isPickerPart(element) {
  if (element.ownerDocument !== document) return true; // the picker's inert <template> copies
  return element.getRootNode().host?.localName === "emoji-picker";
}

function adoptStyles(picker) {
  const style = picker.shadowRoot.querySelector("style");
  if (!style) return;
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(style.textContent);
  style.remove();
  picker.shadowRoot.adoptedStyleSheets = [...picker.shadowRoot.adoptedStyleSheets, sheet];
}

let pickerModule = null;
function loadPicker() {
  adaptToCsp();
  pickerModule ||= Promise.all([
    import(`${VENDOR}/emoji-picker-element/picker.js`),
    CHINESE ? import(`${VENDOR}/emoji-picker-element/i18n/zh_CN.js`) : Promise.resolve(null),
  ]);
  return pickerModule;
}

/** A new <emoji-picker> element, styled and fed from the app's own copy of the data. */
export async function createPicker() {
  const [{ default: Picker }, i18n] = await loadPicker();
  const picker = new Picker({
    dataSource: DATA_SOURCE, locale: CHINESE ? "zh" : "en", emojiVersion: EMOJI_VERSION, ...(i18n && { i18n: i18n.default }),
  });
  adoptStyles(picker);
  return picker;
}

// --- one popover picker for the page ---------------------------------------------------------------
let popover = null;
let onPick = null;
let opener = null;

// Opened from the keyboard, the picker takes the focus (its search box, where the arrow keys then move
// through the emoji and Enter picks one); opened by touch it does not, so no on-screen keyboard pops up.
let byKeyboard = false;
document.addEventListener("keydown", () => { byKeyboard = true; }, true);
document.addEventListener("pointerdown", () => { byKeyboard = false; }, true);

function focusInto(picker) {
  if (popover.hidden) return;
  const search = picker.shadowRoot?.querySelector("input");
  if (search) search.focus();
  else requestAnimationFrame(() => focusInto(picker)); // its insides are still being drawn
}

/**
 * Open the picker next to `anchor`; `pick(unicode)` gets the chosen emoji.
 * Clicking outside or Escape closes it; opening it from the same anchor again closes it.
 */
export async function openEmojiPicker(anchor, pick, { keepOpen = false } = {}) {
  if (popover && !popover.hidden && opener === anchor) {
    closeEmojiPicker();
    return;
  }
  if (!popover) {
    popover = h("div", { class: "emoji-popover", "data-testid": "emoji-popover", hidden: true });
    document.body.append(popover);
    const picker = await createPicker();
    picker.classList.add("emoji-popover__picker");
    picker.setAttribute("data-testid", "emoji-picker");
    picker.addEventListener("emoji-click", (event) => {
      const unicode = event.detail.unicode;
      if (!unicode) return;
      const callback = onPick;
      if (!popover.dataset.keepOpen) closeEmojiPicker();
      callback?.(unicode);
    });
    popover.append(picker);
    document.addEventListener("pointerdown", (event) => {
      if (!popover.hidden && !popover.contains(event.target) && !opener?.contains(event.target)) closeEmojiPicker();
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !popover.hidden) {
        closeEmojiPicker();
        opener?.focus();
      }
    });
  }
  onPick = pick;
  opener = anchor;
  if (keepOpen) popover.dataset.keepOpen = "true";
  else delete popover.dataset.keepOpen;
  popover.hidden = false;
  place(popover, anchor);
  opener.setAttribute("aria-expanded", "true");
  if (byKeyboard) focusInto(popover.querySelector("emoji-picker"));
}

export function closeEmojiPicker() {
  if (!popover || popover.hidden) return;
  popover.hidden = true;
  opener?.setAttribute("aria-expanded", "false");
}

/** Above the anchor when there is room (the composer is at the bottom), else below; kept on screen. */
function place(element, anchor) {
  const box = anchor.getBoundingClientRect();
  const width = element.offsetWidth;
  const height = element.offsetHeight;
  const left = Math.max(8, Math.min(box.left, window.innerWidth - width - 8));
  const top = box.top - height - 8 >= 8 ? box.top - height - 8 : Math.min(box.bottom + 8, window.innerHeight - height - 8);
  element.style.setProperty("left", `${left}px`); // CSSOM: allowed by the CSP
  element.style.setProperty("top", `${Math.max(8, top)}px`);
}

// --- emoji-only messages ------------------------------------------------------------------------------
const segmenter = typeof Intl.Segmenter === "function" ? new Intl.Segmenter(undefined, { granularity: "grapheme" }) : null;
const EMOJI_GRAPHEME = /^(?:[\p{Extended_Pictographic}\p{Emoji_Modifier}\p{Emoji_Component}]|\u200d|\ufe0f|\u20e3)+$/u;
const HAS_PICTURE = /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3/u;

/** 1 to 3 emoji and nothing else (spaces aside): shown large, as in WhatsApp. */
export function emojiOnlyCount(text) {
  const bare = (text || "").replace(/\s+/g, "");
  if (!bare || bare.length > 64 || !segmenter) return 0;
  const graphemes = [...segmenter.segment(bare)].map((part) => part.segment);
  if (graphemes.length > 3) return 0;
  return graphemes.every((g) => EMOJI_GRAPHEME.test(g) && HAS_PICTURE.test(g)) ? graphemes.length : 0;
}
