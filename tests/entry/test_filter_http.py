"""The filter on the HTTP ways in, in process: the sign-up form's display name (nobody to count
it against yet: nothing is stored) and the profile's (counted); a bad line in the file is no crash."""
import pytest

from config import TestConfig
from heartlink import create_app
from heartlink.domain import moderation, protections
from heartlink.extensions import db
from heartlink.models import ProtectionRefusal, User

from filter_cases import BLOCKED_TERMS, CASES
from support import config_for

NAMES = [(text, blocked) for text, blocked, _link in CASES if len(text) <= 64]


@pytest.fixture
def app(db_path, tmp_path):
    terms = tmp_path / "blocked-terms.txt"
    terms.write_text(BLOCKED_TERMS, encoding="utf-8")
    app = create_app(config_for(db_path, UPLOAD_DIR=str(tmp_path / "uploads"), BLOCKED_TERMS=str(terms)))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_display_name_with_a_blocked_term_is_refused_at_sign_up(client, auth):
    refused = auth.register("newcomer", display_name="ｂａｄ person")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'data-testid="error-display_name"' in html and "Heart Link&#39;s rules" in html
    assert "ｂａｄ" not in html.split("<form")[0]
    with client.application.app_context():
        assert db.session.execute(db.select(User).filter_by(username="newcomer")).scalar_one_or_none() is None
        assert not db.session.execute(db.select(ProtectionRefusal)).all()


@pytest.mark.parametrize(("name", "blocked"), NAMES)
def test_each_name_of_the_table_through_patch_api_me(client, auth, make_user, name, blocked):
    user_id = make_user("alice", "Alice")
    auth.login("alice")
    response = client.patch("/api/me", json={"display_name": name}, headers={"X-CSRFToken": auth.csrf_token("/")})
    if blocked:
        assert response.status_code == 422 and response.get_json()["error"]["code"] == "filtered"
        with client.application.app_context():
            assert db.session.get(User, user_id).display_name == "Alice"
            assert moderation.person_record(user_id)["refusals"]["term"] == 1
    else:
        assert response.status_code == 200, response.get_json()


def test_without_a_file_nothing_is_filtered(db_path):
    plain = create_app(config_for(db_path))
    with plain.app_context():
        assert protections.load_blocked_terms(plain).size == 0
        assert TestConfig.BLOCKED_TERMS is None


def test_a_file_that_cannot_be_read_keeps_the_list_in_force(app, tmp_path, caplog):
    app.config["BLOCKED_TERMS"] = str(tmp_path / "gone.txt")
    assert protections.load_blocked_terms(app).matches("bad")
    assert "keeping the list in force" in caplog.text
