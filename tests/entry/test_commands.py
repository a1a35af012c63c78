"""The flask commands as an operator types them in a checkout: however the app is named,
they answer without noise, and a missing setting is one clear line."""
import os
import subprocess
import sys

import pytest

from config import BASE_DIR

# FLASK_APP=heartlink comes from .flaskenv for a plain `flask …`, as in a fresh shell.
APP_NAMES = {"app.py": ["--app", "app"], "the package": ["--app", "heartlink"], ".flaskenv": []}


def _flask(*args, **settings):
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("HEARTLINK_", "FLASK_")) and key not in ("SECRET_KEY", "DATABASE_URL")}
    env.update(settings)
    return subprocess.run([sys.executable, "-m", "flask", *args], cwd=BASE_DIR, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("naming", APP_NAMES)
def test_users_list_answers_quietly_however_the_app_is_named(naming, make_user, db_path):
    make_user("alice", "Alice")
    run = _flask(*APP_NAMES[naming], "users", "list", SECRET_KEY="k" * 32, DATABASE_URL=f"sqlite:///{db_path}")
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    assert run.stdout.split("\t")[:3] == ["1", "alice", "Alice"]


@pytest.mark.parametrize("naming", APP_NAMES)
def test_a_missing_secret_key_is_one_line_saying_what_to_set(naming, db_path):
    run = _flask(*APP_NAMES[naming], "users", "list", DATABASE_URL=f"sqlite:///{db_path}")
    assert run.returncode == 2
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert "SECRET_KEY" in run.stderr and "HEARTLINK_ENV=development" in run.stderr
    assert run.stdout == ""
