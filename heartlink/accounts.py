"""Accounts: the rules for names and passwords, password hashing, API tokens."""
import re
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError

from .database import write_transaction
from .errors import BadRequest, Conflict, Unauthorized
from .extensions import db
from .models import User, iso, utcnow

USERNAME_RE = re.compile(r"^[A-Za-z0-9_-]{3,32}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 256
MAX_DISPLAY_NAME = 64
_TOKEN_SALT = "heartlink-api-token"


def _hasher():
    # Memory-hard (argon2id); the cost is a setting so tests can make it cheap.
    return PasswordHasher(memory_cost=current_app.config["ARGON2_MEMORY_KIB"])


def validate_username(username):
    if not isinstance(username, str) or not USERNAME_RE.match(username):
        raise BadRequest(_l("A username is 3 to 32 letters, digits, _ or -."))
    return username


def validate_password(password):
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise BadRequest(_l("A password has at least 8 characters."))
    return password


def validate_display_name(display_name, username):
    name = (display_name or "").strip() or username
    if len(name) > MAX_DISPLAY_NAME:
        raise BadRequest(_l("A display name has at most 64 characters."))
    return name


def hash_password(password):
    return _hasher().hash(password)


def create_user(username, password, display_name=None):
    validate_username(username)
    validate_password(password)
    name = validate_display_name(display_name, username)
    password_hash = hash_password(password)
    try:
        with write_transaction() as session:
            user = User(username=username, username_key=username.lower(), display_name=name,
                        password_hash=password_hash)
            session.add(user)
    except IntegrityError:
        raise Conflict(_l("That username is taken.")) from None
    return user


def bulk_create_users(prefix, count, password):
    """Accounts for load tests: one hash shared by all, so thousands take seconds."""
    validate_password(password)
    password_hash = hash_password(password)
    names = [f"{prefix}{index}" for index in range(1, count + 1)]
    for name in names:
        validate_username(name)
    keys = {name.lower() for name in names}
    with write_transaction() as session:
        taken = {key for (key,) in session.query(User.username_key).filter(User.username_key.in_(keys))}
        fresh = [name for name in names if name.lower() not in taken]
        session.execute(db.insert(User), [
            {"username": name, "username_key": name.lower(), "display_name": name,
             "password_hash": password_hash, "created_at": utcnow(), "online": False}
            for name in fresh
        ])
    return len(fresh)


def find_user(username):
    if not isinstance(username, str):
        return None
    return db.session.query(User).filter_by(username_key=username.lower()).one_or_none()


def authenticate(username, password):
    """The user whose name and password these are, or None."""
    user = find_user(username)
    if user is None or not isinstance(password, str):
        return None
    try:
        _hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


def _serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_TOKEN_SALT)


def issue_token(user):
    max_age = current_app.config["TOKEN_MAX_AGE"]
    token = _serializer().dumps({"uid": user.id, "ep": user.session_epoch})
    return {"token": token, "expires_at": iso(utcnow() + timedelta(seconds=max_age))}


def user_for_token(token):
    """The user a bearer token was issued to, or None if it is forged or expired."""
    if not isinstance(token, str) or not token:
        return None
    try:
        payload = _serializer().loads(token, max_age=current_app.config["TOKEN_MAX_AGE"])
    except BadSignature:
        return None
    user = db.session.get(User, payload.get("uid")) if isinstance(payload, dict) else None
    if user is None or payload.get("ep") != user.session_epoch:
        return None  # the password changed since this token was issued
    return user


def user_for_session(session_id):
    """The user a session cookie names ("id:epoch"), unless the password changed since."""
    user_id, _, epoch = str(session_id).partition(":")
    if not (user_id.isdigit() and epoch.isdigit()):
        return None
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.session_epoch == int(epoch) else None


def change_password(user_id, current_password, new_password):
    """Set a new password; every earlier session and token stops working."""
    user = db.session.get(User, user_id)
    if authenticate(user.username, current_password) is None:
        raise Unauthorized(_l("Your current password is not right."))
    validate_password(new_password)
    password_hash = hash_password(new_password)
    with write_transaction():
        user.password_hash = password_hash
        user.session_epoch += 1
    return user
