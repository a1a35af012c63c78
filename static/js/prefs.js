// The person's choices kept in this browser (localStorage): theme, notifications, sound, voice notes' speed.
// The theme is applied before the page paints by static/js/theme.js, which reads the same key.
import { localStore } from "./storage.js";

const KEYS = {
  theme: "heartlink:theme", notifications: "heartlink:notifications", sound: "heartlink:sound",
  voiceSpeed: "heartlink:voice-speed",
};
const DEFAULTS = { theme: "system", notifications: "on", sound: "on", voiceSpeed: "1" };

export function pref(name) {
  try {
    return localStore()?.getItem(KEYS[name]) || DEFAULTS[name];
  } catch {
    return DEFAULTS[name];
  }
}

export function setPref(name, value) {
  try {
    localStore()?.setItem(KEYS[name], value);
  } catch {
    // refused: the choice lasts as long as the page
  }
}
