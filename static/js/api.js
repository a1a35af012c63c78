// The JSON endpoints, same origin, with the session cookie and (for writes) the CSRF token.
import { RequestError } from "./socket.js";
import { t } from "./i18n.js";
import { csrfToken } from "./csrf.js";

export async function getJSON(url) {
  return send("GET", url);
}

export async function postJSON(url, body) {
  return send("POST", url, body);
}

export async function deleteJSON(url) {
  return send("DELETE", url);
}

export async function patchJSON(url, body) {
  return send("PATCH", url, body);
}

/** A multipart upload (e.g. the avatar): FormData, CSRF header, JSON answer. */
export async function postForm(url, form) {
  let response;
  try {
    response = await fetch(url, {
      method: "POST", headers: { Accept: "application/json", "X-CSRFToken": csrfToken() }, credentials: "same-origin", body: form,
    });
  } catch {
    throw new RequestError({ code: "offline", message: t("no_answer") });
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new RequestError(data.error);
  return data;
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
  if (!response.ok) throw new RequestError(data.error);
  return data;
}
