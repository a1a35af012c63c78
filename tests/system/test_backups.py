"""`flask backup` while a worker serves, and `flask restore` into an empty database: then a person signs
in and reads their messages. On SQLite and PostgreSQL, as the operator runs the commands."""
import secrets
import subprocess
import sys

from config import BASE_DIR

from support import AuthActions, LiveServer, app_over


def _flask(env, *args):
    return subprocess.run([sys.executable, "-m", "flask", *args], cwd=BASE_DIR, capture_output=True, text=True,
                          env={**env, "FLASK_APP": "heartlink"}, timeout=120)


def _chat_while_serving(server, linked):
    alice, bob, room_id = linked(server)
    for text in ("before the backup", "kept in it"):
        assert alice.send_text(room_id, text)["ok"]
    bob.wait_for("message:new", lambda data: data["message"]["text"] == "kept in it")
    return alice, room_id


def _reads_after_restore(database_url, room_id):
    with app_over(database_url) as app:
        client = app.test_client()
        AuthActions(client).login("bob")
        history = client.get(f"/api/rooms/{room_id}/messages").get_json()
        assert [message["text"] for message in history["messages"]] == ["before the backup", "kept in it"]


def test_a_sqlite_backup_made_while_serving_restores_into_an_empty_database(live_server, linked, tmp_path):
    alice, room_id = _chat_while_serving(live_server, linked)
    copy = tmp_path / "backups" / "heartlink.db"
    made = _flask(live_server.env, "backup", str(copy))
    assert made.returncode == 0, made.stderr
    assert alice.send_text(room_id, "after the backup")["ok"]  # still serving

    # Over the database it came from (not empty): refused unless forced.
    refused = _flask(live_server.env, "restore", str(copy))
    assert refused.returncode == 1 and "not empty" in refused.stderr

    fresh = f"sqlite:///{tmp_path / 'restored.db'}"
    restored = _flask({**live_server.env, "DATABASE_URL": fresh}, "restore", str(copy))
    assert restored.returncode == 0, restored.stderr
    _reads_after_restore(fresh, room_id)


def test_a_postgresql_backup_is_a_pg_dump_that_restores_into_an_empty_database(postgres_url, linked, tmp_path):
    import psycopg2

    server = LiveServer(postgres_url, tmp_path)
    try:
        _alice, room_id = _chat_while_serving(server, linked)
        dump = tmp_path / "heartlink.dump"
        made = _flask(server.env, "backup", str(dump))
        assert made.returncode == 0, made.stderr
        assert dump.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
        refused = _flask(server.env, "restore", str(dump))
        assert refused.returncode == 1 and "not empty" in refused.stderr
    finally:
        server.close()

    admin_url, _, _name = postgres_url.rpartition("/")
    empty = f"heartlink_restore_{secrets.token_hex(4)}"
    admin = psycopg2.connect(postgres_url)
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {empty}")
    try:
        restored = _flask({**server.env, "DATABASE_URL": f"{admin_url}/{empty}"}, "restore", str(dump))
        assert restored.returncode == 0, restored.stderr
        _reads_after_restore(f"{admin_url}/{empty}", room_id)
        forced = _flask({**server.env, "DATABASE_URL": f"{admin_url}/{empty}"}, "restore", "--force", str(dump))
        assert forced.returncode == 0, forced.stderr
        _reads_after_restore(f"{admin_url}/{empty}", room_id)
    finally:
        admin.cursor().execute(f"DROP DATABASE {empty} WITH (FORCE)")
        admin.close()


def test_restoring_nothing_is_refused_in_one_line(runner, tmp_path):
    answer = runner.invoke(args=["restore", str(tmp_path / "missing.db")])
    assert answer.exit_code == 1 and "no backup at" in answer.output
