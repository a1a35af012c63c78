"""How the domain talks to the database: SQLite tuning and write transactions.

Under eventlet, sqlite3 calls never yield, so one process's greenlets cannot
interleave inside a transaction as long as nothing inside it does network I/O.
That is the rule here: a write transaction only touches the database, and every
emit happens after it has committed.
"""
import sqlite3
from contextlib import contextmanager

from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from .extensions import db

_WRITE = "heartlink_write"


@event.listens_for(Engine, "connect")
def _tune_sqlite(dbapi_connection, _record):
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # We issue BEGIN ourselves (see _begin) so that writes can start as writes.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@event.listens_for(Engine, "begin")
def _begin(connection):
    if connection.dialect.name != "sqlite":
        return
    # BEGIN IMMEDIATE takes the write lock up front, so two writers queue on the
    # busy timeout instead of one failing when it upgrades a read snapshot.
    write = connection.get_execution_options().get(_WRITE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextmanager
def write_transaction():
    """One short write transaction: commit on success, roll back on any error."""
    session = db.session()
    if session.in_transaction():
        # End any read snapshot so that the write sees the latest rows.
        session.commit()
    session.connection(execution_options={_WRITE: True})
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def serialise(session, name):
    """Make transactions that call this with the same name run one at a time.

    SQLite write transactions already do (BEGIN IMMEDIATE). On PostgreSQL a
    transaction-scoped advisory lock does, released at commit or rollback; each
    statement after it sees what the previous holder committed.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})
