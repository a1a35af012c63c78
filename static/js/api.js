// The JSON endpoints, same origin, with the session cookie and (for writes) the CSRF token.
import { RequestError } from "./socket.js";
import { t } from "./i18n.js";

const csrfToken = document.querySelector('meta[name="csrf-token"]')?.content || "";

export async function getJSON(url) {
  return send("GET", url);
}

export async function postJSON(url, body) {
  return send("POST", url, body);
}

export async function deleteJSON(url) {
  return send("DELETE", url);
}

async function send(method, url, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") {
    headers["X-CSRFToken"] = csrfToken;
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
