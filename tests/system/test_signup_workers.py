"""A sign-up challenge is spent once on every worker: two `python app.py` workers over one database
(a shared SQLite file, and PostgreSQL), each refusing a solution the other already accepted."""
import secrets

import pytest
import requests

from heartlink.domain import accounts

from support import LiveServer, register_over_http, solve


def _spent_once_across(first, second):
    http = requests.Session()
    solution = solve(http.get(first.url + "/api/signup/challenge").json())
    assert register_over_http(http, first.url, "alice", altcha_field=solution).status_code == 302
    replayed = register_over_http(requests.Session(), second.url, "bob", altcha_field=solution)
    assert replayed.status_code == 400 and "already used" in replayed.text
    # A challenge from one worker is good on the other (one SECRET_KEY), once.
    fresh = solve(requests.get(second.url + "/api/signup/challenge").json())
    assert register_over_http(requests.Session(), first.url, "carol", altcha_field=fresh).status_code == 302
    with first.app.app_context():
        assert accounts.find_user("alice") is not None and accounts.find_user("carol") is not None
        assert accounts.find_user("bob") is None


def test_a_solution_spent_on_one_worker_is_refused_on_the_other(serve):
    key = secrets.token_hex(16)
    _spent_once_across(serve(SECRET_KEY=key), serve(SECRET_KEY=key))


@pytest.fixture
def postgres_workers(postgres_url, tmp_path):
    key = secrets.token_hex(16)
    workers = [LiveServer(postgres_url, tmp_path, SECRET_KEY=key, HEARTLINK_WORKER_ID=name) for name in ("w1", "w2")]
    yield workers
    for worker in workers:
        worker.close()


def test_a_solution_spent_on_one_worker_is_refused_on_the_other_over_postgresql(postgres_workers):
    _spent_once_across(*postgres_workers)
