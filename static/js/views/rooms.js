// The list of the person's heart links, newest activity first. Under each name: "typing…" while the
// partner types, else "Draft: …" for what I left unsent in another link (drafts.js), else the last message.
import { loadDraft } from "../drafts.js";
import { formatStamp, t } from "../i18n.js";
import { avatar, displayName, h, show } from "./dom.js";
import { callSummaryText } from "./call_line.js";
import { snippet } from "./message_content.js";

function preview(room, me) {
  const message = room.last_message;
  if (!message) return t("no_messages_yet");
  let text = message.text;
  if (message.deleted) text = t("deleted");
  else if (message.kind === "call" && message.call) return callSummaryText(message, me.id); // "Video call · 1:23"
  else if (message.kind === "call") text = text || t("call");
  else if (message.attachment) text = snippet(message); // "📷 Photo", "🎤 Voice note (0:07)": message_content.js
  else if (message.kind !== "text" && message.kind !== "system") text = text || t("attachment");
  return message.sender_id === me.id && message.kind !== "system" ? t("you_said", { text }) : text;
}

export function mountRooms(list, empty, store, actions) {
  list.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-room-id]");
    if (!link || event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    actions.openRoom(link.dataset.roomId);
  });

  /** The line under the name. The open link's draft is in its send box, so only others show theirs. */
  function status(room, ended, current) {
    if (!ended && store.state.typing.has(room.id)) {
      return h("span", { class: "room-link__preview room-link__preview--typing", "data-testid": "room-typing", text: t("list_typing") });
    }
    const draft = ended || current ? "" : loadDraft(store.state.me.id, room.id).trim();
    if (draft) {
      return h("span", { class: "room-link__preview", "data-testid": "room-draft" },
        h("span", { class: "room-link__draft", text: t("list_draft") }), ` ${draft}`);
    }
    return h("span", { class: "room-link__preview", text: preview(room, store.state.me) });
  }

  function item(room) {
    const partner = store.partnerOf(room);
    const ended = room.status !== "active";
    const current = room.id === store.state.roomId;
    const stamp = room.last_message?.created_at || room.created_at;
    return h("li", { class: "rooms__item" },
      h("a", {
        class: `room-link${current ? " room-link--current" : ""}${ended ? " room-link--ended" : ""}`,
        href: actions.roomUrl(room.id),
        "aria-current": current ? "page" : null,
        "data-testid": "room-item",
        dataset: { roomId: room.id, status: room.status },
      },
      h("span", { class: "room-link__avatar" }, avatar(partner),
        partner?.online && !ended ? h("span", { class: "presence-dot", "aria-hidden": "true" }) : null),
      h("span", { class: "room-link__body" },
        h("span", { class: "room-link__top" },
          h("span", { class: "room-link__name", text: displayName(partner, t("someone")) }),
          h("time", { class: "room-link__time", datetime: stamp, text: formatStamp(stamp) })),
        h("span", { class: "room-link__bottom" },
          status(room, ended, current),
          room.kept ? h("span", { class: "tag tag--kept", "data-testid": "kept-tag", text: t("kept_tag") }) : null,
          ended && !room.kept ? h("span", { class: "tag", text: t("ended_tag") }) : null,
          room.unread > 0 ? h("span", {
            class: "badge", "data-testid": "unread", "aria-label": t("unread", { count: room.unread }), text: room.unread > 99 ? "99+" : room.unread,
          }) : null))));
  }

  function render() {
    const rooms = [...store.state.rooms.values()];
    list.replaceChildren(...rooms.map(item));
    show(empty, store.state.roomsLoaded && rooms.length === 0);
  }

  store.subscribe((topic) => {
    if (topic === "rooms" || topic === "route" || topic === "typing") render();
  });
  setInterval(render, 60 * 1000); // "Today" / times move on
  render();
}
