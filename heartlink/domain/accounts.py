"""Accounts: the rules for names and passwords, password hashing, API tokens, sign-ins.

Password hashing runs in a thread (heartlink/worker/offload.py), never on the event loop. An
unknown username is verified against a dummy hash, so both answers take as long.
Every sign-in has a login id; logging out revokes it in the database, so a copied
cookie or token of that sign-in stops working on every worker.
"""
import logging
import re
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, exists, select, update
from sqlalchemy.exc import IntegrityError

from ..errors import BadRequest, Conflict, RateLimited, Unauthorized
from ..extensions import db
from ..lib.text import chosen_name
from ..models import LoginFailure, RevokedSignIn, User, iso, utcnow
from ..worker import offload
from ..worker.database import write_transaction
from . import protections

log = logging.getLogger(__name__)

USERNAME_RE = re.compile(r"^[A-Za-z0-9_-]{3,32}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 256
MAX_DISPLAY_NAME = 64
_TOKEN_SALT = "heartlink-api-token"


_dummy_hashes = {}


def _hasher():
    # Memory-hard (argon2id); the cost is a setting so tests can make it cheap.
    config = current_app.config
    return PasswordHasher(memory_cost=config["ARGON2_MEMORY_KIB"], time_cost=config["ARGON2_TIME_COST"],
                          parallelism=config["ARGON2_PARALLELISM"])


def _dummy_hash(hasher):
    """A hash of nothing anyone knows, at the current cost: verifying an unknown username
    against it takes as long as verifying a real one."""
    key = (hasher.memory_cost, hasher.time_cost, hasher.parallelism)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = offload.password_work(hasher.hash, secrets.token_hex(16))
    return _dummy_hashes[key]


def _verify(hasher, password_hash, password):
    """True if the password matches; off the event loop."""
    try:
        return offload.password_work(hasher.verify, password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def validate_username(username):
    if not isinstance(username, str) or not USERNAME_RE.match(username):
        raise BadRequest(_l("A username is 3 to 32 letters, digits, _ or -."))
    return username


def validate_password(password):
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise BadRequest(_l("A password has at least %(count)s characters.", count=MIN_PASSWORD))
    return password


def validate_display_name(display_name, username, user_id=None):
    """The name as it will be shown; refused (`filtered`, counted for `user_id`) if it holds a blocked term."""
    name = chosen_name(display_name if isinstance(display_name, str) else "") or username
    if len(name) > MAX_DISPLAY_NAME:
        raise BadRequest(_l("A display name has at most 64 characters."))
    protections.check_name(name, user_id)
    return name


def hash_password(password):
    return offload.password_work(_hasher().hash, password)


def create_user(username, password, display_name=None, birth_date=None, vouched=False):
    """A new account. `birth_date` is what the person said (sign-up checks it first:
    age.check_sign_up); `vouched` is an operator's word that the person is old enough. An account
    with neither is asked for its date at its next sign-in (heartlink/domain/age.py)."""
    validate_username(username)
    validate_password(password)
    name = validate_display_name(display_name, username)
    password_hash = hash_password(password)
    try:
        with write_transaction() as session:
            user = User(username=username, username_key=username.lower(), display_name=name,
                        password_hash=password_hash, birth_date=birth_date, birth_vouched=bool(vouched))
            session.add(user)
    except IntegrityError:
        raise Conflict(_l("That username is taken.")) from None
    return user


def bulk_create_users(prefix, count, password, birth_date=None, vouched=False):
    """Accounts for load tests: one hash shared by all, so thousands take seconds. `birth_date`
    and `vouched` as for create_user, the same for all."""
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
             "password_hash": password_hash, "created_at": utcnow(), "online": False,
             "birth_date": birth_date, "birth_vouched": bool(vouched)}
            for name in fresh
        ])
    return len(fresh)


def find_user(username):
    if not isinstance(username, str):
        return None
    return db.session.query(User).filter_by(username_key=username.lower()).one_or_none()


def authenticate(username, password):
    """The user whose name and password these are, or None. Takes as long for an
    unknown username as for a known one."""
    hasher = _hasher()
    user = find_user(username)
    usable = isinstance(password, str) and 0 < len(password) <= MAX_PASSWORD
    # Every refusal does the same work as a wrong password for a real account: one
    # verification, whatever was missing, so the answer's timing tells nothing.
    matches = _verify(hasher, user.password_hash if user else _dummy_hash(hasher),
                      password if usable else "\0not a password")
    if user is None or not usable or not matches:
        return None
    if hasher.check_needs_rehash(user.password_hash):
        # Hashes made at an older cost move to the current one at the next sign-in.
        new_hash = offload.password_work(hasher.hash, password)
        with write_transaction() as session:
            session.execute(update(User).where(User.id == user.id).values(password_hash=new_hash))
        db.session.refresh(user)
    return user


# --- wrong passwords: back off per username and address -----------------------------------

def _failure_key(username, address):
    name = username.lower()[:64] if isinstance(username, str) else ""
    return f"{name}|{address or '-'}"[:200]


def check_not_locked(username, address):
    """Raise RateLimited while this username may not be tried from this address."""
    row = db.session.get(LoginFailure, _failure_key(username, address))
    now = utcnow()
    if row is not None and row.locked_until is not None and row.locked_until > now:
        wait = max(1, int((row.locked_until - now).total_seconds() + 0.999))
        raise RateLimited(_l("Too many wrong passwords; try again in %(seconds)s s.", seconds=wait),
                          retry_after=wait)


