"""The minimum age: a date of birth at sign-up, and the one question an existing account without one
is asked before it may start a heart link; an answer under the age suspends the account."""
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from heartlink.domain import accounts, age, matching, protections, standing
from heartlink.errors import BadRequest, Conflict, Forbidden, Restricted
from heartlink.extensions import db
from heartlink.models import ModerationEntry, User, utcnow

from support import PASSWORD

TODAY = date(2026, 12, 5)


def _user(user_id):
    return db.session.get(User, user_id, populate_existing=True)


def test_ages_count_whole_years_and_29_february_turns_older_on_1_march():
    assert age.age_on(date(2008, 12, 5), TODAY) == 18
    assert age.age_on(date(2008, 12, 6), TODAY) == 17
    assert age.birthday(date(2008, 2, 29), 18) == date(2026, 3, 1)
    assert age.age_on(date(2008, 2, 29), date(2026, 2, 28)) == 17
    assert age.age_on(date(2008, 2, 29), date(2026, 3, 1)) == 18


def test_sign_up_takes_18_today_and_refuses_a_day_younger_or_no_date(in_app):
    assert age.check_sign_up(date(2008, 12, 5), TODAY) == date(2008, 12, 5)
    for born, reason in ((date(2008, 12, 6), "too_young"), (None, "missing"), (date(2027, 1, 1), "invalid"),
                         (date(1880, 1, 1), "invalid")):
        with pytest.raises(BadRequest) as refused:
            age.check_sign_up(born, TODAY)
        assert refused.value.details == {"field": "birth_date", "reason": reason}
    assert "at least 18" in str(age.too_young().message)


def test_the_minimum_age_is_a_setting(in_app):
    in_app.config["MIN_AGE"] = 21
    with pytest.raises(BadRequest):
        age.check_sign_up(date(2006, 1, 1), TODAY)  # 20
    assert age.check_sign_up(date(2005, 12, 5), TODAY)


def test_an_account_says_its_date_or_is_vouched_for_and_only_the_rest_are_asked(in_app):
    signed_up = accounts.create_user("alice", PASSWORD, birth_date=date(1990, 4, 1))
    vouched = accounts.create_user("bob", PASSWORD, vouched=True)
    older = accounts.create_user("carol", PASSWORD)  # as every account made before the rule
    assert (signed_up.birth_date, signed_up.birth_vouched) == (date(1990, 4, 1), False)
    assert not age.needs_birth_date(signed_up) and not age.needs_birth_date(vouched)
    assert age.needs_birth_date(older)


def test_an_account_that_has_not_answered_cannot_match_until_it_does(in_app):
    carol = accounts.create_user("carol", PASSWORD).id
    with pytest.raises(Forbidden) as refused:
        matching.start(carol)
    assert refused.value.details == {"needs": "birth_date"}
    assert age.answer(carol, date(1990, 4, 1)) is None
    assert _user(carol).birth_date == date(1990, 4, 1)
    assert matching.start(carol)[0] == "waiting"
    with pytest.raises(Conflict):
        age.answer(carol, date(2010, 1, 1))  # once: an answer is not changed afterwards
    assert _user(carol).birth_date == date(1990, 4, 1)


def test_a_vouched_account_is_never_asked(in_app):
    bob = accounts.create_user("bob", PASSWORD, vouched=True).id
    with pytest.raises(Conflict):
        age.answer(bob, date(2012, 1, 1))
    assert _user(bob).birth_date is None


def test_an_answer_under_the_age_suspends_until_the_18th_birthday_counted_and_audited(in_app):
    dave = accounts.create_user("dave", PASSWORD).id
    now = datetime(2026, 12, 5, 12, 0)
    restriction = age.answer(dave, date(2010, 6, 30), now=now)
    assert restriction.standing == "suspended" and restriction.until == datetime(2028, 6, 30)
    assert "18" in restriction.reason
    user = _user(dave)
    assert user.birth_date == date(2010, 6, 30) and user.standing == "suspended"
    assert protections.refusals_of([dave]) == {dave: {"age": 1}}
    entry = db.session.execute(select(ModerationEntry).where(ModerationEntry.subject_id == dave)).scalar_one()
    assert (entry.actor, entry.action, entry.until) == ("auto", "suspend", datetime(2028, 6, 30))
    with pytest.raises(Restricted):
        standing.ensure_may_sign_in(user, now)
    assert standing.standing_of(user, datetime(2028, 6, 30)) == "active"  # it lifts itself


def test_an_answer_further_than_the_longest_suspension_from_the_age_bans(in_app):
    eve = accounts.create_user("eve", PASSWORD).id
    restriction = age.answer(eve, utcnow().date() - timedelta(days=365 * 5))
    assert restriction.standing == "banned"
    assert protections.refusals_of([eve]) == {eve: {"age": 1}}


def test_a_date_that_cannot_be_true_is_refused_and_nothing_is_kept(in_app):
    frank = accounts.create_user("frank", PASSWORD).id
    with pytest.raises(BadRequest):
        age.answer(frank, utcnow().date() + timedelta(days=1))
    assert _user(frank).birth_date is None
