"""Blueprint: register, login, logout pages, and the API token for non-browser clients."""
from urllib.parse import urlsplit

from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import DateField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from ..domain import accounts, age, challenges, moderation, presence, standing
from ..errors import BadRequest, DomainError, Filtered, RateLimited, Restricted, Unauthorized
from ..extensions import login_manager
from ..lib.text import visible
from ..live import announce
from ..worker import limits, sockets
from . import pages
from .http import wants_json

bp = Blueprint("auth", __name__)


_PASSWORD_LENGTH = _l("A password has at least %(count)s characters.", count=accounts.MIN_PASSWORD)

class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class RegisterForm(FlaskForm):
    username = StringField(_l("Username"), validators=[
        DataRequired(), Regexp(accounts.USERNAME_RE, message=_l("A username is 3 to 32 letters, digits, _ or -."))])
    display_name = StringField(_l("Display name"), validators=[Optional(), Length(max=accounts.MAX_DISPLAY_NAME)])
    password = PasswordField(_l("Password"), validators=[
        DataRequired(), Length(min=accounts.MIN_PASSWORD, max=accounts.MAX_PASSWORD, message=_PASSWORD_LENGTH)])
    # <input type="date">: the browser shows it in the person's own date format and sends YYYY-MM-DD.
    # A missing one is refused by age.check_sign_up, which says so in the page's language.
    birth_date = DateField(_l("Date of birth"), validators=[Optional()])


class BirthDateForm(FlaskForm):
    """The one question an account made before the minimum age was asked gets at sign-in."""
    birth_date = DateField(_l("Date of birth"), validators=[Optional()])


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=[
        DataRequired(), Length(min=accounts.MIN_PASSWORD, max=accounts.MAX_PASSWORD, message=_PASSWORD_LENGTH)])


def _sign_in(user):
    """A fresh session for every sign-in (nothing carried over from before it), with an
    id that names the sockets this sign-in opens."""
    session.clear()
    login_user(user)
    session["login_id"] = accounts.new_login_id()


