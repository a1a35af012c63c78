// Small DOM helpers. User data only ever becomes text nodes (textContent), never markup.
import { t } from "../i18n.js";

/** h("p", {class: "x", dataset: {seq: 1}}, "text", child) */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") element.className = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name === "text") element.textContent = value;
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** A 24×24 SVG icon drawn by one path (decorative: hidden from screen readers). */
export function icon(path, className = null) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  if (className) svg.setAttribute("class", className);
  const shape = document.createElementNS("http://www.w3.org/2000/svg", "path");
  shape.setAttribute("d", path);
  svg.append(shape);
  return svg;
}

export function show(element, visible) {
  element.hidden = !visible;
}

/** Up to two initials from the words that start with a letter or digit ("Nina 🌸" -> "N"). */
export function initials(name) {
  const words = (name || "").trim().split(/\s+/).filter((word) => /^[\p{L}\p{N}]/u.test(word));
  return words.slice(0, 2).map((word) => [...word][0]).join("").toUpperCase() || "?";
}

/** The person's picture (avatar_url: served only to people who share a link with them), or their
 * initials on one of the avatar colours in app.css (avatar--c0 … avatar--c7, by a hash of the id). */
export function paintAvatar(element, user) {
  const name = (user?.display_name || user?.username || "?").trim();
  const colour = Math.abs(Number(user?.id) || [...name].reduce((sum, ch) => sum + ch.codePointAt(0), 0)) % 8;
  const url = user?.avatar_url;
  if (url) {
    const known = element.querySelector("img");
    if (known?.getAttribute("src") !== url) element.replaceChildren(h("img", { class: "avatar__img", src: url, alt: "", decoding: "async" }));
  } else {
    element.textContent = initials(name);
  }
  element.dataset.hasPicture = String(Boolean(url));
  element.className = element.className.replace(/\bavatar--c\d\b/g, "").trim() + ` avatar--c${colour}`;
  return element;
}

export function avatar(user, extraClass = "") {
  return paintAvatar(h("span", { class: `avatar ${extraClass}`.trim(), "aria-hidden": "true" }), user);
}

export function displayName(user, fallback) {
  if (user?.deleted) return t("deleted_account"); // a deleted account, named in this page's language
  return user?.display_name || user?.username || fallback;
}
