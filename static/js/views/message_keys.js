// The message list by keyboard: one message is in the Tab order at a time (roving tabindex);
// Up/Down (and Home/End) move between messages; Enter, the menu key or Shift+F10 opens the
// message's actions (react, reply, copy, edit, delete, report), where the arrow keys move and Escape
// closes (message_content.js). The reaction bar is a menu too. A long history is drawn in a
// window (chat.js): the next message may not be in the DOM yet, so the step is asked of chat.js
// (the "heartlink:message-step" event on the list), which draws it; the DOM order is the fallback.
import { closeActions, openActions } from "./message_content.js";

const ITEMS = '[data-testid="message"], [data-testid="call-message"]';
const MENUS = ".message-actions, .reaction-bar";

export function mountMessageKeys(list) {
  let current = null; // the key (data-seq or data-client-id) of the message in the Tab order

  const keyOf = (item) => item.dataset.seq || item.dataset.clientId || "";
  const items = () => [...list.querySelectorAll(ITEMS)];

  function settle() {
    const all = items();
    if (!all.length) return;
    let chosen = all.find((item) => keyOf(item) === current);
    if (!chosen) chosen = all[all.length - 1];
    for (const item of all) {
      if (!item.hasAttribute("tabindex") || item.getAttribute("tabindex") !== (item === chosen ? "0" : "-1")) {
        item.setAttribute("tabindex", item === chosen ? "0" : "-1");
      }
    }
  }

  function focusItem(item) {
    if (!item) return;
    current = keyOf(item);
    settle();
    item.focus();
  }

  list.addEventListener("focusin", (event) => {
    const item = event.target.closest(ITEMS);
    if (item && event.target === item) {
      current = keyOf(item);
      settle();
    }
  });

  list.addEventListener("keydown", (event) => {
    const menu = event.target.closest(MENUS);
    if (menu) {
      moveInMenu(event, menu);
      return;
    }
    const item = event.target.closest(ITEMS);
    if (!item || event.target !== item) return;
    const step = { ArrowUp: -1, ArrowDown: 1, Home: "home", End: "end" }[event.key];
    if (step !== undefined) {
      event.preventDefault();
      const ask = new CustomEvent("heartlink:message-step", { detail: { key: item.dataset.key, step, element: undefined } });
      list.dispatchEvent(ask);
      if (ask.detail.element !== undefined) {
        if (ask.detail.element) focusItem(ask.detail.element);
        return;
      }
      const all = items();
      const index = all.indexOf(item);
      const go = { [-1]: index - 1, 1: index + 1, home: 0, end: all.length - 1 }[step];
      focusItem(all[Math.max(0, Math.min(all.length - 1, go))]);
    } else if (event.key === "Enter" || event.key === " " || event.key === "ContextMenu" || (event.key === "F10" && event.shiftKey)) {
      if (openActions(list, item)) event.preventDefault();
    }
  });

  function moveInMenu(event, menu) {
    const buttons = [...menu.querySelectorAll("button:not([disabled])")];
    const index = buttons.indexOf(document.activeElement);
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
    if (step) {
      event.preventDefault();
      buttons[(index + step + buttons.length) % buttons.length]?.focus();
    } else if (event.key === "Home" || event.key === "End") {
      event.preventDefault();
      buttons[event.key === "Home" ? 0 : buttons.length - 1]?.focus();
    } else if (event.key === "Tab") {
      const item = menu.closest(ITEMS);
      closeActions(list);
      if (item) {
        event.preventDefault();
        focusItem(item);
      }
    }
  }

  new MutationObserver(settle).observe(list, { childList: true });
}
