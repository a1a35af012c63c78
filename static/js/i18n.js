// Translated strings rendered by the server into <script type="application/json" data-i18n>
// blocks (one per part of the page: chat, calls, safety …), merged into one table.
const strings = Object.assign(
  {},
  ...[...document.querySelectorAll('script[type="application/json"][data-i18n]')].map((block) =>
    JSON.parse(block.textContent || "{}"),
  ),
);

/** The page's language (en, zh-Hans) refined by the browser's own tag when they agree (en-GB, zh-CN):
 * times and numbers then read as the person is used to, in their time zone (Intl's default). */
export const locale = (() => {
  const page = document.documentElement.lang || "en";
  const base = page.split("-")[0].toLowerCase();
  const own = (navigator.languages || [navigator.language]).find((tag) => tag && tag.split("-")[0].toLowerCase() === base);
  try {
    return own ? Intl.getCanonicalLocales(own)[0] : page;
  } catch {
    return page;
  }
})();

/** The translated string for `key`, with {placeholders} filled from `values`. */
export function t(key, values = {}) {
  const template = strings[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

const timeFormat = new Intl.DateTimeFormat(locale, { hour: "numeric", minute: "2-digit" });
const weekdayFormat = new Intl.DateTimeFormat(locale, { weekday: "long" });
const dayFormat = new Intl.DateTimeFormat(locale, { weekday: "long", day: "numeric", month: "long" });
const dateFormat = new Intl.DateTimeFormat(locale, { year: "numeric", month: "short", day: "numeric" });

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

/** "last seen just now", "last seen today at 20:55", "… yesterday at 8:55 PM", "… Monday at …", "… 3 Mar 2026". */
export function formatLastSeen(iso, now = new Date()) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return ""; // nothing rather than a false "offline"
  if (now.getTime() - when.getTime() < 60 * 1000) return t("last_seen_just_now");
  const days = Math.round((startOfDay(now) - startOfDay(when)) / DAY);
  const time = timeFormat.format(when);
  if (days <= 0) return t("last_seen_today", { time });
  if (days === 1) return t("last_seen_yesterday", { time });
  if (days < 7) return t("last_seen_day", { day: weekdayFormat.format(when), time });
  return t("last_seen", { when: dateFormat.format(when) });
}

const dateTimeFormat = new Intl.DateTimeFormat(locale, { year: "numeric", month: "short", day: "numeric", hour: "numeric", minute: "2-digit" });
const zonedFormat = new Intl.DateTimeFormat(locale, {
  year: "numeric", month: "long", day: "numeric", hour: "numeric", minute: "2-digit", timeZoneName: "short",
});
const fullFormat = new Intl.DateTimeFormat(locale, {
  weekday: "long", year: "numeric", month: "long", day: "numeric", hour: "numeric", minute: "2-digit",
});

/** "3 Mar 2026, 20:55" in the person's time zone; with `zone`, the day in full and the zone's name
 * ("3 March 2026 at 20:55 CET"), for a time that matters on its own (when a suspension ends); with
 * `full`, the weekday and the day in full ("Tuesday 3 March 2026 at 20:55"), for when a message was sent. */
export function formatDateTime(iso, { zone = false, full = false } = {}) {
  const when = new Date(iso);
  if (!iso || Number.isNaN(when.getTime())) return "";
  return (full ? fullFormat : zone ? zonedFormat : dateTimeFormat).format(when);
}

const numberFormat = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
export function formatNumber(value) {
  return numberFormat.format(Number(value) || 0);
}

export function dayKey(iso) {
  const date = new Date(iso);
  return `${date.getFullYear()}-${date.getMonth()}-${date.getDate()}`;
}

const sizeFormats = new Map();
/** 49 -> "49 bytes", 1234567 -> "1.2 MB", in the person's language. */
export function humanSize(bytes) {
  const units = ["byte", "kilobyte", "megabyte", "gigabyte"];
  let value = Number(bytes) || 0;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = value < 10 && unit ? 1 : 0;
  const key = `${units[unit]}:${digits}`;
  if (!sizeFormats.has(key)) {
    sizeFormats.set(key, new Intl.NumberFormat(locale, {
      style: "unit", unit: units[unit], unitDisplay: unit ? "short" : "long", maximumFractionDigits: digits,
    }));
  }
  return sizeFormats.get(key).format(value);
}
