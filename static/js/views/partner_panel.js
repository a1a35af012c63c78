// The partner panel (WhatsApp Web's contact info): the partner's name or picture in the chat header
// opens it, beside the chat on a wide screen and over it on a phone. It shows who they are as far as
// the reveal allows (until both have written enough, initials and the blurred picture: the room's
// partner object already says so), the interests the two share, and what the link has shared, by
// tab: pictures and clips (one opens the media viewer), files (a click downloads), voice notes
// (they play here). Each tab reads GET /api/rooms/<id>/attachments page by page.
import { formatDateTime, formatNumber, humanSize, t } from "../i18n.js";
import { displayName, h, icon, paintAvatar } from "./dom.js";
import { isClip, mediaViewerOpen, openMediaViewer } from "./media_viewer.js";
import { renderVoicePlayer } from "./voice.js";

const KINDS = ["media", "files", "voice"];
const PAGE = 30;
const CLOSE = "M19 6.4 17.6 5 12 10.6 6.4 5 5 6.4l5.6 5.6L5 17.6 6.4 19l5.6-5.6 5.6 5.6 1.4-1.4-5.6-5.6z";
const PLAY = "M8 5v14l11-7z";
const FILE = "M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8l-6-6zm-1 7V3.5L18.5 9H13z";

export function mountPartnerPanel(app, store, actions) {
  const header = app.querySelector(".chat__header");
  const nameButton = app.querySelector('[data-testid="partner-button"]');
  const avatarInHeader = app.querySelector('[data-testid="partner-avatar"]');
  const main = app.querySelector(".main");

  // --- the panel's parts -----------------------------------------------------------------------
  const close = h("button", {
    type: "button", class: "icon-button", "data-testid": "partner-panel-close", "aria-label": t("close"), title: t("close"),
  }, icon(CLOSE));
  const title = h("h2", { class: "partner-panel__title", id: "partner-panel-title", text: t("panel_title") });
  const avatar = h("span", { class: "avatar partner-panel__avatar", "data-testid": "panel-avatar", "aria-hidden": "true" });
  const name = h("p", { class: "partner-panel__name", "data-testid": "panel-name" });
  const username = h("p", { class: "partner-panel__username", "data-testid": "panel-username" });
  const veiledNote = h("p", { class: "partner-panel__note", "data-testid": "panel-veiled-note", hidden: true });
  const interests = h("ul", { class: "partner-panel__interests", "data-testid": "panel-interests", "aria-labelledby": "panel-interests-title" });
  const noInterests = h("p", { class: "partner-panel__empty", "data-testid": "panel-no-interests", text: t("panel_no_interests") });

  const tabs = {};
  const panels = {};
  const lists = {};
  const more = {};
  const empties = {};
  const tablist = h("div", { class: "partner-panel__tabs", role: "tablist", "aria-label": t("panel_shared") });
  for (const kind of KINDS) {
    tabs[kind] = h("button", {
      type: "button", role: "tab", class: "partner-panel__tab", id: `panel-tab-${kind}`, "aria-controls": `panel-${kind}`,
      "aria-selected": "false", tabindex: "-1", "data-testid": `panel-tab-${kind}`, text: t(`panel_tab_${kind}`),
    });
    lists[kind] = h("ul", { class: `partner-panel__list partner-panel__list--${kind}`, "data-testid": `panel-list-${kind}` });
    more[kind] = h("button", {
      type: "button", class: "button button--ghost button--small partner-panel__more", "data-testid": `panel-more-${kind}`,
      text: t("panel_more"), hidden: true,
    });
    empties[kind] = h("p", { class: "partner-panel__empty", "data-testid": `panel-empty-${kind}`, text: t(`panel_empty_${kind}`), hidden: true });
    panels[kind] = h("div", {
      role: "tabpanel", class: "partner-panel__tabpanel", id: `panel-${kind}`, "aria-labelledby": `panel-tab-${kind}`,
      tabindex: "0", hidden: true, "data-testid": `panel-${kind}`,
    }, lists[kind], empties[kind], more[kind]);
    tablist.append(tabs[kind]);
    tabs[kind].addEventListener("click", () => select(kind));
    more[kind].addEventListener("click", () => load(kind));
  }

  // Report and block: the ⋮ menu's own items do it (views/safety.js), with their dialogs and words.
  const menuItem = (testid) => app.querySelector(`[data-testid="room-menu-list"] [data-testid="${testid}"]`);
  const safetyButtons = ["menu-report", "menu-block"].map((testid) => {
    const button = h("button", {
      type: "button", class: `partner-panel__safety${testid === "menu-block" ? " partner-panel__safety--danger" : ""}`,
      "data-testid": `panel-${testid.slice(5)}`,
    });
    button.addEventListener("click", () => {
      hide({ restoreFocus: false });
      menuItem(testid)?.click();
    });
    return button;
  });

  const panel = h("section", {
    class: "partner-panel", "data-testid": "partner-panel", role: "dialog", "aria-labelledby": "partner-panel-title",
    hidden: true, tabindex: "-1",
  },
  h("header", { class: "partner-panel__bar" }, close, title),
  h("div", { class: "partner-panel__scroll" },
    h("div", { class: "partner-panel__profile" }, avatar, name, username, veiledNote),
    h("section", { class: "partner-panel__section", "aria-labelledby": "panel-interests-title" },
      h("h3", { class: "partner-panel__heading", id: "panel-interests-title", text: t("panel_interests") }),
      interests, noInterests),
    h("section", { class: "partner-panel__section", "aria-labelledby": "panel-shared-title" },
      h("h3", { class: "partner-panel__heading", id: "panel-shared-title", text: t("panel_shared") }),
      tablist, ...KINDS.map((kind) => panels[kind])),
    h("div", { class: "partner-panel__section partner-panel__safety-list" }, ...safetyButtons)));
  main.append(panel);

  let shown = null; // {roomId, kind, pages: {kind: {items, more, cursor, loading}}, opener}

  // --- opening and closing -------------------------------------------------------------------
  function open(opener) {
    const roomId = store.state.roomId;
    if (!roomId || !store.partnerOf(store.room(roomId))) return;
    shown = { roomId, kind: shown?.roomId === roomId ? shown.kind : "media", pages: {}, opener };
    panel.hidden = false;
    main.classList.add("main--panel");
    nameButton.setAttribute("aria-expanded", "true");
    paintProfile();
    refresh();
    select(shown.kind, false);
    close.focus();
  }

  /** Read every tab again from its newest page. */
  function refresh() {
    if (!shown) return;
    shown.pages = {};
    for (const kind of KINDS) {
      lists[kind].replaceChildren();
      shown.pages[kind] = { items: [], more: true, cursor: null, loading: false };
      load(kind);
    }
  }

  function hide({ restoreFocus = true } = {}) {
    if (panel.hidden) return;
    panel.hidden = true;
    main.classList.remove("main--panel");
    nameButton.setAttribute("aria-expanded", "false");
    for (const audio of panel.querySelectorAll("audio")) audio.pause();
    const opener = shown?.opener;
    shown = null;
    if (restoreFocus) (opener?.isConnected && opener.offsetParent !== null ? opener : nameButton).focus();
  }

  nameButton.addEventListener("click", () => (panel.hidden ? open(nameButton) : hide()));
  avatarInHeader.addEventListener("click", () => (panel.hidden ? open(nameButton) : hide())); // a mouse or a finger; the keyboard has the name
  close.addEventListener("click", () => hide());
  // On a phone the panel is the whole screen: modal, so the focus stays in it (Tab wraps).
  const phone = window.matchMedia("(max-width: 999px)");
  const paintModal = () => panel.setAttribute("aria-modal", String(phone.matches));
  phone.addEventListener("change", paintModal);
  paintModal();
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !mediaViewerOpen() && !event.defaultPrevented) {
      event.preventDefault();
      hide();
    } else if (event.key === "Tab" && phone.matches) {
      const focusable = [...panel.querySelectorAll("button, a[href], audio[controls], [tabindex='0']")]
        .filter((element) => !element.disabled && element.getClientRects().length && element.tabIndex >= 0);
      const first = focusable[0];
      const last = focusable[focusable.length - 1];
      if (event.shiftKey && (document.activeElement === first || document.activeElement === panel)) {
        event.preventDefault();
        last?.focus();
      } else if (!event.shiftKey && document.activeElement === last) {
        event.preventDefault();
        first?.focus();
      }
    }
  });

  // --- who they are -----------------------------------------------------------------------------
  function paintProfile() {
    if (!shown) return;
    const room = store.room(shown.roomId);
    const partner = store.partnerOf(room);
    if (!partner) return;
    paintAvatar(avatar, partner);
    avatar.dataset.veiled = String(Boolean(partner.veiled));
    name.textContent = displayName(partner, t("someone"));
    username.textContent = partner.username && !partner.veiled ? `@${partner.username}` : "";
    username.hidden = !username.textContent;
    const reveal = room?.reveal;
    veiledNote.hidden = !partner.veiled;
    veiledNote.textContent = partner.veiled
      ? t("panel_veiled", { count: formatNumber(reveal?.after || 0) })
      : "";
    const tags = room?.shared_interests || [];
    interests.replaceChildren(...tags.map((tag) => h("li", { class: "chip partner-panel__interest", "data-testid": "panel-interest", text: tag })));
    interests.hidden = !tags.length;
    noInterests.hidden = Boolean(tags.length);
    for (const [button, testid] of [[safetyButtons[0], "menu-report"], [safetyButtons[1], "menu-block"]]) {
      button.textContent = menuItem(testid)?.textContent || "";
      button.hidden = !button.textContent;
    }
  }

  // --- tabs: arrow keys, Home and End move between them (and select, as the ARIA pattern says) ---
  function select(kind, focus = true) {
    if (!shown) return;
    shown.kind = kind;
    for (const other of KINDS) {
      const on = other === kind;
      tabs[other].setAttribute("aria-selected", String(on));
      tabs[other].tabIndex = on ? 0 : -1;
      panels[other].hidden = !on;
    }
    if (focus) tabs[kind].focus();
  }
  tablist.addEventListener("keydown", (event) => {
    const index = KINDS.indexOf(shown?.kind);
    const rtl = getComputedStyle(tablist).direction === "rtl";
    const moves = { ArrowRight: rtl ? -1 : 1, ArrowLeft: rtl ? 1 : -1, Home: -index, End: KINDS.length - 1 - index };
    if (!(event.key in moves) || index < 0) return;
    event.preventDefault();
    select(KINDS[(index + moves[event.key] + KINDS.length) % KINDS.length]);
  });

  // --- the shared items, page by page ---------------------------------------------------------------
  async function load(kind) {
    const asked = shown;
    const page = asked?.pages[kind];
    if (!page || page.loading || !page.more) return;
    page.loading = true;
    panels[kind].setAttribute("aria-busy", "true");
    let answer;
    try {
      answer = await actions.sharedItems(asked.roomId, kind, page.cursor ? { before: page.cursor } : {}, PAGE);
    } catch {
      answer = null;
    }
    page.loading = false;
    panels[kind].removeAttribute("aria-busy");
    if (shown !== asked || asked.pages[kind] !== page) return; // closed, or read again meanwhile
    if (answer) {
      page.items.push(...answer.items);
      page.more = answer.has_more;
      page.cursor = answer.next_before;
      lists[kind].append(...answer.items.map((item) => render(kind, item)));
    }
    more[kind].hidden = !page.more;
    empties[kind].hidden = page.items.length > 0;
  }

  function senderName(item) {
    if (String(item.sender_id) === String(store.state.me.id)) return t("you");
    return displayName(store.partnerOf(store.room(shown.roomId)), t("someone"));
  }

  function render(kind, item) {
    const { attachment } = item;
    const when = formatDateTime(item.created_at);
    if (kind === "media") {
      const clip = isClip(attachment);
      const label = `${clip ? t("video") : t("photo")}, ${senderName(item)}, ${when}`;
      const tile = h("button", {
        type: "button", class: "partner-panel__tile", "data-testid": "panel-media-item", "aria-label": label, title: label,
        dataset: { seq: item.seq },
      }, clip
        ? [h("video", { class: "partner-panel__thumb", src: attachment.url, preload: "metadata", muted: true, "aria-hidden": "true", tabindex: "-1" }),
          h("span", { class: "partner-panel__play" }, icon(PLAY))]
        : h("img", { class: "partner-panel__thumb", src: attachment.thumb_url || attachment.url, alt: "", loading: "lazy", decoding: "async" }));
      tile.addEventListener("click", () => openMediaViewer({ roomId: shown.roomId, item, opener: tile }));
      return h("li", { class: "partner-panel__cell" }, tile);
    }
    if (kind === "files") {
      return h("li", { class: "partner-panel__row" },
        h("a", {
          class: "partner-panel__file", href: attachment.url, download: attachment.filename, "data-testid": "panel-file-item",
          "aria-label": `${t("download")} ${attachment.filename}, ${humanSize(attachment.size)}`,
        },
        h("span", { class: "file-card__icon", "aria-hidden": "true" }, extension(attachment.filename) || icon(FILE)),
        h("span", { class: "partner-panel__file-body" },
          h("span", { class: "partner-panel__file-name", text: attachment.filename }),
          h("span", { class: "partner-panel__meta", text: `${humanSize(attachment.size)} · ${senderName(item)} · ${when}` }))));
    }
    return h("li", { class: "partner-panel__row partner-panel__voice", "data-testid": "panel-voice-item" },
      h("span", { class: "partner-panel__meta", text: `${senderName(item)} · ${when}` }),
      renderVoicePlayer(attachment, { key: `panel:${attachment.id}` })); // as in the chat: waveform, seek, speed
  }

  // --- keeping up with the chat -------------------------------------------------------------------------
  let refreshTimer = null;
  store.subscribe((topic, detail) => {
    if (topic === "route" && shown && store.state.roomId !== shown.roomId) hide({ restoreFocus: false });
    if (topic === "rooms") paintProfile(); // the reveal came, a name changed
    // Something shared or deleted while it is open: read the lists again.
    // Not for what changes no list: a receipt, a send waiting or failing.
    if (topic === "chat" && shown && detail?.roomId === shown.roomId && !detail.pending && !detail.older
        && !detail.receipt && !detail.waiting && !detail.failed
        && (detail.message ? detail.message.attachment : true)) {
      clearTimeout(refreshTimer);
      refreshTimer = setTimeout(refresh, 300); // a burst of changes (a catch-up) reads them once
    }
  });
  header.dataset.partnerPanel = "ready";
}

function extension(filename) {
  const match = /\.([a-z0-9]{1,4})$/i.exec(filename || "");
  return match ? match[1].toUpperCase() : null;
}
