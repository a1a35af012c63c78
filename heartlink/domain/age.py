"""The minimum age (HEARTLINK_MIN_AGE, 18): asked at sign-up, and once of the accounts made before.

Sign-up asks for the date of birth and refuses anyone younger; only the date is kept
(`users.birth_date`). An account an operator made without a date is vouched for
(`users.birth_vouched`) and never asked. Any other account without a date (made before this
rule) is asked at its next sign-in and cannot start a heart link until it answers
(`ensure_known`, read by matching). An answer under the minimum age is kept, counted as a refusal
of kind "age" (protections.count_refusal), and suspends the account until its 18th birthday
(moderation.suspend by the service itself, `AUTO`): sign-in, sockets and the suspension's end are
the moderation's own (heartlink/domain/moderation.py).

Ages are reckoned on today's date in UTC; someone born on 29 February turns a year older on
1 March in other years.
"""
from datetime import date, datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from ..errors import BadRequest, Conflict, Forbidden
from ..models import User, utcnow
from ..worker.database import write_transaction
from . import moderation, protections

OLDEST = 120  # years: a date of birth further back is a mistake


def age_on(birth_date, day):
    """Whole years between `birth_date` and `day`."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def birthday(birth_date, years):
    """The day `birth_date` turns `years` old (1 March for 29 February in other years)."""
    try:
        return birth_date.replace(year=birth_date.year + years)
    except ValueError:
        return date(birth_date.year + years, 3, 1)


def min_age():
    return current_app.config["MIN_AGE"]


def check_date(birth_date, today=None):
    """A date of birth that can be true: given, not in the future, within OLDEST years.
    BadRequest (field "birth_date", reason "missing" or "invalid") otherwise."""
    today = today or utcnow().date()
    if birth_date is None:
        raise BadRequest(_l("Enter your date of birth."), field="birth_date", reason="missing")
    if not isinstance(birth_date, date) or isinstance(birth_date, datetime) or not (
            0 <= age_on(birth_date, today) <= OLDEST and birth_date <= today):
        raise BadRequest(_l("Enter your real date of birth."), field="birth_date", reason="invalid")
    return birth_date


def old_enough(birth_date, today=None):
    return age_on(birth_date, today or utcnow().date()) >= min_age()


def too_young():
    return BadRequest(_l("You must be at least %(age)s years old to use Heart Link.", age=min_age()),
                      field="birth_date", reason="too_young")


def check_sign_up(birth_date, today=None):
    """The date of birth of a new account: a real date, and old enough. BadRequest (field
    "birth_date", reason "missing", "invalid" or "too_young") otherwise."""
    check_date(birth_date, today)
    if not old_enough(birth_date, today):
        raise too_young()
    return birth_date


def needs_birth_date(user):
    """True for an account that must still say its date of birth (neither a date nor an operator's word)."""
    return user.birth_date is None and not user.birth_vouched


def ensure_known(user):
    """Raise Forbidden (details `needs: "birth_date"`) while the account must still say its date of
    birth: nobody is paired before the service knows they are old enough."""
    if needs_birth_date(user):
        raise Forbidden(_l("Tell us your date of birth before you start a heart link."), needs="birth_date")


def answer(user_id, birth_date, now=None):
    """An existing account says its date of birth, once. The date is kept. Under the minimum age the
    refusal is counted and the account suspended until its 18th birthday (banned, should that be more
    than the longest suspension away); returns that moderation.Restriction, else None. Conflict if
    the account had already answered or was vouched for."""
    now = now or utcnow()
    check_date(birth_date, now.date())
    with write_transaction() as session:
        answered = session.execute(
            update(User).where(User.id == user_id, User.birth_date.is_(None), User.birth_vouched.is_(False))
            .values(birth_date=birth_date)).rowcount
    if not answered:
        raise Conflict(_l("Your date of birth is already known."))
    if old_enough(birth_date, now.date()):
        return None
    protections.count_refusal(user_id, "age")
    comes_of_age = datetime.combine(birthday(birth_date, min_age()), datetime.min.time())
    note = f"Gave a date of birth under the minimum age of {min_age()}."
    reason = f"Heart Link is for people aged {min_age()} and over; you can sign in again once you are {min_age()}."
    if comes_of_age - now > moderation.MAX_SUSPENSION:
        return moderation.ban(user_id, note, moderation.AUTO, reason=reason, now=now)
    return moderation.suspend(user_id, comes_of_age, note, moderation.AUTO, reason=reason, now=now)
