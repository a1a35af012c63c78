"""Sign-up challenges: the proof of work a browser solves before it may create an account.

ALTCHA's proof of work, version 2 (the `altcha` packages: this PyPI library makes and checks the
challenges, the npm widget solves them in the page). A challenge names a PBKDF2/SHA-256 key to find:
the client tries counters 0, 1, 2 ... until the key it derives starts with the challenge's prefix.
The counter that does was drawn below SIGNUP_POW_COMPLEXITY when the challenge was made (the
library's "deterministic" mode), so a challenge costs on average half that many derivations of
SIGNUP_POW_COST rounds, and checking a solution costs one HMAC (the key's signature), not a
derivation.

A challenge is signed with a key derived from SECRET_KEY (never a default: the app does not
start without one), expires after SIGNUP_CHALLENGE_SECONDS, and is spent by the first sign-up
that uses it: its signature is kept in `used_challenges` until it would have expired, so a
replay is refused on every worker (the table is the one they share). `flask rooms cleanup`
deletes the expired rows.
"""
import hashlib
import hmac
import logging
import secrets
from datetime import datetime, timedelta

import altcha
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from ..errors import BadRequest
from ..models import UsedChallenge, utcnow
from ..worker.database import write_transaction

log = logging.getLogger(__name__)

ALGORITHM = "PBKDF2/SHA-256"
# The form field the widget fills with its solution (base64 JSON), and the most it may hold.
FIELD = "altcha"
_MAX_PAYLOAD = 4096
_EPOCH = datetime(1970, 1, 1)  # challenges give their end in Unix seconds; the database keeps naive UTC


def _key(purpose):
    """A key of its own for each use, derived from SECRET_KEY (which signs sessions too)."""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"heartlink-signup-challenge:{purpose}".encode(), hashlib.sha256).hexdigest()


def new_challenge(now=None):
    """A fresh signed challenge, as the widget reads it: {"parameters": {...}, "signature": ...}."""
    config = current_app.config
    now = now or utcnow()
    expires_at = now + timedelta(seconds=config["SIGNUP_CHALLENGE_SECONDS"])
    challenge = altcha.create_challenge(
        ALGORITHM, config["SIGNUP_POW_COST"], counter=secrets.randbelow(max(1, config["SIGNUP_POW_COMPLEXITY"])),
        expires_at=int((expires_at - _EPOCH).total_seconds()),
        hmac_secret=_key("challenge"), hmac_key_secret=_key("key"))
    return challenge.to_dict()


def spend(payload):
    """Accept a solved challenge once. Raises BadRequest (field "altcha") with `reason`:
    "missing" (no solution sent), "invalid" (not a solution of a challenge of ours), "expired",
    or "used" (already spent by a sign-up, on any worker)."""
    if not payload:
        raise BadRequest(_l("The check that you are a person did not run; wait for it to finish and send again."),
                         field=FIELD, reason="missing")
    if not isinstance(payload, str) or len(payload) > _MAX_PAYLOAD:
        raise _invalid()
    result = altcha.verify_solution(payload, _key("challenge"), hmac_key_secret=_key("key"))
    if result.expired:
        raise BadRequest(_l("The check that you are a person expired; send the form again."),
                         field=FIELD, reason="expired")
    if not result.verified:
        raise _invalid()
    challenge = altcha.Payload.from_base64(payload).challenge
    expires_at = challenge.parameters.expires_at
    if not isinstance(expires_at, int):
        raise _invalid()  # every challenge of ours expires; a signed one without an end is not ours
    try:
        with write_transaction() as session:
            # The signature names the challenge: one HMAC of its parameters, nonce and salt included.
            session.add(UsedChallenge(key=challenge.signature, expires_at=_EPOCH + timedelta(seconds=expires_at)))
    except IntegrityError:
        log.info("a spent sign-up challenge was sent again")
        raise BadRequest(_l("That check was already used; send the form again."), field=FIELD,
                         reason="used") from None


def _invalid():
    return BadRequest(_l("The check that you are a person failed; send the form again."), field=FIELD,
                      reason="invalid")


def forget_expired(now=None):
    """Delete the spent challenges that have expired (nobody could use them again anyway)."""
    with write_transaction() as session:
        return session.execute(delete(UsedChallenge).where(UsedChallenge.expires_at < (now or utcnow()))).rowcount
