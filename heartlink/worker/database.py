"""How the domain talks to the database: SQLite tuning and write transactions.

Under eventlet, sqlite3 calls never yield, so one process's greenlets cannot
interleave inside a transaction as long as nothing inside it does network I/O.
That is the rule here: a write transaction only touches the database, and every
emit happens after it has committed.
"""
import re
import sqlite3
from contextlib import contextmanager, suppress
from functools import lru_cache

from sqlalchemy import DateTime, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ..errors import DomainError, Unavailable
from ..extensions import db
from . import metrics

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


def unreachable(error):
    """Whether `error` means the database could not be reached, rather than a fault in
    the request or the code: the connection was lost or refused, the pool had none to give,
    or SQLite's write lock stayed taken past the busy timeout."""
    if isinstance(error, PoolTimeout):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    if isinstance(error.orig, sqlite3.OperationalError):  # also "no such table", which is a fault
        return "locked" in str(error.orig) or "busy" in str(error.orig)
    return isinstance(error, OperationalError)


def failure(error, logger, what, *args, extra=None):
    """Log a request that failed with `error` (`what % args` says which) and return the
    error to answer it with: `unavailable` while the database is away, in one line, for it
    is worth sending again; else `internal`, with the traceback."""
    if unreachable(error):
        reason = (str(error).splitlines() or [type(error).__name__])[0]  # without the statement SQLAlchemy appends
        logger.warning(what + " (the database is unreachable: %s)", *args, reason, extra=extra)
        metrics.database_unavailable.inc()
        return Unavailable()
    logger.error(what, *args, exc_info=error, extra=extra)
    return DomainError()


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


# --- the send path's statements, on the driver's own cursor ---------------------------------------
# A batch of sends runs three short statements. Through Session.execute each cost about four
# times the database's own work (compiled-statement lookup, execution context, result
# metadata: docs/performance.md), so these go to the DB-API cursor of the session's
# connection, inside the same transaction. Errors come out as SQLAlchemy's, as they would
# through the session, and a connection the driver reports as lost is invalidated.

_NAMED_PARAMETER = re.compile(r"(?<![:\w]):(\w+)")
_POSITIONAL_MARKER = {"qmark": "?", "format": "%s", "pyformat": "%s"}


@lru_cache(maxsize=4096)
def for_driver(sql, paramstyle):
    """`sql` written with :name parameters, with positional ones in the driver's style
    instead, and the names in the order they bind. Positional, because sqlite3 looks each
    name up among all of the statement's: binding a batch's insert of a few thousand named
    parameters took milliseconds (docs/performance.md)."""
    marker = _POSITIONAL_MARKER.get(paramstyle)
    if marker is None:
        raise ValueError(f"no driver parameter style {paramstyle!r} for the send path")
    if marker == "%s":
        sql = sql.replace("%", "%%")
    return _NAMED_PARAMETER.sub(lambda _name: marker, sql), tuple(_NAMED_PARAMETER.findall(sql))


@lru_cache(maxsize=8)
def _datetime_param(dialect):
    processor = DateTime().dialect_impl(dialect).bind_processor(dialect)
    return processor or (lambda value: value)


def as_stored(session, moment):
    """`moment` as fetch_all returns a datetime column: SQLite's text form, else itself."""
    return _datetime_param(session.connection().dialect)(moment)


def fetch_all(session, sql, params, datetimes=()):
    """Run one statement of the send path; returns its rows as tuples. `datetimes` names
    the parameters that hold a datetime (SQLite stores them as SQLAlchemy's text form)."""
    connection = session.connection()
    dialect = connection.dialect
    if datetimes:
        to_param = _datetime_param(dialect)
        params = {**params, **{name: to_param(params[name]) for name in datetimes}}
    statement, names = for_driver(sql, dialect.paramstyle)
    raw = connection.connection
    cursor = raw.cursor()
    try:
        cursor.execute(statement, tuple(params[name] for name in names))
        return cursor.fetchall() if cursor.description else []
    except dialect.dbapi.Error as error:
        if dialect.is_disconnect(error, raw.dbapi_connection, cursor):
            connection.invalidate(error)
        raise DBAPIError.instance(statement, params, error, dialect.dbapi.Error,
                                  connection_invalidated=connection.invalidated) from error
    finally:
        with suppress(dialect.dbapi.Error):  # a lost connection's cursor may fail to close too
            cursor.close()
