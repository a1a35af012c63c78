"""Blueprint: the HTML pages. Renders, nothing more.

The lobby and the chat are one page (templates/app.html); `/rooms/<id>` is the
same page opened on that room. Whether the person may see the room is decided
when the page joins it over Socket.IO (`room:join`), in one place, rooms.py.
"""
import re
from functools import lru_cache

from flask import Blueprint, Response, abort, current_app, render_template, send_from_directory, url_for
from flask_babel import get_locale
from flask_login import login_required

from config import BASE_DIR

from . import messages

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
    )},
}
# The colour emoji font (Noto Color Emoji, from npm: @fontsource/noto-color-emoji), in subsets
# the browser fetches only when a character of theirs is on screen.
_EMOJI_FONT = BASE_DIR / "node_modules/@fontsource/noto-color-emoji"
_EMOJI_FILE = re.compile(r"^noto-color-emoji-\d+-400-normal\.woff2?$")
# Code points the font also covers that must stay in the text font (digits, #, *, ©, ®, ™ …).
_TEXT_RANGES = {"U+23", "U+2a", "U+30-39", "U+a9", "U+ae", "U+2122", "U+2139", "U+203c", "U+2049"}


@bp.get("/")
@login_required
def lobby():
    return render_template("app.html", room_id=None)


@bp.get("/rooms/<room_id>")
@login_required
def room(room_id):
    return render_template("app.html", room_id=room_id)


@bp.get("/settings")
@login_required
def settings():
    from .auth import PasswordForm

    return render_template("settings.html", password_form=PasswordForm())


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
    }


@lru_cache(maxsize=1)
def _emoji_font_css(files_url):
    """Fontsource's @font-face rules under our own family name, pointed at /vendor, without the
    plain-text code points (so "2" and "#" keep the text font while emoji get colour)."""
    css = (_EMOJI_FONT / "400.css").read_text(encoding="utf-8")
    css = css.replace("'Noto Color Emoji'", "'Heart Link Emoji'").replace("url(./files/", f"url({files_url}")

    def keep_emoji(match):
        ranges = [part for part in match.group(1).split(",") if part.strip() not in _TEXT_RANGES]
        return f"unicode-range: {','.join(ranges)};"

    return re.sub(r"unicode-range:\s*([^;]+);", keep_emoji, css)


@bp.get("/vendor/emoji-font.css")
def emoji_font_css():
    files_url = url_for("pages.emoji_font_file", filename="X").removesuffix("X")
    response = Response(_emoji_font_css(files_url), mimetype="text/css")
    response.cache_control.max_age = 3600
    response.cache_control.public = True
    return response


@bp.get("/vendor/emoji-font/<filename>")
def emoji_font_file(filename):
    if not _EMOJI_FILE.match(filename):
        abort(404)
    return send_from_directory(_EMOJI_FONT / "files", filename, max_age=86400)


@bp.get("/vendor/<path:filename>")
def vendor(filename):
    folder = _VENDOR.get(filename)
    if folder is None:
        abort(404)
    return send_from_directory(folder, filename, max_age=3600)
