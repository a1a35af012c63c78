// The moderation console's page (templates/moderation/console.html): the open reports and appeals,
// kept live. As on the app page, what the server says comes in through dispatcher.js only (the
// socket of a moderator is in the moderators' room, where new reports, appeals and decisions
// arrive), and every request leaves through actions.js; the views subscribe to console_store.js.
import { createConsoleActions } from "./actions.js";
import { createConsoleStore } from "./console_store.js";
import { dispatchConsoleEvents } from "./dispatcher.js";
import { t } from "./i18n.js";
import { connect } from "./socket.js";
import { show } from "./views/dom.js";
import { mountConsoleAppeals } from "./views/console_appeals.js";
import { mountConsoleReports } from "./views/console_reports.js";

const root = document.getElementById("console");
const config = root.dataset;
const store = createConsoleStore();
const withId = (template, marker) => (id) => template.replace(marker, encodeURIComponent(id));
const urls = {
  reports: config.reportsApi,
  person: withId(config.personApi, "USER_ID"),
  evidence: (reportId, item) => config.evidenceUrl.replace("REPORT_ID", encodeURIComponent(reportId)).replace("ITEM", encodeURIComponent(item)),
  decisions: config.decisionsApi,
  appeals: config.appealsApi,
  appeal: withId(config.appealApi, "APPEAL_ID"),
  log: config.logUrl,
};

const socket = connect({
  onStatus(status) {
    if (status === "unauthorized" || status === "restricted") {
      window.location.assign(config.loginUrl); // signed out, or no longer in good standing
      return;
    }
    store.setConnection(status);
  },
});
const actions = createConsoleActions({ store, urls, pageSize: 20 });
dispatchConsoleEvents(socket, store);

// --- fetching again: a new report or a decision elsewhere reorders the queue; one fetch for a burst ---
const pending = new Map();
function soon(what, run) {
  if (pending.has(what)) return;
  pending.set(what, setTimeout(() => {
    pending.delete(what);
    run();
  }, 150));
}

// --- the connection: while it is down, new reports do not arrive; on every (re)connect the page
// is read again, so nothing filed meanwhile is missed ----------------------------------------------
const connection = root.querySelector('[data-testid="console-connection"]');
const FIRST_CONNECT_GRACE_MS = 5000;
let firstConnectSlow = false; // a socket that never connects is said too, not only one that was lost
setTimeout(() => {
  firstConnectSlow = true;
  paintConnection();
}, FIRST_CONNECT_GRACE_MS);

function paintConnection() {
  const status = store.state.connection;
  root.dataset.connection = status;
  connection.textContent = status === "offline" ? t("console_offline") : t("console_not_connected");
  show(connection, status === "offline" || (firstConnectSlow && status !== "online"));
}

store.subscribe((topic, detail) => {
  if (topic === "stale") soon("reports", () => actions.loadReports());
  if (topic === "appeals-stale") soon("appeals", () => actions.loadAppeals());
  if (topic === "connection") {
    paintConnection();
    if (detail.cameBack) {
      soon("reports", () => actions.loadReports());
      soon("appeals", () => actions.loadAppeals());
    }
  }
});

// --- what a moderator hears without looking: new reports and appeals, decisions ---------------------
const announcer = root.querySelector('[data-testid="console-announcer"]');
function announce(text) {
  announcer.textContent = "";
  requestAnimationFrame(() => { announcer.textContent = text; });
}

mountConsoleReports(root.querySelector('[data-testid="reports-section"]'), store, actions, { urls, announce });
mountConsoleAppeals(root.querySelector('[data-testid="appeals-section"]'), store, actions, { urls, announce });
actions.loadReports(1);
actions.loadAppeals();
