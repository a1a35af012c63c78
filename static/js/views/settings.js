// Settings, a panel of the app page over the list of links (as WhatsApp Web's), so the socket, and with
// it presence, calls and messages, stays up while it is open: profile (name, picture), privacy (read
// receipts, online and last seen), language, theme, notifications and sounds, the people I blocked,
// the password form (which posts, and comes back to /settings), "Download my data" (a plain link to
// GET /api/me/export) and "Delete my account" (confirmed, then DELETE /api/me with the password).
// Server side (through actions.js): GET/PATCH/DELETE /api/me, POST/DELETE /api/me/avatar, GET /api/blocks, DELETE a block.
// Theme, notifications and sounds are this browser's (localStorage, static/js/prefs.js).
// app.js routes: it shows the panel for /settings or a history entry that opened it; Back and Escape close it.
import { formatDay, humanSize, t } from "../i18n.js";
import { pref, setPref } from "../prefs.js";
import { confirmDialog } from "./confirm.js";
import { avatar, displayName, h, paintAvatar, show } from "./dom.js";

/** Wires the panel; returns show(open) for the router, and calls onClose when the person closes it. */
export function mountSettings(panel, actions, { onClose }) {
  const $ = (id) => panel.querySelector(`[data-testid="${id}"]`);

  // --- profile and privacy (the server's) ----------------------------------------------------------
  const profile = $("profile-section");
  const imageMax = Number(profile.dataset.imageMaxBytes);
  const nameInput = $("display-name");
  const language = $("setting-language");

  function status(id, text, kind = "info") {
    const line = $(id);
    line.textContent = text || "";
    line.dataset.kind = kind;
  }

  function showProfile({ user, settings }) {
    paintAvatar($("profile-avatar"), user);
    show($("avatar-remove"), Boolean(user.avatar_url));
    if (document.activeElement !== nameInput) nameInput.value = user.display_name || "";
    if (settings) {
      for (const box of panel.querySelectorAll("[data-setting]")) {
        box.checked = settings[box.dataset.setting] !== false;
        box.disabled = false;
      }
      language.value = settings.language || "";
      language.disabled = false;
    }
  }

  $("profile-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = nameInput.value.trim();
    if (!name || name.length > 64) {
      status("profile-status", t("settings_name_missing"), "error");
      nameInput.setAttribute("aria-invalid", "true");
      nameInput.focus();
      return;
    }
    nameInput.setAttribute("aria-invalid", "false");
    try {
      showProfile(await actions.updateProfile({ display_name: name }));
      status("profile-status", t("settings_saved"));
    } catch (error) {
      status("profile-status", error.message, "error");
    }
  });

  $("avatar-input").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    event.target.value = "";
    if (!file) return;
    if (file.size > imageMax) {
      status("profile-status", t("settings_photo_too_large", { size: humanSize(imageMax) }), "error");
      return;
    }
    try {
      const { user } = await actions.uploadAvatar(file);
      showProfile({ user });
      status("profile-status", t("settings_saved"));
    } catch (error) {
      status("profile-status", error.message, "error");
    }
  });

  $("avatar-remove").addEventListener("click", async () => {
    try {
      showProfile(await actions.removeAvatar());
      status("profile-status", t("settings_saved"));
      $("avatar-input").focus();
    } catch (error) {
      status("profile-status", error.message, "error");
    }
  });

  for (const box of panel.querySelectorAll("[data-setting]")) {
    box.disabled = true; // until the server said what they are
    box.addEventListener("change", async () => {
      try {
        showProfile(await actions.updateProfile({ [box.dataset.setting]: box.checked }));
        status("privacy-status", t("settings_saved"));
      } catch (error) {
        box.checked = !box.checked;
        status("privacy-status", error.message, "error");
      }
    });
  }

  language.disabled = true;
  language.addEventListener("change", async () => {
    try {
      await actions.updateProfile({ language: language.value || null });
      window.location.reload(); // the page comes back in the chosen language
    } catch (error) {
      status("privacy-status", error.message, "error");
    }
  });

  function loadProfile() {
    actions.profile().then(showProfile, () => status("profile-status", t("settings_profile_failed"), "error"));
  }

  // --- theme, notifications, sounds (this browser's) ---------------------------------------------
  for (const radio of panel.querySelectorAll('input[name="theme"]')) {
    radio.checked = radio.value === pref("theme");
    radio.addEventListener("change", () => {
      setPref("theme", radio.value);
      window.heartlinkApplyTheme?.(); // static/js/theme.js
    });
  }

  function notificationsLine() {
    const box = $("setting-notifications");
    let text = "";
    if (!("Notification" in window)) text = t("settings_notifications_unsupported");
    else if (box.checked && Notification.permission === "denied") text = t("settings_notifications_blocked");
    else if (box.checked && Notification.permission === "default") text = t("settings_notifications_ask");
    $("notifications-status").textContent = text;
  }

  for (const box of panel.querySelectorAll("[data-pref]")) {
    box.checked = pref(box.dataset.pref) === "on";
    box.addEventListener("change", () => {
      setPref(box.dataset.pref, box.checked ? "on" : "off");
      if (box.dataset.pref === "notifications" && box.checked && window.Notification?.permission === "default") {
        Notification.requestPermission().then(notificationsLine, notificationsLine); // a click: the right moment to ask
      }
      notificationsLine();
    });
  }
  notificationsLine();

  // --- the people I blocked ----------------------------------------------------------------------
  const list = $("blocked-list");

  function render(people) {
    show($("blocked-loading"), false);
    show($("blocked-empty"), people.length === 0);
    list.replaceChildren(...people.map((person) => {
      const name = displayName(person, "");
      return h("li", { class: "blocked__item", "data-testid": "blocked-person", dataset: { userId: person.id } },
        avatar(person),
        h("div", { class: "blocked__who" },
          h("p", { class: "blocked__name", "data-testid": "blocked-name", text: name }),
          h("p", { class: "blocked__meta", title: formatDay(person.blocked_at), text: `@${person.username}` })),
        h("button", {
          type: "button", class: "button button--ghost button--small", "data-testid": "unblock",
          "aria-label": t("settings_unblock_label", { name }), dataset: { unblock: person.id }, text: t("settings_unblock"),
        }));
    }));
  }

  function showError(text) {
    $("blocked-error").textContent = text || "";
    show($("blocked-error"), Boolean(text));
  }

  list.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-unblock]");
    if (!button) return;
    button.disabled = true;
    showError(null);
    try {
      render((await actions.unblock(button.dataset.unblock)).blocked);
    } catch (error) {
      button.disabled = false;
      showError(error.message);
    }
  });

  function loadBlocked() {
    actions.blockedPeople().then(({ blocked }) => render(blocked), () => {
      show($("blocked-loading"), false);
      showError(t("settings_load_failed"));
    });
  }

  // --- deleting my account -------------------------------------------------------------------------
  const password = $("delete-password");
  $("delete-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!password.value) {
      status("delete-status", t("settings_password_missing"), "error");
      password.setAttribute("aria-invalid", "true");
      password.focus();
      return;
    }
    password.setAttribute("aria-invalid", "false");
    const days = $("delete-section").dataset.reservedDays;
    const sure = await confirmDialog({
      title: t("settings_delete_title"), text: t("settings_delete_text", { days }), confirm: t("settings_delete_confirm"),
    });
    if (!sure) return;
    $("delete-account").disabled = true;
    try {
      await actions.deleteAccount(password.value);
      window.location.assign("/login"); // signed out: the sign-in page
    } catch (error) {
      $("delete-account").disabled = false;
      status("delete-status", error.message, "error");
      password.focus();
    }
  });

  // --- open and close ------------------------------------------------------------------------------
  const opener = document.querySelector('[aria-controls="settings-panel"]');
  $("settings-close").addEventListener("click", onClose);
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !event.defaultPrevented) {
      event.preventDefault();
      onClose();
    }
  });

  // What the panel covers is inert while it is open: the list of links, and on a phone the whole page, so
  // Tab and a screen reader stay in the panel. The chat beside it on a wide screen stays usable.
  const narrow = window.matchMedia("(max-width: 760px)");
  const cover = (open) => {
    document.querySelector(".sidebar").inert = open;
    document.querySelector(".main").inert = open && narrow.matches;
  };
  narrow.addEventListener("change", () => cover(Boolean(shown)));

  let shown = null;
  return {
    /** Shows or hides the panel; each opening reloads what the server holds (another tab may have changed it). */
    show(open) {
      if (open === shown) return;
      shown = open;
      const hadFocus = panel.contains(document.activeElement);
      panel.hidden = !open;
      cover(open);
      if (open) {
        loadProfile();
        loadBlocked();
        $("settings-title").focus({ preventScroll: true }); // it slides in: scrolling to it would shift the page
      } else if (hadFocus) {
        opener?.focus();
      }
    },
  };
}

