// The HTTP transport of the page: the JSON endpoints and uploads, same origin, with the session
// cookie and (for writes) the CSRF token. Only actions.js calls these.
import { RequestError } from "./socket.js";
import { t } from "./i18n.js";

/** The page's CSRF token (base.html's <meta name="csrf-token">), sent as X-CSRFToken on every write. */
function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content || "";
}

export async function getJSON(url) {
  return send("GET", url);
}

export async function postJSON(url, body) {
  return send("POST", url, body);
}

export async function deleteJSON(url, body) {
  return send("DELETE", url, body);
}

export async function patchJSON(url, body) {
  return send("PATCH", url, body);
}

async function send(method, url, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") {
    headers["X-CSRFToken"] = csrfToken();
    headers["Content-Type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(url, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new RequestError({ code: "offline", message: t("no_answer") });
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw refused(response.status, data);
  return data;
}

/**
 * POST a multipart form (a picture, a file, a voice note) and resolve with the JSON answer.
 * XHR rather than fetch: only XHR reports the upload's progress. `onProgress(percent)` hears it;
 * `signal` (an AbortSignal) cancels, rejecting with code "aborted".
 */
export function upload(url, form, onProgress, signal) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", url);
    request.setRequestHeader("X-CSRFToken", csrfToken());
    request.setRequestHeader("Accept", "application/json");
    request.responseType = "json";
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress?.(Math.round((event.loaded / event.total) * 100));
    });
    request.addEventListener("load", () => {
      if (request.status >= 200 && request.status < 300) resolve(request.response ?? {});
      else reject(refused(request.status, request.response || {}));
    });
    request.addEventListener("error", () => reject(new RequestError({ code: "offline", message: t("no_answer"), status: 0 })));
    request.addEventListener("abort", () => reject(new RequestError({ code: "aborted" })));
    signal?.addEventListener("abort", () => request.abort());
    request.send(form);
  });
}

/**
 * The server's {code, message}, with the HTTP status; `explained` is false when the answer said
 * nothing (a proxy's own page), so the caller may put the status in its own words.
 */
function refused(status, data) {
  return new RequestError({ ...data.error, status, explained: Boolean(data.error?.message) });
}
