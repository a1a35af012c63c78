// The moderation console's state, and the only code that changes it (as store.js is the app page's).
// dispatcher.js's dispatchConsoleEvents and actions.js's createConsoleActions call it; the views in
// views/console_reports.js and views/console_appeals.js subscribe. No DOM: it runs under node --test.
//
// The console shows one page of the open reports as the server orders them (held people first, then
// oldest first). It never guesses where a live report belongs: a new report, or a decision made in
// another console, is a reason to fetch the page again (console.js), and the views keep the cards they
// already show (what a moderator has opened or typed stays).

export function createConsoleStore() {
  const state = {
    connection: "connecting", // connecting | online | offline
    page: 1,
    pages: 1,
    total: 0,
    reports: [], // the page's reports, in the server's order
    reportsStatus: "loading", // loading | ready | error
    reportsError: null,
    appeals: [],
    appealsStatus: "loading",
    appealsError: null,
    records: new Map(), // person id -> {status: loading | ready | error, record, error}
  };
  const listeners = new Set();

  function changed(topic, detail) {
    for (const listener of listeners) listener(topic, detail);
  }

  return {
    state,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    setConnection(connection) {
      const cameBack = connection === "online" && state.connection !== "online";
      state.connection = connection;
      changed("connection", { cameBack });
    },

    // --- the reports -------------------------------------------------------------------------
    /** GET /api/moderation/reports's answer. A page past the last (its reports were decided) moves back. */
    reportsLoaded({ reports, total, page }, pageSize) {
      state.total = total;
      state.pages = Math.max(1, Math.ceil(total / pageSize));
      if (!reports.length && page > state.pages) {
        state.page = state.pages;
        changed("stale");
        return;
      }
      state.page = page;
      state.reports = reports;
      state.reportsStatus = "ready";
      state.reportsError = null;
      changed("reports");
    },
    reportsFailed(message) {
      state.reportsStatus = "error";
      state.reportsError = message;
      changed("reports");
    },
    goToPage(page) {
      state.page = Math.min(Math.max(1, page), state.pages);
      changed("stale");
    },
    /** `moderation:report`: someone was reported; where it belongs is the server's to say. */
    reportFiled(report) {
      state.records.delete(report.reported?.id); // their counts moved
      changed("filed", { report });
      changed("stale");
    },

    // --- appeals ------------------------------------------------------------------------------
    appealsLoaded(appeals) {
      state.appeals = appeals;
      state.appealsStatus = "ready";
      state.appealsError = null;
      changed("appeals");
    },
    appealsFailed(message) {
      state.appealsStatus = "error";
      state.appealsError = message;
      changed("appeals");
    },
    /** `moderation:appeal`: a suspended or banned person appealed. */
    appealFiled(appeal) {
      changed("appeal-filed", { appeal });
      changed("appeals-stale");
    },

    // --- decisions, here or in another console --------------------------------------------------
    /** A decision (the console's own answer, or `moderation:decided`): its reports and appeal leave
     * at once; the person's record is read again; the page is fetched again to fill up. */
    decided(decision) {
      const settled = new Set(decision.report_ids || []);
      const before = state.reports.length;
      state.reports = state.reports.filter((report) => !settled.has(report.id));
      state.total = Math.max(0, state.total - (before - state.reports.length));
      if (decision.appeal_id != null) state.appeals = state.appeals.filter((appeal) => appeal.id !== decision.appeal_id);
      const hadRecord = state.records.has(decision.subject_id);
      state.records.delete(decision.subject_id);
      changed("reports");
      changed("appeals");
      changed("decided", { decision, hadRecord });
      changed("stale");
      changed("appeals-stale");
    },

    // --- a person's record ----------------------------------------------------------------------
    record(userId) {
      return state.records.get(userId) || null;
    },
    recordLoading(userId) {
      state.records.set(userId, { status: "loading", record: state.records.get(userId)?.record || null, error: null });
      changed("record", { userId });
    },
    recordLoaded(userId, record) {
      state.records.set(userId, { status: "ready", record, error: null });
      changed("record", { userId });
    },
    recordFailed(userId, message) {
      state.records.set(userId, { status: "error", record: null, error: message });
      changed("record", { userId });
    },
  };
}
