// What is typed but not sent, kept per person and room across reloads
// (localStorage "heartlink:draft:<user id>:<room id>").
import { localStore } from "./storage.js";

const key = (userId, roomId) => `heartlink:draft:${userId}:${roomId}`;

export function loadDraft(userId, roomId) {
  try {
    return localStore()?.getItem(key(userId, roomId)) || "";
  } catch {
    return "";
  }
}

export function saveDraft(userId, roomId, text) {
  const storage = localStore();
  if (!storage) return;
  try {
    if (text.trim()) storage.setItem(key(userId, roomId), text);
    else storage.removeItem(key(userId, roomId));
  } catch {
    // full or refused: the draft lives as long as the page
  }
}
