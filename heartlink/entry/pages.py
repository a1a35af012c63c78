"""Blueprint: the HTML pages. Renders, nothing more.

The lobby, the chat and Settings are one page (templates/app.html): `/rooms/<id>` is
the same page opened on that room, `/settings` the same page with the Settings panel
open. Whether the person may see the room is decided when the page joins it over
Socket.IO (`room:join`), in one place, rooms.py.
"""
from functools import wraps

from flask import Blueprint, abort, current_app, redirect, render_template, request, send_from_directory, url_for
from flask_babel import get_locale
from flask_login import current_user, login_required

from config import BASE_DIR

from .. import wire
from ..domain import age, matching, messages, moderation

bp = Blueprint("pages", __name__)

# Front-end libraries installed from npm (package.json + lock), served by the app itself.
_VENDOR = {
    "socket.io.esm.min.js": BASE_DIR / "node_modules/socket.io-client/dist",
    "socket.io.esm.min.js.map": BASE_DIR / "node_modules/socket.io-client/dist",
    # The emoji picker and its data (never its default CDN): static/js/views/emoji.js.
    **{name: BASE_DIR / "node_modules" for name in (
        "emoji-picker-element/picker.js", "emoji-picker-element/picker.js.map",
        "emoji-picker-element/database.js", "emoji-picker-element/database.js.map",
        "emoji-picker-element/i18n/zh_CN.js",
        "emoji-picker-element-data/en/emojibase/data.json",
        "emoji-picker-element-data/zh/emojibase/data.json",
        # The colour emoji font of the page's font stack (static/css/emoji-font.css).
        "twemoji-colr-font/twemoji.woff2",
        # The sign-up challenge's widget (static/js/signup.js): the build without inline styles or
        # workers (the CSP allows neither), its style sheet, and the worker that solves PBKDF2.
        "altcha/dist/external/altcha.js", "altcha/dist/external/altcha.css", "altcha/dist/workers/pbkdf2.js",
    )},
}


def render_app(room_id=None, settings_open=False, password_form=None):
    """The one page: the lobby, a room, or either with the Settings panel open over the list; with
    the warnings from moderators the person has not acknowledged yet (shown until they do)."""
    from .auth import PasswordForm

    ui_language = request.accept_languages.best_match(current_app.config["LANGUAGES"].keys())
    return render_template("app.html", room_id=room_id, settings_open=settings_open,
                           password_form=password_form or PasswordForm(), me_wire=wire.person(current_user),
                           warnings=moderation.pending_warnings(current_user.id),
                           looking=matching.last_asked(current_user, ui_language),
                           language_choices=matching.LANGUAGE_CHOICES)


def _asked_first(view):
    """A person who must still say their date of birth (age.needs_birth_date) is sent to that
    question first, and comes back here after answering."""
    @wraps(view)
    def page(*args, **kwargs):
        if age.needs_birth_date(current_user):
            return redirect(url_for("auth.birth_date", next=request.path))
        return view(*args, **kwargs)
    return page


@bp.get("/")
@login_required
@_asked_first
def lobby():
    return render_app()


@bp.get("/rooms/<room_id>")
@login_required
@_asked_first
def room(room_id):
    return render_app(room_id)


@bp.get("/settings")
@login_required
@_asked_first
def settings():
    """The lobby with Settings open: bookmarks and the password form's redirect land here."""
    return render_app(settings_open=True)


@bp.app_context_processor
def _page_language():
    """The <html lang> of every page, as a BCP 47 tag (zh_Hans -> zh-Hans), and the server's
    limits the page must know (one home each: the page reads them from data- attributes)."""
    return {
        "html_lang": str(get_locale() or "en").replace("_", "-"),
        "page_limits": {
            "text_max": messages.MAX_TEXT,
            "history_page_size": current_app.config["MESSAGE_PAGE_SIZE"],
        },
        "me_api": url_for("profile.me"),
    }


@bp.get("/vendor/<path:filename>")
def vendor(filename):
    folder = _VENDOR.get(filename)
    if folder is None:
        abort(404)
    return send_from_directory(folder, filename, max_age=3600)