def _safe_next(target):
    """Only a local path may be a redirect target after login.

    Judged on what a browser will make of it: browsers drop tabs and newlines anywhere
    in a URL and read a backslash as a slash, so "/\t/evil.com" and "/\\evil.com" are
    both "//evil.com", another site."""
    if isinstance(target, str):
        normal = "".join(char for char in target if char not in "\t\n\r").replace("\\", "/")
        parts = urlsplit(normal)
        if (normal.startswith("/") and not normal.startswith("//") and not parts.scheme and not parts.netloc
                and visible(normal) == normal):
            return normal
    return url_for("pages.lobby")


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Sign up: a name, a password, the date of birth (refused under HEARTLINK_MIN_AGE) and a
    solved sign-up challenge (the widget in the page solves it by itself; heartlink/domain/challenges.py).
    A refused form comes back with the reason by its field: 400, or 409 for a name that is taken (asked
    with `Accept: application/json`, the JSON error of that refusal)."""
    form = RegisterForm()
    status, challenge_error = 200, None
    if form.validate_on_submit():
        try:
            limits.check("RATE_LOGIN_ADDRESS", request.remote_addr)
            birth_date = age.check_sign_up(form.birth_date.data)
            challenges.spend(request.form.get(challenges.FIELD))
            user = accounts.create_user(form.username.data, form.password.data, form.display_name.data,
                                        birth_date=birth_date)
        except DomainError as error:
            if wants_json():
                raise  # {"error": {"code", "message", "field", "reason"}} with its status
            status = error.status
            field = error.details.get("field")
            if field == challenges.FIELD:
                challenge_error = str(error.message)
            elif isinstance(error, Filtered):
                form.display_name.errors.append(str(error.message))
            else:  # the name, password and display name's rules name no field: the name's is the likeliest
                (form.birth_date if field == "birth_date" else form.username).errors.append(str(error.message))
        else:
            _sign_in(user)
            return redirect(url_for("pages.lobby"))
    elif form.is_submitted():
        status = 400
    _say_if_stale(form)
    return render_template("auth/register.html", form=form, challenge_error=challenge_error), status


@bp.get("/api/signup/challenge")
def signup_challenge():
    """A fresh sign-up challenge for the widget of the sign-up page (or any client) to solve."""
    limits.check("RATE_SIGNUP_CHALLENGE", request.remote_addr)
    return jsonify(challenges.new_challenge())


@bp.route("/birth-date", methods=["GET", "POST"])
@login_required
def birth_date():
    """The one question an account without a date of birth is asked (age.needs_birth_date): until it
    answers, the lobby sends it here and it cannot start a heart link. An answer under the minimum
    age suspends the account (age.answer): its sockets close and the sign-in page says why."""
    if not age.needs_birth_date(current_user):
        return redirect(_safe_next(request.args.get("next")))
    form = BirthDateForm()
    status = 200
    if form.validate_on_submit():
        try:
            restriction = age.answer(current_user.id, form.birth_date.data)
        except DomainError as error:
            form.birth_date.errors.append(str(error.message))
            status = error.status
        else:
            if restriction is None:
                return redirect(_safe_next(request.args.get("next")))
            announce.decided(restriction)  # every socket of theirs closes, on every worker
            return redirect(url_for("auth.login"))
    elif form.is_submitted():
        status = 400
    _say_if_stale(form)
    return render_template("auth/birth_date.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            limits.check("RATE_LOGIN_ADDRESS", request.remote_addr)
            user = accounts.sign_in(form.username.data, form.password.data, request.remote_addr)
            if user is not None:
                standing.ensure_may_sign_in(user)
        except Restricted as error:
            if wants_json():
                raise
            # The page says why and until when, and offers an appeal (templates/auth/_restricted.html).
            return render_template("auth/login.html", form=form, restricted=_restricted_page(error, user)), 403
        except RateLimited as error:
            flash(str(error.message), "error")
            return render_template("auth/login.html", form=form), 429
        if user is not None:
            _sign_in(user)
            if age.needs_birth_date(user):  # asked once, before anything else
                return redirect(url_for("auth.birth_date", next=request.args.get("next")))
            return redirect(_safe_next(request.args.get("next")))
        flash(_l("Wrong username or password."), "error")
    _say_if_stale(form)
    return render_template("auth/login.html", form=form, restricted=_still_restricted(form))


def _still_restricted(form):
    """A suspended or banned person whose own cookie brought them here (their page was sent to sign
    in) is told at once why and until when, and offered the appeal, without signing in again."""
    if form.is_submitted() or current_user.is_authenticated:  # (asking loads the cookie's person)
        return None
    refusal = locked_out()
    if refusal is None:
        return None
    form.username.data = form.username.data or g.locked_out_person.username
    return _restricted_page(refusal, g.locked_out_person)


def _restricted_page(refusal, user):
    """What the sign-in page of a restricted person shows: the refusal, and their appeal against it
    if they sent one (then no second appeal is offered)."""
    return {**refusal.to_wire(), "appeal": moderation.appeal_against_restriction(user.id)}


def _say_if_stale(form):
    """A sign-in or sign-up form sent with a CSRF token that is not the session's (missing, or
    the page was opened again in another tab meanwhile) is refused by showing the form again,
    with a fresh token and a word on what happened (as a wrong password is), not an error page."""
    if form.is_submitted() and form.csrf_token.errors:
        flash(_l("This page had expired; please send it again."), "error")


# Each path is its own endpoint, so url_for("auth.logout") is the page's /logout (which answers
# with the sign-in page) and never the JSON one: one function behind two routes builds either.
@bp.route("/logout", methods=["POST"])
@bp.route("/api/logout", methods=["POST"], endpoint="api_logout")
@login_required
def logout():
    """Sign out; the sockets this sign-in opened close at once (each keeps its own
    copy of the session, so clearing the cookie alone would not reach them)."""
    login_id = g.get("signed_in_by_token") or session.get("login_id") or ""
    accounts.revoke_sign_in(current_user.id, login_id)
    return _signed_out(presence.sockets_of(current_user.id, login_id))


@bp.route("/logout/everywhere", methods=["POST"])
@bp.route("/api/logout/everywhere", methods=["POST"], endpoint="api_logout_everywhere")
@login_required
def logout_everywhere():
    """Sign out every session and token of this person, on every device; all their sockets close."""
    user_id = current_user.id
    limits.check("RATE_ACCOUNT", user_id)
    accounts.sign_out_everywhere(user_id)
    return _signed_out(presence.sockets_of(user_id))


def _signed_out(sids):
    """End this request's sign-in, close the given sockets wherever they are, and answer."""
    logout_user()
    session.clear()
    sockets.disconnect_sockets(sids)
    if wants_json():
        return jsonify({"signed_out": True})
    return redirect(url_for("auth.login"))


