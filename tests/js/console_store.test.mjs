// The moderation console's store, without a browser: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { createConsoleStore } from "../../static/js/console_store.js";

const person = (id, standing = "active") => ({ id, username: `u${id}`, display_name: `U${id}`, standing });
const report = (id, reportedId = 5) => ({ id, reason: "insults", reported: person(reportedId), reporter: person(1) });

function recording(store) {
  const seen = [];
  store.subscribe((topic, detail) => seen.push([topic, detail]));
  return seen;
}

test("a page of reports is kept as the server ordered it, with its count of pages", () => {
  const store = createConsoleStore();
  store.reportsLoaded({ reports: [report(3), report(1)], total: 45, page: 2 }, 20);
  assert.deepEqual(store.state.reports.map((r) => r.id), [3, 1]);
  assert.deepEqual([store.state.page, store.state.pages, store.state.total, store.state.reportsStatus], [2, 3, 45, "ready"]);
  store.reportsFailed("offline");
  assert.deepEqual([store.state.reportsStatus, store.state.reportsError], ["error", "offline"]);
});

test("a page past the last (its reports were decided) moves back and asks for it", () => {
  const store = createConsoleStore();
  const seen = recording(store);
  store.reportsLoaded({ reports: [], total: 20, page: 2 }, 20);
  assert.equal(store.state.page, 1);
  assert.deepEqual(seen.map(([topic]) => topic), ["stale"]);
  store.goToPage(9);
  assert.equal(store.state.page, 1); // never past the last page
});

test("a new report asks for the page again, and forgets the person's record", () => {
  const store = createConsoleStore();
  store.recordLoaded(5, { open_reports: 1 });
  const seen = recording(store);
  store.reportFiled(report(4));
  assert.equal(store.record(5), null);
  assert.deepEqual(seen.map(([topic]) => topic), ["filed", "stale"]);
});

test("a decision, here or in another console, drops its reports and its appeal at once", () => {
  const store = createConsoleStore();
  store.reportsLoaded({ reports: [report(1), report(2), report(3, 6)], total: 3, page: 1 }, 20);
  store.appealsLoaded([{ id: 8, person: person(5) }, { id: 9, person: person(6) }]);
  store.recordLoaded(5, { open_reports: 2 });
  const seen = recording(store);
  store.decided({ action_id: 10, subject_id: 5, report_ids: [1, 2], appeal_id: 8, standing: "suspended" });
  assert.deepEqual(store.state.reports.map((r) => r.id), [3]);
  assert.equal(store.state.total, 1);
  assert.deepEqual(store.state.appeals.map((a) => a.id), [9]);
  assert.equal(store.record(5), null);
  assert.ok(seen.some(([topic]) => topic === "stale") && seen.some(([topic]) => topic === "appeals-stale"));
  store.decided({ action_id: 11, subject_id: 7, report_ids: [42], appeal_id: null }); // not on this page
  assert.deepEqual(store.state.reports.map((r) => r.id), [3]);
  assert.equal(store.state.total, 1);
});

test("a person's record loads, fails, and says so", () => {
  const store = createConsoleStore();
  store.recordLoading(5);
  assert.equal(store.record(5).status, "loading");
  store.recordLoaded(5, { links: 2 });
  assert.deepEqual(store.record(5), { status: "ready", record: { links: 2 }, error: null });
  store.recordFailed(5, "offline");
  assert.deepEqual(store.record(5), { status: "error", record: null, error: "offline" });
});

test("the connection says when it came back, so the console reads again what it missed", () => {
  const store = createConsoleStore();
  const seen = recording(store);
  store.setConnection("online");
  store.setConnection("offline");
  store.setConnection("online");
  assert.deepEqual(seen.map(([, detail]) => detail.cameBack), [true, false, true]);
});
