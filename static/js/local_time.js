// Times a page writes in UTC (<time datetime="…" data-local-time>), shown in the reader's own time
// zone and language: the moderation log.
import { formatDateTime } from "./i18n.js";

for (const time of document.querySelectorAll("time[data-local-time]")) {
  time.textContent = formatDateTime(time.dateTime);
  time.title = time.dateTime;
}
