// localStorage, or null where the browser refuses it (then things live as long as the page).
export function localStore() {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}
