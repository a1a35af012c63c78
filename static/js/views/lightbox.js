// The full picture over the page: opened from a thumbnail, closed by the button, Escape or the backdrop.
import { t } from "../i18n.js";
import { h } from "./dom.js";

let overlay = null;
let image = null;
let download = null;
let returnFocus = null;

function build() {
  image = h("img", { class: "lightbox__image", "data-testid": "lightbox-image", alt: "" });
  download = h("a", { class: "lightbox__button", "data-testid": "lightbox-download", text: t("download") });
  const close = h("button", { type: "button", class: "lightbox__button", "data-testid": "lightbox-close", text: t("close") });
  overlay = h("div", {
    class: "lightbox", "data-testid": "lightbox", role: "dialog", "aria-modal": "true", "aria-label": t("photo"), hidden: true,
    tabindex: "-1",
  }, h("div", { class: "lightbox__bar" }, download, close), h("div", { class: "lightbox__stage" }, image));
  close.addEventListener("click", closeLightbox);
  overlay.addEventListener("click", (event) => {
    if (event.target === overlay || event.target.classList.contains("lightbox__stage")) closeLightbox();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !overlay.hidden) closeLightbox();
  });
  document.body.append(overlay);
}

/** Show an image attachment at full size (width/height reserve its box while it loads). */
export function openLightbox(attachment) {
  if (!overlay) build();
  returnFocus = document.activeElement;
  image.removeAttribute("src");
  if (attachment.width && attachment.height) {
    image.width = attachment.width;
    image.height = attachment.height;
  }
  image.src = attachment.url;
  image.dataset.full = attachment.url;
  download.href = attachment.url;
  download.setAttribute("download", attachment.filename || "");
  overlay.hidden = false;
  document.body.classList.add("has-lightbox");
  overlay.focus();
}

export function closeLightbox() {
  if (!overlay || overlay.hidden) return;
  overlay.hidden = true;
  image.removeAttribute("src");
  document.body.classList.remove("has-lightbox");
  returnFocus?.focus?.();
}
