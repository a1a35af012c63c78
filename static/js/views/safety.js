// Safety in the chat: the room menu (⋮) to report or block the partner, a message's context
// menu to report that message, and their dialogs (templates/partials/safety.html, safety_menu.html).
import { t } from "../i18n.js";
import { displayName, show } from "./dom.js";

export function mountSafety(app, store, actions) {
  const root = document.getElementById("safety");
  const $ = (scope, id) => scope.querySelector(`[data-testid="${id}"]`);

  const menuButton = $(app, "room-menu");
  const menu = $(app, "room-menu-list");
  const blockItem = $(menu, "menu-block");
  const messageMenu = $(root, "message-menu");
  const reportDialog = $(root, "report-dialog");
  const reportForm = $(reportDialog, "report-form");
  const reportDone = $(reportDialog, "report-done");
  const reason = $(reportDialog, "report-reason");
  const about = $(reportDialog, "report-about");
  const aboutBox = $(reportDialog, "report-about-message");
  const reportError = $(reportDialog, "report-error");
  const reportSubmit = $(reportDialog, "report-submit");
  const thenBlock = $(reportDialog, "report-then-block");
  const blockDialog = $(root, "block-dialog");
  const blockError = $(blockDialog, "block-error");
  const blockConfirm = $(blockDialog, "block-confirm");

  const blocked = new Set(); // ids of the people I blocked
  let reporting = null; // {roomId, messageId}
  let returnFocus = null; // what opened the open dialog
  let menuMessage = null; // the message a context menu was opened on

  const openRoom = () => store.state.roomId && store.room(store.state.roomId);
  const partner = () => store.partnerOf(openRoom());
  const partnerName = () => displayName(partner(), t("someone"));

  // --- the room menu ---------------------------------------------------------------------
  const keepItem = $(menu, "menu-keep");

  function render() {
    const person = partner();
    const room = openRoom();
    show(menuButton, Boolean(person));
    if (!person) {
      closeMenus();
      return;
    }
    blockItem.textContent = t(blocked.has(person.id) ? "safety_unblock_item" : "safety_block_item", { name: partnerName() });
    for (const item of menu.querySelectorAll('[data-needs="active"]')) show(item, room?.status === "active");
    const keptByMe = (room?.kept_by || []).some((id) => String(id) === String(store.state.me.id));
    keepItem.setAttribute("role", "menuitemcheckbox");
    keepItem.setAttribute("aria-checked", String(keptByMe));
    show(keepItem.parentElement, Boolean(room) && room.keepable !== false); // not after a block either way
  }

  // Arrow keys, Home and End move in the open menus; Tab leaves them.
  for (const list of [menu, messageMenu]) {
    list.addEventListener("keydown", (event) => {
      const items = [...list.querySelectorAll("button")].filter((button) => !button.closest("[hidden]"));
      const index = items.indexOf(document.activeElement);
      const step = { ArrowDown: 1, ArrowUp: -1 }[event.key];
      if (step) {
        event.preventDefault();
        items[(index + step + items.length) % items.length]?.focus();
      } else if (event.key === "Home" || event.key === "End") {
        event.preventDefault();
        items[event.key === "Home" ? 0 : items.length - 1]?.focus();
      } else if (event.key === "Tab") {
        closeMenus();
      }
    });
  }

  function closeMenus() {
    menu.hidden = true;
    messageMenu.hidden = true;
    menuButton.setAttribute("aria-expanded", "false");
  }

  menuButton.addEventListener("click", (event) => {
    event.stopPropagation();
    const opening = menu.hidden;
    closeMenus();
    if (!opening) return;
    render();
    menu.hidden = false;
    menuButton.setAttribute("aria-expanded", "true");
    [...menu.querySelectorAll("button")].find((button) => !button.closest("[hidden]"))?.focus();
  });
  menuButton.addEventListener("keydown", (event) => {
    if ((event.key === "ArrowDown" || event.key === "ArrowUp") && menu.hidden) {
      event.preventDefault();
      menuButton.click();
    }
  });
  menu.addEventListener("click", (event) => {
    const item = event.target.closest("[data-action]");
    if (!item) return;
    closeMenus();
    const person = partner();
    if (item.dataset.action === "report") openReport(null, menuButton);
    else if (item.dataset.action === "end") document.dispatchEvent(new CustomEvent("heartlink:end-link")); // views/chat.js
    else if (item.dataset.action === "keep") document.dispatchEvent(new CustomEvent("heartlink:keep-link"));
    else if (item.dataset.action === "next") document.dispatchEvent(new CustomEvent("heartlink:next-link"));
    else if (item.dataset.action === "search") document.dispatchEvent(new CustomEvent("heartlink:search")); // views/search.js
    else if (person && blocked.has(person.id)) unblock(person);
    else openBlock(menuButton);
  });
  document.addEventListener("click", (event) => {
    if (!event.target.closest(".popup-menu")) closeMenus();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && (!menu.hidden || !messageMenu.hidden)) {
      const wasRoomMenu = !menu.hidden;
      closeMenus();
      if (wasRoomMenu) menuButton.focus();
    }
  });

  // --- a message's context menu: report that message --------------------------------------
  app.querySelector('[data-testid="messages"]').addEventListener("contextmenu", (event) => {
    const bubble = event.target.closest('[data-testid="message"][data-mine="false"]');
    const roomId = store.state.roomId;
    const seq = bubble && Number(bubble.dataset.seq);
    const message = seq && store.chat(roomId).messages.find((known) => known.seq === seq);
    if (!message || message.deleted || event.defaultPrevented) return;
    event.preventDefault();
    closeMenus();
    menuMessage = message;
    messageMenu.hidden = false;
    // Positioned at the pointer (CSSOM: allowed by the CSP), kept inside the window.
    const { innerWidth, innerHeight } = window;
    const box = messageMenu.getBoundingClientRect();
    messageMenu.style.setProperty("left", `${Math.min(event.clientX, innerWidth - box.width - 8)}px`);
    messageMenu.style.setProperty("top", `${Math.min(event.clientY, innerHeight - box.height - 8)}px`);
    messageMenu.querySelector("button").focus();
  });
  document.addEventListener("heartlink:report-message", (event) => openReport(event.detail.message, document.activeElement));
  $(messageMenu, "menu-report-message").addEventListener("click", () => {
    closeMenus();
    const bubble = menuMessage && app.querySelector(`[data-testid="message"][data-seq="${menuMessage.seq}"]`);
    if (menuMessage) openReport(menuMessage, bubble);
  });

  // --- reporting ----------------------------------------------------------------------------
  function openReport(message, from) {
    const roomId = store.state.roomId;
    if (!roomId) return;
    returnFocus = from;
    reporting = { roomId, messageId: message?.id ?? null };
    $(reportDialog, "report-title").textContent = t("safety_report_title", { name: partnerName() });
    show(about, Boolean(message));
    aboutBox.checked = true;
    $(reportDialog, "report-quote").textContent = message ? message.text || t("safety_message_attachment") : "";
    reason.value = "";
    showLine(reportError, null);
    show(reportForm, true);
    show(reportDone, false);
    reportSubmit.disabled = false;
    reportDialog.showModal();
    reason.focus();
  }

  reportForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = reason.value.trim();
    if (!text) {
      showLine(reportError, t("safety_reason_missing"));
      reason.focus();
      return;
    }
    const body = { room_id: reporting.roomId, reason: text };
    if (reporting.messageId !== null && aboutBox.checked) body.message_id = reporting.messageId;
    reportSubmit.disabled = true;
    try {
      await actions.report(body);
    } catch (error) {
      showLine(reportError, error.message);
      reportSubmit.disabled = false;
      return;
    }
    $(reportDialog, "report-confirmation").textContent = t("safety_report_sent");
    const person = partner();
    show(thenBlock, Boolean(person) && !blocked.has(person.id));
    thenBlock.textContent = t("safety_report_block", { name: partnerName() });
    show(reportForm, false);
    show(reportDone, true);
    $(reportDialog, "report-close").focus();
  });
  thenBlock.addEventListener("click", () => {
    const from = returnFocus;
    reportDialog.close();
    openBlock(from);
  });

  // --- blocking -----------------------------------------------------------------------------
  function openBlock(from) {
    if (!partner()) return;
    returnFocus = from;
    $(blockDialog, "block-title").textContent = t("safety_block_title", { name: partnerName() });
    showLine(blockError, null);
    blockConfirm.disabled = false;
    blockDialog.showModal();
    $(blockDialog, "block-cancel").focus();
  }

  $(blockDialog, "block-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const person = partner();
    const room = openRoom();
    if (!person) return;
    blockConfirm.disabled = true;
    try {
      remember((await actions.block(person.id)).blocked);
    } catch (error) {
      showLine(blockError, error.message);
      blockConfirm.disabled = false;
      return;
    }
    blockDialog.close();
    // The server also says so over the socket (room:ended); this shows it at once.
    if (room?.status === "active") store.roomEnded({ room_id: room.id, by: store.state.me.id, reason: "blocked" });
    render();
  });

  async function unblock(person) {
    try {
      remember((await actions.unblock(person.id)).blocked);
    } catch {
      return; // the item stays "Unblock"; Settings lists blocked people too
    }
    render();
  }

  function remember(people) {
    blocked.clear();
    for (const person of people) blocked.add(person.id);
  }

  // --- shared bits ----------------------------------------------------------------------------
  function showLine(element, text) {
    element.textContent = text || "";
    show(element, Boolean(text));
  }

  // A closed dialog gives the focus back to what opened it (the ⋮ button, the message). The browser's own
  // return goes to the menu item that was focused, which the closed menu hides: focus would fall to <body>.
  for (const dialog of [reportDialog, blockDialog]) {
    dialog.addEventListener("click", (event) => {
      if (event.target.closest("[data-close]") || event.target === dialog) dialog.close(); // button or backdrop
    });
    dialog.addEventListener("close", () => {
      const lost = !document.activeElement || document.activeElement === document.body || dialog.contains(document.activeElement);
      if (lost && returnFocus?.isConnected && returnFocus.getClientRects().length) returnFocus.focus();
    });
  }

  store.subscribe((topic) => {
    if (topic === "route" || topic === "rooms" || topic === "chat") render();
  });
  actions.blockedPeople().then(({ blocked: people }) => {
    remember(people);
    render();
  }, () => {});
  render();
}
