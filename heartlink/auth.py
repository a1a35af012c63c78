"""Blueprint: register, login, logout pages, and the API token for non-browser clients."""

import secrets

from flask import Blueprint, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from . import accounts, limits, presence, realtime
from .errors import DomainError, RateLimited, Unauthorized
from .extensions import login_manager

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class RegisterForm(FlaskForm):
    username = StringField(_l("Username"), validators=[
        DataRequired(), Regexp(accounts.USERNAME_RE, message=_l("A username is 3 to 32 letters, digits, _ or -."))])
    display_name = StringField(_l("Display name"), validators=[Optional(), Length(max=accounts.MAX_DISPLAY_NAME)])
    password = PasswordField(_l("Password"), validators=[
        DataRequired(), Length(min=accounts.MIN_PASSWORD, max=accounts.MAX_PASSWORD,
                               message=_l("A password has at least 8 characters."))])


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=[
        DataRequired(), Length(min=accounts.MIN_PASSWORD, max=accounts.MAX_PASSWORD,
                               message=_l("A password has at least 8 characters."))])


def _sign_in(user):
    """A fresh session for every sign-in (nothing carried over from before it), with an
    id that names the sockets this sign-in opens."""
    session.clear()
    login_user(user)
    session["login_id"] = secrets.token_hex(16)


def _safe_next(target):
    """Only a local path may be a redirect target after login."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("pages.lobby")


@bp.route("/register", methods=["GET", "POST"])
def register():
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            limits.check("LOGIN_ADDRESS", request.remote_addr)
            user = accounts.create_user(form.username.data, form.password.data, form.display_name.data)
        except DomainError as error:
            form.username.errors.append(str(error.message))
        else:
            _sign_in(user)
            return redirect(url_for("pages.lobby"))
    return render_template("auth/register.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            limits.check("LOGIN_ADDRESS", request.remote_addr)
            limits.check("LOGIN_ACCOUNT", form.username.data.lower())
        except RateLimited as error:
            flash(str(error.message), "error")
            return render_template("auth/login.html", form=form), 429
        user = accounts.authenticate(form.username.data, form.password.data)
        if user is not None:
            _sign_in(user)
            return redirect(_safe_next(request.args.get("next")))
        flash(_l("Wrong username or password."), "error")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out; the sockets this sign-in opened close at once (each keeps its own
    copy of the session, so clearing the cookie alone would not reach them)."""
    sockets = presence.sockets_of(current_user.id, session.get("login_id") or "")
    logout_user()
    session.clear()
    realtime.disconnect_sockets(sockets)
    return redirect(url_for("auth.login"))


@bp.route("/settings/password", methods=["POST"])
@login_required
def change_password():
    """A new password ends every other session, token and socket of this person."""
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            user = accounts.change_password(current_user.id, form.current_password.data, form.new_password.data)
        except DomainError as error:
            flash(str(error.message), "error")
        else:
            realtime.disconnect_sockets(presence.sockets_of(user.id))
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
    body = request.get_json(silent=True)
    body = body if isinstance(body, dict) else {}
    limits.check("LOGIN_ADDRESS", request.remote_addr)
    limits.check("TOKEN", str(body.get("username", "")).lower()[:64])
    user = accounts.authenticate(body.get("username"), body.get("password"))
    if user is None:
        raise Unauthorized(_l("Wrong username or password."))
    return jsonify(accounts.issue_token(user))


@login_manager.request_loader
def _user_from_bearer(req):
    header = req.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return accounts.user_for_token(header[len("Bearer "):].strip())
    return None


@login_manager.user_loader
def _load_user(session_id):
    return accounts.user_for_session(session_id)


@login_manager.unauthorized_handler
def _unauthorized():
    if request.path.startswith("/api/"):
        raise Unauthorized()
    return redirect(url_for("auth.login", next=request.path))


@bp.app_context_processor
def _whoami():
    return {"me": current_user if current_user.is_authenticated else None}
