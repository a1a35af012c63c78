// The settings page: the people I blocked, each with an Unblock button (GET /api/blocks, DELETE).
import { deleteJSON, getJSON } from "./api.js";
import { formatDay, t } from "./i18n.js";
import { avatar, displayName, h, show } from "./views/dom.js";

const section = document.querySelector('[data-testid="blocked-section"]');
const $ = (id) => section.querySelector(`[data-testid="${id}"]`);
const list = $("blocked-list");
const unblockUrl = (userId) => section.dataset.blockApi.replace("USER_ID", encodeURIComponent(userId));

function render(people) {
  show($("blocked-loading"), false);
  show($("blocked-empty"), people.length === 0);
  list.replaceChildren(...people.map((person) => {
    const name = displayName(person, "");
    return h("li", { class: "blocked__item", "data-testid": "blocked-person", dataset: { userId: person.id } },
      avatar(person),
      h("div", { class: "blocked__who" },
        h("p", { class: "blocked__name", "data-testid": "blocked-name", text: name }),
        h("p", { class: "blocked__meta", title: formatDay(person.blocked_at), text: `@${person.username}` })),
      h("button", {
        type: "button", class: "button button--ghost button--small", "data-testid": "unblock",
        "aria-label": t("settings_unblock_label", { name }), dataset: { unblock: person.id }, text: t("settings_unblock"),
      }));
  }));
}

function showError(text) {
  $("blocked-error").textContent = text || "";
  show($("blocked-error"), Boolean(text));
}

list.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-unblock]");
  if (!button) return;
  button.disabled = true;
  showError(null);
  try {
    render((await deleteJSON(unblockUrl(button.dataset.unblock))).blocked);
  } catch (error) {
    button.disabled = false;
    showError(error.message);
  }
});

getJSON(section.dataset.blocksApi).then(({ blocked }) => render(blocked), () => {
  show($("blocked-loading"), false);
  showError(t("settings_load_failed"));
});