@bp.route("/settings/password", methods=["POST"])
@login_required
def change_password():
    """A new password ends every other session, token and socket of this person."""
    form = PasswordForm()
    if form.validate_on_submit():
        username, address = current_user.username, request.remote_addr
        try:
            limits.check("RATE_ACCOUNT", current_user.id)
            accounts.check_not_locked(username, address)
            user = accounts.change_password(current_user.id, form.current_password.data, form.new_password.data)
        except DomainError as error:
            if isinstance(error, Unauthorized):
                accounts.record_failure(username, address)
            flash(str(error.message), "error")
            if isinstance(error, RateLimited):
                return pages.render_app(settings_open=True, password_form=form), 429
        else:
            sockets.disconnect_sockets(presence.sockets_of(user.id))
            _sign_in(user)
            flash(_l("Your password was changed; other devices are signed out."), "info")
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
    return redirect(url_for("pages.settings"))


@bp.route("/api/token", methods=["POST"])
def api_token():
    """A signed, expiring bearer token for clients that do not keep a cookie."""
    limits.check("RATE_LOGIN_ADDRESS", request.remote_addr)  # before the body is read
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest(_l("Send a JSON object with a username and a password."))
    user = accounts.sign_in(body.get("username"), body.get("password"), request.remote_addr)
    if user is None:
        raise Unauthorized(_l("Wrong username or password."))
    standing.ensure_may_sign_in(user)  # 403 restricted: suspended or banned
    return jsonify(accounts.issue_token(user))


def bearer_token(req):
    """The token of an `Authorization: Bearer` header, or None."""
    header = req.headers.get("Authorization", "")
    return header[len("Bearer "):].strip() if header.startswith("Bearer ") else None


@login_manager.request_loader
def _user_from_bearer(req):
    token = bearer_token(req)
    user = _unless_locked_out(accounts.user_for_token(token) if token else None)
    if user is not None:
        # Authenticated by this token and nothing else: the one case CSRF may be skipped.
        g.signed_in_by_token = accounts.sign_in_of_token(token)
    return user


@login_manager.user_loader
def _load_user(session_id):
    if bearer_token(request) is not None:
        return None  # a request that names a token is judged by the token alone, never the cookie
    return _unless_locked_out(accounts.user_for_session(session_id, session.get("login_id")))


def _unless_locked_out(user):
    """A suspended or banned person's cookies and tokens stop working, on every worker, from the
    moment the database says so: the request is nobody's, and `locked_out()` says why."""
    if user is not None and standing.standing_of(user) in standing.SIGNED_OUT:
        # The refusal is built later: its message is translated, and the language depends on
        # who is signed in, which is being decided right now.
        g.locked_out_person = user
        return None
    return user


def locked_out():
    """The Restricted refusal of this request's sign-in, if its person is suspended or banned."""
    person = g.get("locked_out_person")
    return standing.restriction(person) if person is not None else None


@login_manager.unauthorized_handler
def _unauthorized():
    if request.path.startswith("/api/"):
        raise locked_out() or Unauthorized()
    if locked_out() is not None:
        flash(str(locked_out().message), "error")
    # Back to a page after signing in, never to a form's action (a GET of /logout is a 405).
    return redirect(url_for("auth.login", next=request.path if request.method == "GET" else None))


@bp.app_context_processor
def _whoami():
    return {"me": current_user if current_user.is_authenticated else None}
