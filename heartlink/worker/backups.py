"""Backups of the database while the workers serve, and restoring one (`flask backup`, `flask restore`).

SQLite: the online backup API (sqlite3.Connection.backup) copies the file in one step, under a read
snapshot; in WAL mode the workers keep writing meanwhile, and the copy is the database as of one
moment. PostgreSQL: `pg_dump -Fc`, a consistent snapshot in pg_dump's custom format, restored
with `pg_restore`. Uploads are files (HEARTLINK_UPLOAD_DIR) and are copied apart from this:
docs/operations.md, "Backups".
"""
import os
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import inspect, select, table
from sqlalchemy.engine import make_url

from ..extensions import db

# A database holding any of these rows is not empty: a restore over it needs --force.
_CONTENT = ("users", "rooms", "messages", "reports", "moderation_log")


class BackupError(RuntimeError):
    """A backup or restore that could not be made; its message says why, in one line."""


def _url():
    return make_url(str(db.engine.url))


def _sqlite_path(url):
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return url.database


def _postgres_env(url):
    """libpq's settings for pg_dump and pg_restore: the password goes in the environment, not in argv."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    for key, value in (("PGHOST", url.host), ("PGPORT", url.port), ("PGUSER", url.username),
                       ("PGPASSWORD", url.password), ("PGDATABASE", url.database)):
        if value is not None:
            env[key] = str(value)
    return env


def _run(command, env):
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True)
    except FileNotFoundError:
        raise BackupError(f"{command[0]} is not installed (PostgreSQL's client tools)") from None
    if done.returncode:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[-2000:]}")


def backup(path):
    """Write a consistent copy of the whole database to `path` (a new file). Returns its size."""
    path = Path(path)
    if path.exists():
        raise BackupError(f"{path} exists already; give a new file")
    path.parent.mkdir(parents=True, exist_ok=True)
    url = _url()
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(_sqlite_path(url), timeout=30)
        target = sqlite3.connect(path)
        try:
            source.backup(target)  # all pages in one step: one snapshot; WAL writers carry on
        finally:
            target.close()
            source.close()
        os.chmod(path, 0o600)
    elif url.get_backend_name() == "postgresql":
        # Created readable by its owner only, before pg_dump writes a byte into it.
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        try:
            _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(path)], _postgres_env(url))
        except BackupError:
            path.unlink(missing_ok=True)
            raise
    else:
        raise BackupError(f"no backup for {url.get_backend_name()} databases")
    return path.stat().st_size


def is_empty():
    """Whether the database holds nothing worth keeping: no tables of Heart Link's, or none with a row."""
    existing = set(inspect(db.engine).get_table_names())
    for name in _CONTENT:
        if name in existing and db.session.execute(select(1).select_from(table(name)).limit(1)).first():
            return False
    return True


def restore(path, force=False):
    """Replace the database's contents with the backup at `path`. Refuses a database that is not
    empty unless `force`. The workers should be stopped meanwhile (docs/operations.md)."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"no backup at {path}")
    if not force and not is_empty():
        raise BackupError("the database is not empty; restoring would overwrite it (use --force to do so)")
    db.session.remove()
    db.engine.dispose()
    url = _url()
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        target = sqlite3.connect(_sqlite_path(url), timeout=30)
        try:
            if source.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupError(f"{path} is not a sound SQLite database")
            source.backup(target)
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{path} is not a SQLite backup ({error})") from None
        finally:
            target.close()
            source.close()
    elif url.get_backend_name() == "postgresql":
        env = _postgres_env(url)
        _run(["pg_restore", "--list", str(path)], env)  # a custom-format dump, or nothing is touched
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error",
              "--dbname", url.database, str(path)], env)
    else:
        raise BackupError(f"no restore for {url.get_backend_name()} databases")