def record_failure(username, address):
    """One more wrong password for username at address; past the free ones, each doubles the wait."""
    config = current_app.config
    key, now = _failure_key(username, address), utcnow()
    for attempt in (1, 2):  # two first failures at once on PostgreSQL: the second finds the row
        try:
            with write_transaction() as session:
                row = session.get(LoginFailure, key, with_for_update=True)
                if row is None:
                    row = LoginFailure(key=key, failures=0)
                    session.add(row)
                row.failures += 1
                row.updated_at = now
                over = row.failures - config["LOGIN_FREE_FAILURES"]
                if over > 0:
                    wait = min(config["LOGIN_BACKOFF_MAX"], config["LOGIN_BACKOFF_BASE"] * 2 ** min(over - 1, 30))
                    row.locked_until = now + timedelta(seconds=wait)
                failures = row.failures
            break
        except IntegrityError:
            if attempt == 2:
                raise
    if failures == config["LOGIN_FREE_FAILURES"] + 1:
        log.warning("wrong passwords for %r from %s: backing off", key.partition("|")[0], address)


def record_success(username, address):
    """A right password clears the failures of this username from this address."""
    with write_transaction() as session:
        session.execute(delete(LoginFailure).where(LoginFailure.key == _failure_key(username, address)))


def sign_in(username, password, address):
    """authenticate() with the failure back-off: raises RateLimited while locked out."""
    check_not_locked(username, address)
    user = authenticate(username, password)
    if user is None:
        record_failure(username, address)
    else:
        record_success(username, address)
    return user


def _serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_TOKEN_SALT)


def new_login_id():
    return secrets.token_hex(16)


def issue_token(user, login_id=None):
    """A bearer token of its own sign-in (or of `login_id`'s: logging that out ends it too)."""
    max_age = current_app.config["TOKEN_MAX_AGE"]
    token = _serializer().dumps({"uid": user.id, "ep": user.session_epoch, "lid": login_id or new_login_id()})
    return {"token": token, "expires_at": iso(utcnow() + timedelta(seconds=max_age))}


def _token_payload(token):
    if not isinstance(token, str) or not token or len(token) > 1024:
        return None
    try:
        payload = _serializer().loads(token, max_age=current_app.config["TOKEN_MAX_AGE"])
    except BadSignature:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("uid"), int) \
            or not isinstance(payload.get("lid"), str):
        return None  # tokens from before sign-ins had ids are no longer accepted
    return payload


def sign_in_of_token(token):
    """The login id a valid-looking token belongs to, or None."""
    payload = _token_payload(token)
    return payload["lid"] if payload else None


def _signed_in_user(user_id, epoch, login_id):
    """The user, if the epoch is current and this sign-in was not logged out: one query."""
    if not login_id:
        return None
    return db.session.execute(
        select(User).where(User.id == user_id, User.session_epoch == epoch,
                           ~exists().where(RevokedSignIn.login_id == login_id))
    ).scalar_one_or_none()


def user_for_token(token):
    """The user a bearer token was issued to, or None if it is forged, expired, of a
    sign-in that was logged out, or older than the last password change."""
    payload = _token_payload(token)
    if payload is None or not isinstance(payload.get("ep"), int):
        return None
    return _signed_in_user(payload["uid"], payload["ep"], payload["lid"])


def user_for_session(session_id, login_id):
    """The user a session cookie names ("id:epoch") for the sign-in `login_id`, unless
    that sign-in was logged out or the password changed since."""
    user_id, _, epoch = str(session_id).partition(":")
    if not (user_id.isdigit() and epoch.isdigit()) or not isinstance(login_id, str):
        return None
    return _signed_in_user(int(user_id), int(epoch), login_id)


def revoke_sign_in(user_id, login_id):
    """Log one sign-in out everywhere: its cookie and tokens stop working on every worker."""
    if not login_id:
        return
    try:
        with write_transaction() as session:
            if session.get(RevokedSignIn, login_id) is None:
                session.add(RevokedSignIn(login_id=login_id, user_id=user_id))
    except IntegrityError:
        pass  # logged out twice at once: revoked either way


def sign_out_everywhere(user_id):
    """Every session and token of this person stops working (their epoch moves on)."""
    with write_transaction() as session:
        session.execute(update(User).where(User.id == user_id).values(session_epoch=User.session_epoch + 1))
    log.info("user %s signed out everywhere", user_id)


def forget_expired(now=None):
    """Revocations older than any cookie or token they could stop, and old failure counts."""
    now = now or utcnow()
    config = current_app.config
    keep = max(config["TOKEN_MAX_AGE"], config["PERMANENT_SESSION_LIFETIME"].total_seconds())
    with write_transaction() as session:
        revoked = session.execute(
            delete(RevokedSignIn).where(RevokedSignIn.revoked_at < now - timedelta(seconds=keep))).rowcount
        failures = session.execute(delete(LoginFailure).where(
            LoginFailure.updated_at < now - timedelta(seconds=max(86400, config["LOGIN_BACKOFF_MAX"])))).rowcount
    return revoked, failures


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
