// The console's open reports: one card per report (cloned from templates/moderation/console.html's
// #report-card), with the reason, the evidence (the link's messages and pictures as the reporter saw
// them), the reported person's record, and the decision form. Cards are kept by report id across
// every fetch, so a card a moderator opened, and the note they typed, stay while the list changes.
import { formatDateTime, formatNumber, t } from "../i18n.js";
import { displayName, paintAvatar, show } from "./dom.js";

const SPEAKS_TO_THE_PERSON = new Set(["warn", "suspend", "ban"]); // decisions the person is told of
const GONE_KEPT = 100;

export function mountConsoleReports(section, store, actions, { urls, announce }) {
  const $ = (scope, id) => scope.querySelector(`[data-testid="${id}"]`);
  const slot = (scope, name) => scope.querySelector(`[data-slot="${name}"]`);
  const list = $(section, "reports");
  const template = document.getElementById("report-card");
  const title = section.querySelector("h1");
  title.tabIndex = -1; // where the focus goes when the card it was in is decided
  const cards = new Map(); // report id -> {item, report, deciding}
  // The cards renders took away, kept for the decision that did it: a refetch may take a card away
  // before the decision's own event arrives. The latest GONE_KEPT only.
  const gone = new Map();
  const notice = $(section, "reports-notice");

  $(section, "reports-retry").addEventListener("click", () => actions.loadReports());
  $(section, "pager-previous").addEventListener("click", () => store.goToPage(store.state.page - 1));
  $(section, "pager-next").addEventListener("click", () => store.goToPage(store.state.page + 1));

  // --- the list ---------------------------------------------------------------------------------
  function render() {
    const { reports, reportsStatus, reportsError, total, page, pages } = store.state;
    const count = $(section, "reports-count");
    count.textContent = reportsStatus === "ready" ? (total === 1 ? t("reports_count_one") : t("reports_count", { count: total })) : "";
    show($(section, "reports-empty"), reportsStatus === "ready" && !reports.length);
    show($(section, "reports-failed"), reportsStatus === "error");
    $(section, "reports-failed-text").textContent = `${t("load_failed")} ${reportsError || ""}`.trim();
    show($(section, "pager"), pages > 1);
    $(section, "pager-where").textContent = t("page_of", { page, pages });
    $(section, "pager-previous").disabled = page <= 1;
    $(section, "pager-next").disabled = page >= pages;

    const focusWasIn = [...cards.values()].find(({ item }) => item.contains(document.activeElement));
    const shown = new Set(reports.map((report) => report.id));
    for (const [id, card] of cards) {
      if (!shown.has(id)) {
        card.item.remove();
        cards.delete(id);
        gone.set(id, card);
        if (gone.size > GONE_KEPT) gone.delete(gone.keys().next().value);
      }
    }
    // In the server's order, moving only what is out of place (a moved node loses the focus).
    let position = list.firstElementChild;
    for (const report of reports) {
      let card = cards.get(report.id);
      if (!card) {
        card = makeCard(report);
        cards.set(report.id, card);
        gone.delete(report.id); // back (a page moved): its decision is still to come
      }
      update(card, report);
      if (card.item !== position) list.insertBefore(card.item, position);
      else position = position.nextElementSibling;
    }
    if (focusWasIn && !focusWasIn.item.isConnected) focusNextCard();
  }

  function focusNextCard() {
    const next = [...cards.values()][0];
    (next ? slot(next.item, "toggle") : title).focus();
  }

  /** A card someone was working on (opened, or a note typed) was decided in another console: said, not
   * just gone. */
  function decidedElsewhere(reportIds) {
    const lost = reportIds.map((id) => gone.get(id)).find((card) => card && !card.deciding
      && (!slot(card.item, "body").hidden || slot(card.item, "note").value.trim()));
    for (const id of reportIds) gone.delete(id);
    if (lost) sayDecidedElsewhere(lost.report);
  }

  function sayDecidedElsewhere(report) {
    const person = report.reported;
    notice.textContent = t("decided_elsewhere", { name: displayName(person, person.username) });
    show(notice, true);
  }

  // --- one card -----------------------------------------------------------------------------------
  function makeCard(report) {
    const item = template.content.firstElementChild.cloneNode(true);
    const key = `report-${report.id}`;
    item.dataset.reportId = String(report.id);
    slot(item, "name").id = `${key}-name`;
    item.querySelector("article").setAttribute("aria-labelledby", `${key}-name`);
    const body = slot(item, "body");
    body.id = `${key}-body`;
    const toggle = slot(item, "toggle");
    toggle.setAttribute("aria-controls", body.id);
    toggle.addEventListener("click", () => {
      const opening = body.hidden;
      body.hidden = !opening;
      toggle.setAttribute("aria-expanded", String(opening));
      if (opening) openRecord(cards.get(report.id));
    });
    for (const [name, labelSlot] of [["note", "note-label"], ["reason-input", "reason-label"], ["until", "until-label"]]) {
      slot(item, name).id = `${key}-${name}`;
      slot(item, labelSlot).htmlFor = `${key}-${name}`;
    }
    slot(item, "note").setAttribute("aria-describedby", `${key}-note-hint`);
    slot(item, "note-hint").id = `${key}-note-hint`;
    renderEvidence(slot(item, "evidence"), report);
    const card = { item, report, deciding: false };
    wireForm(card);
    return card;
  }

  /** What can change while a card is shown: the person's standing (held by reports meanwhile). */
  function update(card, report) {
    card.report = report;
    const { item } = card;
    const person = report.reported;
    paintAvatar(slot(item, "avatar"), person);
    slot(item, "name").replaceChildren(displayName(person, person.username), " ",
      Object.assign(document.createElement("span"), { className: "card__username", textContent: `@${person.username}` }));
    const standing = slot(item, "standing");
    standing.textContent = standingText(person);
    standing.dataset.standing = person.standing;
    slot(item, "when").textContent = t("reported_by", {
      when: formatDateTime(report.created_at), name: displayName(report.reporter, report.reporter.username),
    });
    slot(item, "number").textContent = t("report_number", { id: report.id });
    slot(item, "reason").textContent = report.reason;
    slot(item, "log-link").href = `${urls.log}?${new URLSearchParams({ user: person.username })}`;
    show(slot(item, "restore-choice"), person.standing !== "active");
    renderRecord(card);
    syncForm(card);
  }

  function renderEvidence(target, report) {
    const members = new Map((report.snapshot?.members || []).map((member) => [member.id, member]));
    const messages = report.snapshot?.messages || [];
    if (!messages.length) {
      target.replaceChildren(element("li", "evidence__none", t("snapshot_none")));
      return;
    }
    target.replaceChildren(...messages.map((message) => {
      const sender = members.get(message.sender_id);
      const item = element("li", "evidence__message");
      item.dataset.testid = "evidence-message";
      if (message.sender_id === report.reported.id) item.classList.add("evidence__message--reported");
      const meta = element("p", "evidence__meta");
      meta.append(element("strong", "", displayName(sender, t("kind_system"))), " · ", formatDateTime(message.created_at));
      if (message.edited_at) meta.append(" · ", t("edited"));
      if (report.message_id != null && message.id === report.message_id) {
        item.classList.add("evidence__message--quoted");
        meta.append(" ", element("span", "tag tag--accent", t("reported_message")));
      }
      item.append(meta);
      if (message.deleted) item.append(element("p", "evidence__text evidence__text--gone", t("deleted")));
      else if (message.text) item.append(element("p", "evidence__text", message.text));
      if (message.evidence_item != null) {
        const picture = document.createElement("img");
        Object.assign(picture, {
          className: "evidence__picture", loading: "lazy", decoding: "async",
          src: urls.evidence(report.id, message.evidence_item),
          alt: t("picture_alt", { item: message.evidence_item, id: report.id }),
        });
        picture.dataset.testid = "evidence-picture";
        item.append(picture);
      } else if (message.kind === "image" && !message.deleted) {
        item.append(element("p", "evidence__text evidence__text--gone", t("picture_not_kept")));
      } else if (message.kind !== "text" && !message.deleted && !message.text) {
        item.append(element("p", "evidence__text evidence__text--gone", t(`kind_${message.kind}`)));
      }
      return item;
    }));
  }

  // --- the reported person's record ------------------------------------------------------------------
  function openRecord(card) {
    const personId = card.report.reported.id;
    if (!store.record(personId)) actions.loadRecord(personId);
    else renderRecord(card);
  }

  function renderRecord(card) {
    const { item, report } = card;
    const entry = store.record(report.reported.id);
    const record = entry?.record;
    const status = slot(item, "record-status");
    status.textContent = entry?.status === "error" ? `${t("record_failed")} ${entry.error || ""}`.trim()
      : !record ? t("record_loading") : "";
    show(status, Boolean(status.textContent));
    show(slot(item, "record"), Boolean(record));
    show(slot(item, "history-title"), Boolean(record));
    const scopeAll = slot(item, "scope-all");
    const name = displayName(report.reported, report.reported.username);
    scopeAll.textContent = record ? t("scope_all", { count: record.open_reports, name }) : t("scope_all_unknown", { name });
    if (!record) {
      slot(item, "history").replaceChildren();
      return;
    }
    slot(item, "age").textContent = t("age_days", { days: formatNumber(record.account_age_days) });
    slot(item, "links").textContent = formatNumber(record.links);
    slot(item, "open").textContent = formatNumber(record.open_reports);
    slot(item, "reporters-24h").textContent = formatNumber(record.reporters_24h);
    slot(item, "reporters-30d").textContent = formatNumber(record.reporters_30d);
    for (const [kind, count] of Object.entries(record.refusals)) {
      slot(item, `refused-${kind}`).textContent = formatNumber(count);
    }
    const told = new Map(record.warnings.map((warning) => [warning.created_at, warning]));
    const history = record.actions.map((action) => {
      const row = element("li", "history__item");
      row.dataset.action = action.action;
      const label = t(`action_${action.action}`, { until: formatDateTime(action.until) });
      row.append(element("strong", "", label), ` · ${formatDateTime(action.created_at)} · `);
      if (action.actor === "moderator") {
        // "by {name}" in the page's language, the moderator's name kept apart as the name it is.
        const [before, after = ""] = t("by_moderator").split("{name}");
        row.append(before, element("span", "history__who", `@${action.actor_username}`), after);
      } else {
        row.append(t(`by_${action.actor}`));
      }
      row.append(element("p", "history__note", action.note));
      const warning = action.action === "warn" ? told.get(action.created_at) : null;
      if (warning) {
        row.append(element("p", "history__note", `${t("warning_given", { reason: warning.reason })} ${warning.acknowledged_at ? t("warning_read") : ""}`.trim()));
      }
      return row;
    });
    slot(item, "history").replaceChildren(...(history.length ? history : [element("li", "history__item", t("history_none"))]));
  }

  // --- the decision ------------------------------------------------------------------------------------
  function chosen(form, name) {
    return form.querySelector(`input[name="${name}"]:checked`)?.value || null;
  }

  function syncForm({ item }) {
    const form = slot(item, "form");
    let action = chosen(form, "action");
    if (action === "restore" && slot(item, "restore-choice").hidden) {
      form.querySelector('input[value="dismiss"]').checked = true; // restored meanwhile
      action = "dismiss";
    }
    show(slot(item, "duration"), action === "suspend");
    slot(item, "until").disabled = chosen(form, "days") !== "date";
    show(slot(item, "reason-field"), SPEAKS_TO_THE_PERSON.has(action));
    slot(item, "note-hint").textContent = t(SPEAKS_TO_THE_PERSON.has(action) ? "note_hint_told" : "note_hint_kept");
    slot(item, "submit").textContent = t(`submit_${action}`);
    slot(item, "submit").classList.toggle("button--danger", action === "suspend" || action === "ban");
    slot(item, "submit").classList.toggle("button--primary", action !== "suspend" && action !== "ban");
  }

  function wireForm(card) {
    const { item } = card;
    const form = slot(item, "form");
    const note = slot(item, "note");
    const error = slot(item, "error");
    const submit = slot(item, "submit");
    const until = slot(item, "until");
    form.addEventListener("change", () => syncForm(card));
    form.addEventListener("input", () => {
      show(error, false); // what was wrong is being mended
      note.removeAttribute("aria-invalid");
    });
    // A day that has not begun yet: the suspension ends at its start, in the moderator's own time.
    const tomorrow = new Date(Date.now() + 24 * 3600 * 1000);
    until.min = `${tomorrow.getFullYear()}-${String(tomorrow.getMonth() + 1).padStart(2, "0")}-${String(tomorrow.getDate()).padStart(2, "0")}`;

    function fail(text, field) {
      error.textContent = text;
      show(error, true);
      note.setAttribute("aria-invalid", String(field === "note"));
      if (field === "note") note.focus();
      else if (field === "until") until.focus();
    }

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      show(error, false);
      const { report } = card;
      const action = chosen(form, "action");
      const body = { action, note: note.value };
      if (!note.value.trim()) return fail(t("note_missing"), "note");
      const reason = slot(item, "reason-input").value.trim();
      if (reason && SPEAKS_TO_THE_PERSON.has(action)) body.reason = reason;
      if (chosen(form, "scope") === "person") body.subject_id = report.reported.id;
      else body.report_ids = [report.id];
      if (action === "suspend") {
        const days = chosen(form, "days");
        if (days !== "date") body.days = Number(days);
        else if (until.value) body.until = new Date(`${until.value}T00:00`).toISOString();
        else return fail(t("until_missing"), "until");
      }
      submit.disabled = true;
      card.deciding = true;
      show(notice, false);
      try {
        await actions.decide(body);
        announce(t("decided", { name: displayName(report.reported, report.reported.username) }));
        // The card is gone, and the focus with its disabled button: on to the next one.
        if (!item.isConnected) focusNextCard();
      } catch (refused) {
        fail(refused.message, refused.details?.field);
        if (refused.code === "conflict") {
          // Perhaps decided meanwhile in another console: the list is read again, and says so if it was.
          await actions.loadReports();
          if (!item.isConnected) {
            sayDecidedElsewhere(report);
            focusNextCard();
          }
        }
      } finally {
        submit.disabled = false;
        card.deciding = false;
      }
    });
  }

  function refreshRecord(personId) {
    const open = [...cards.values()].some((card) => card.report.reported.id === personId && !slot(card.item, "body").hidden);
    if (open) actions.loadRecord(personId);
  }

  // --- the store ---------------------------------------------------------------------------------------
  store.subscribe((topic, detail) => {
    if (topic === "reports") render();
    if (topic === "record") {
      for (const card of cards.values()) if (card.report.reported.id === detail.userId) renderRecord(card);
    }
    // A decision or a new report changes the person's record: read again where a card of theirs is open.
    if (topic === "decided") {
      refreshRecord(detail.decision.subject_id);
      decidedElsewhere(detail.decision.report_ids || []);
    }
    if (topic === "filed") {
      const person = detail.report.reported;
      refreshRecord(person.id);
      announce(t("new_report", { name: displayName(person, person.username) }));
    }
  });
  render();
}

function standingText(person) {
  if (person.standing === "suspended") return t("standing_suspended", { until: formatDateTime(person.until) });
  return t(`standing_${person.standing}`);
}

function element(tag, className, text) {
  const made = document.createElement(tag);
  if (className) made.className = className;
  if (text !== undefined) made.textContent = text;
  return made;
}
