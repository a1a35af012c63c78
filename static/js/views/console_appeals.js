// The console's open appeals (cloned from templates/moderation/console.html's #appeal-card): who
// appeals, against which decision, in their words; a moderator upholds the decision or restores
// the person, with a note. Cards are kept by appeal id across fetches, as the reports' are.
import { formatDateTime, t } from "../i18n.js";
import { displayName, paintAvatar, show } from "./dom.js";

export function mountConsoleAppeals(section, store, actions, { urls, announce }) {
  const $ = (scope, id) => scope.querySelector(`[data-testid="${id}"]`);
  const slot = (scope, name) => scope.querySelector(`[data-slot="${name}"]`);
  const list = $(section, "appeals");
  const template = document.getElementById("appeal-card");
  const heading = section.querySelector("h2");
  heading.tabIndex = -1;
  const cards = new Map(); // appeal id -> {item, appeal}

  function render() {
    const { appeals, appealsStatus, appealsError } = store.state;
    $(section, "appeals-count").textContent = appealsStatus === "ready" && appeals.length ? String(appeals.length) : "";
    show($(section, "appeals-empty"), appealsStatus === "ready" && !appeals.length);
    const failed = $(section, "appeals-failed");
    failed.textContent = `${t("appeals_failed")} ${appealsError || ""}`.trim();
    show(failed, appealsStatus === "error");

    const focusWasIn = [...cards.values()].find(({ item }) => item.contains(document.activeElement));
    const shown = new Set(appeals.map((appeal) => appeal.id));
    for (const [id, card] of cards) {
      if (!shown.has(id)) {
        card.item.remove();
        cards.delete(id);
      }
    }
    let position = list.firstElementChild;
    for (const appeal of appeals) {
      let card = cards.get(appeal.id);
      if (!card) {
        card = makeCard(appeal);
        cards.set(appeal.id, card);
      }
      update(card, appeal);
      if (card.item !== position) list.insertBefore(card.item, position);
      else position = position.nextElementSibling;
    }
    if (focusWasIn && !focusWasIn.item.isConnected) {
      const next = [...cards.values()][0];
      (next ? slot(next.item, "note") : heading).focus();
    }
  }

  function makeCard(appeal) {
    const item = template.content.firstElementChild.cloneNode(true);
    const key = `appeal-${appeal.id}`;
    item.dataset.appealId = String(appeal.id);
    slot(item, "name").id = `${key}-name`;
    item.querySelector("article").setAttribute("aria-labelledby", `${key}-name`);
    slot(item, "note").id = `${key}-note`;
    slot(item, "note-label").htmlFor = `${key}-note`;
    const card = { item, appeal };
    const form = slot(item, "form");
    const note = slot(item, "note");
    const error = slot(item, "error");
    form.addEventListener("input", () => {
      show(error, false);
      note.removeAttribute("aria-invalid");
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const decision = event.submitter?.value;
      show(error, false);
      if (!note.value.trim()) {
        error.textContent = t("note_missing");
        show(error, true);
        note.setAttribute("aria-invalid", "true");
        note.focus();
        return;
      }
      note.setAttribute("aria-invalid", "false");
      const buttons = [...form.querySelectorAll("button")];
      for (const button of buttons) button.disabled = true;
      try {
        await actions.decideAppeal(card.appeal.id, decision, note.value);
        announce(t("appeal_decided", { name: displayName(card.appeal.person, card.appeal.person.username) }));
      } catch (refused) {
        error.textContent = refused.message;
        show(error, true);
        if (refused.code === "conflict") actions.loadAppeals(); // answered meanwhile in another console
      } finally {
        for (const button of buttons) button.disabled = false;
      }
    });
    return card;
  }

  function update(card, appeal) {
    card.appeal = appeal;
    const { item } = card;
    const person = appeal.person;
    paintAvatar(slot(item, "avatar"), person);
    slot(item, "name").replaceChildren(displayName(person, person.username), " ",
      Object.assign(document.createElement("span"), { className: "card__username", textContent: `@${person.username}` }));
    const standing = slot(item, "standing");
    standing.dataset.standing = person.standing;
    standing.textContent = person.standing === "suspended"
      ? t("standing_suspended", { until: formatDateTime(person.until) }) : t(`standing_${person.standing}`);
    const action = appeal.action;
    slot(item, "against").textContent = t("appeal_against", {
      action: t(`action_${action.action}`, { until: formatDateTime(action.until) }), when: formatDateTime(action.created_at),
    });
    slot(item, "action-note").textContent = action.note;
    slot(item, "sent").textContent = t("appeal_sent", { when: formatDateTime(appeal.created_at) });
    slot(item, "text").textContent = appeal.text;
    slot(item, "log-link").href = `${urls.log}?${new URLSearchParams({ user: person.username })}`;
  }

  store.subscribe((topic, detail) => {
    if (topic === "appeals") render();
    if (topic === "appeal-filed") {
      const person = detail.appeal.person;
      announce(t("new_appeal", { name: displayName(person, person.username) }));
    }
  });
  render();
}
