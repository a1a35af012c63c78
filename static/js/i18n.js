// Translated strings rendered by the server into <script type="application/json" data-i18n>
// blocks (one per part of the page: chat, calls, safety …), merged into one table.
const strings = Object.assign(
  {},
  ...[...document.querySelectorAll('script[type="application/json"][data-i18n]')].map((block) =>
    JSON.parse(block.textContent || "{}"),
  ),
);

export const locale = document.documentElement.lang || "en";

/** The translated string for `key`, with {placeholders} filled from `values`. */
export function t(key, values = {}) {
  const template = strings[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

const timeFormat = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(locale, { weekday: "long", day: "numeric", month: "long" });
const dateFormat = new Intl.DateTimeFormat(locale, { year: "numeric", month: "short", day: "numeric" });
const relative = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });

const DAY = 24 * 3600 * 1000;

function startOfDay(date) {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
}

export function formatTime(iso) {
  return iso ? timeFormat.format(new Date(iso)) : "";
}

/** "Today", "Yesterday", a weekday this week, else a date. */
export function formatDay(iso, now = new Date()) {
  const days = Math.round((startOfDay(now) - startOfDay(new Date(iso))) / DAY);
  if (days === 0) return t("today");
  if (days === 1) return t("yesterday");
  if (days > 1 && days < 7) return dayFormat.format(new Date(iso));
  return dateFormat.format(new Date(iso));
}

/** A short stamp for the links list: the time today, else the day. */
export function formatStamp(iso, now = new Date()) {
  if (!iso) return "";
  return startOfDay(now) === startOfDay(new Date(iso)) ? formatTime(iso) : formatDay(iso, now);
}

/** "3 minutes ago", "yesterday", or a date for anything older than a week. */
export function formatAgo(iso, now = Date.now()) {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const steps = [[60, "second"], [3600, "minute"], [DAY / 1000, "hour"], [7 * DAY / 1000, "day"]];
  if (-seconds < 45) return relative.format(0, "second");
  let unit = 1;
  for (const [limit, name] of steps) {
    if (-seconds < limit) return relative.format(Math.round(seconds / unit), name);
    unit = limit;
  }
  return dateFormat.format(new Date(iso));
}

export function dayKey(iso) {
  const date = new Date(iso);
  return `${date.getFullYear()}-${date.getMonth()}-${date.getDate()}`;
}
