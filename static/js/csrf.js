// The page's CSRF token (base.html's <meta name="csrf-token">), sent as X-CSRFToken on writes.
export function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content || "";
}
