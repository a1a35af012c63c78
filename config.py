"""Settings, read once from the environment (and .env when present)."""
import json
import os
import secrets
import socket
from pathlib import Path

from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"
load_dotenv(BASE_DIR / ".env")


def _int(name, default):
    return int(os.environ.get(name, default))


def _float(name, default):
    return float(os.environ.get(name, default))


def _list(name):
    value = os.environ.get(name, "").strip()
    return [item.strip() for item in value.split(",") if item.strip()] or None


def sqlalchemy_url(url):
    """The SQLAlchemy URL for a DATABASE_URL: PostgreSQL through psycopg2, which eventlet greens
    (SQLAlchemy 2.1 would pick psycopg 3, whose C wait loop blocks the whole server)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    return url


def _rate(name, default):
    """A limit written "N/W": at most N per W seconds."""
    count, seconds = os.environ.get(name, default).split("/")
    return int(count), float(seconds)


# The languages a person may choose (their code in the API) and the translation each uses.
LANGUAGES = {"en": "en", "zh": "zh_Hans"}


def redis_queue(config):
    """The Redis URL of the message queue when there is one (the only kind Heart Link runs with:
    the ordering of a room's messages across workers rides on it), else None."""
    url = config.get("SOCKETIO_MESSAGE_QUEUE") or ""
    return url if url.startswith(("redis://", "rediss://")) else None


def development_secret():
    """A per-machine random key for development runs, kept in the instance folder.

    Production has no default: create_app refuses to start without SECRET_KEY.
    """
    path = INSTANCE_DIR / "dev-secret-key"
    if not path.exists():
        INSTANCE_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Readable by its owner only, from the first byte written.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as secret:
            secret.write(secrets.token_hex(32))
    return path.read_text().strip()


class Config:
    ENV_NAME = os.environ.get("HEARTLINK_ENV", "production")
    SECRET_KEY = os.environ.get("SECRET_KEY") or (
        development_secret() if ENV_NAME == "development" else None
    )
    SQLALCHEMY_DATABASE_URI = sqlalchemy_url(os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'heartlink.db'}"
    ))
    SOCKETIO_MESSAGE_QUEUE = os.environ.get("SOCKETIO_MESSAGE_QUEUE") or None
    # The queue's channel; deployments sharing one Redis keep apart by it (rate counters too).
    SOCKETIO_CHANNEL = os.environ.get("HEARTLINK_SOCKETIO_CHANNEL", "heartlink")
    ASYNC_MODE = os.environ.get("HEARTLINK_ASYNC_MODE", "eventlet")
    HOST = os.environ.get("HOST", "127.0.0.1")
    PORT = _int("PORT", 5000)
    # Names this process's sockets in the database; stable across restarts so a
    # restarted worker forgets the sockets it had before.
    WORKER_ID = os.environ.get("HEARTLINK_WORKER_ID") or f"{socket.gethostname()}:{PORT}"
    # How many reverse proxies stand in front (their X-Forwarded-* headers are trusted).
    PROXY_COUNT = _int("HEARTLINK_PROXY_COUNT", 0)
    MAX_CONNECTIONS = _int("HEARTLINK_MAX_CONNECTIONS", 10000)
    # Logs: "text" or "json" (one object per line; `python app.py --log-json` too), and the level.
    LOG_FORMAT = os.environ.get("HEARTLINK_LOG_FORMAT", "text")
    LOG_LEVEL = os.environ.get("HEARTLINK_LOG_LEVEL", "INFO")
    # On SIGTERM a worker stops accepting, lets running handlers finish, closes its sockets
    # (their clients reconnect elsewhere) and exits; it is killed if that takes longer than this.
    SHUTDOWN_TIMEOUT = _float("HEARTLINK_SHUTDOWN_TIMEOUT", 10)
    UPLOAD_DIR = os.environ.get("HEARTLINK_UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))
    ALLOWED_ORIGINS = _list("HEARTLINK_ALLOWED_ORIGINS")
    ICE_SERVERS = json.loads(
        os.environ.get("HEARTLINK_ICE_SERVERS", "[]")
    )

    # Socket.IO transport
    PING_INTERVAL = _float("HEARTLINK_PING_INTERVAL", 25)
    PING_TIMEOUT = _float("HEARTLINK_PING_TIMEOUT", 20)
    MAX_SOCKET_PAYLOAD = _int("HEARTLINK_MAX_SOCKET_PAYLOAD", 64 * 1024)
    # Inbound packets per connection, whatever they are, counted before any work
    # (heartlink/inbound.py): a sustained rate and how many may be saved up for a burst.
    # Far above RATE_EVENTS, which answers a busy client with coded acks first.
    PACKET_RATE = _float("HEARTLINK_PACKET_RATE", 100)
    PACKET_BURST = _int("HEARTLINK_PACKET_BURST", 500)

    # Matching and links
    MATCH_TIMEOUT = _float("HEARTLINK_MATCH_TIMEOUT", 600)
    # Seconds a person with interests waits for someone who shares one before anyone will do.
    INTEREST_WAIT = _float("HEARTLINK_INTEREST_WAIT", 10)
    # Messages each member of a random link sends before the two see each other's names and
    # pictures (0: at once).
    REVEAL_AFTER = _int("HEARTLINK_REVEAL_AFTER", 10)
    LINK_IDLE_HOURS = _float("HEARTLINK_LINK_IDLE_HOURS", 24)
    # How long a person may be without any socket before they count as gone
    # (presence goes offline, their place in the match queue is given up).
    PRESENCE_GRACE = _float("HEARTLINK_PRESENCE_GRACE", 5)
    SWEEP_INTERVAL = _float("HEARTLINK_SWEEP_INTERVAL", 1)
    WORKER_STALE_AFTER = _float("HEARTLINK_WORKER_STALE_AFTER", 30)

    # Accounts. argon2id at OWASP's parameters (19 MiB, 2 passes, 1 lane): about 25 ms
    # a verification on this machine, in a thread (heartlink/offload.py), never on the loop.
    ARGON2_MEMORY_KIB = _int("HEARTLINK_ARGON2_MEMORY_KIB", 19456)
    ARGON2_TIME_COST = _int("HEARTLINK_ARGON2_TIME_COST", 2)
    ARGON2_PARALLELISM = _int("HEARTLINK_ARGON2_PARALLELISM", 1)
    # Password hashes computed at once per worker (each in its own thread, off the event loop).
    PASSWORD_HASH_CONCURRENCY = _int("HEARTLINK_PASSWORD_HASH_CONCURRENCY", 1)
    # Wrong passwords for one username from one address: this many are free, then each
    # further one doubles the wait before the next try (5 s, 10 s, 20 s ... at most the cap).
    # Right passwords never count, and other addresses are not affected.
    LOGIN_FREE_FAILURES = _int("HEARTLINK_LOGIN_FREE_FAILURES", 5)
    LOGIN_BACKOFF_BASE = _float("HEARTLINK_LOGIN_BACKOFF_BASE", 5)
    LOGIN_BACKOFF_MAX = _float("HEARTLINK_LOGIN_BACKOFF_MAX", 900)
    TOKEN_MAX_AGE = _int("HEARTLINK_TOKEN_MAX_AGE", 30 * 24 * 3600)
    # Sign-up (heartlink/domain/age.py, heartlink/domain/challenges.py): the youngest age allowed,
    # in whole years; and the proof of work a browser solves before it may sign up. A challenge's
    # secret counter is drawn below SIGNUP_POW_COMPLEXITY and each attempt to find it is one PBKDF2
    # of SIGNUP_POW_COST rounds: 5,000 attempts on average, about a second in Chromium on two cores
    # (measured 0.1 to 0.8 s for counters up to 4,000); checking a solution is one HMAC. A challenge
    # may be used once, within SIGNUP_CHALLENGE_SECONDS of being handed out.
    MIN_AGE = _int("HEARTLINK_MIN_AGE", 18)
    SIGNUP_POW_COMPLEXITY = _int("HEARTLINK_SIGNUP_POW_COMPLEXITY", 10000)
    SIGNUP_POW_COST = _int("HEARTLINK_SIGNUP_POW_COST", 500)
    SIGNUP_CHALLENGE_SECONDS = _int("HEARTLINK_SIGNUP_CHALLENGE_SECONDS", 600)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Cookies are Secure on every https request anyway (directly, or through the proxies
    # HEARTLINK_PROXY_COUNT trusts); this forces them Secure on plain http too.
    SESSION_COOKIE_SECURE = os.environ.get("HEARTLINK_SECURE_COOKIES", "0") == "1"
    # Strict-Transport-Security on https responses (0 turns it off).
    HSTS_MAX_AGE = _int("HEARTLINK_HSTS_MAX_AGE", 365 * 24 * 3600)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    WTF_CSRF_TIME_LIMIT = None
    # CSRF is checked in one before_request hook (heartlink/__init__.py) that knows bearer tokens.
    WTF_CSRF_CHECK_DEFAULT = False

    # Uploads (bytes, pixels, milliseconds); over a limit -> 413.
    IMAGE_MAX_BYTES = _int("HEARTLINK_IMAGE_MAX_BYTES", 10 * 1024 * 1024)
    IMAGE_MAX_PIXELS = _int("HEARTLINK_IMAGE_MAX_PIXELS", 40_000_000)
    # Pictures larger than this on their long side are stored scaled down to it.
    IMAGE_MAX_SIDE = _int("HEARTLINK_IMAGE_MAX_SIDE", 4096)
    # Image decodes and media walks at once per worker (each may hold ~2 x 4 bytes a pixel).
    MEDIA_DECODE_CONCURRENCY = _int("HEARTLINK_MEDIA_DECODE_CONCURRENCY", 2)
    VOICE_MAX_BYTES = _int("HEARTLINK_VOICE_MAX_BYTES", 10 * 1024 * 1024)
    VOICE_MAX_MS = _int("HEARTLINK_VOICE_MAX_MS", 5 * 60 * 1000)
    # Seconds of decoding a voice note's waveform may take (in a thread, off the event loop);
    # past it the note is kept without a waveform. A real 5-minute note takes well under one.
    WAVEFORM_MAX_SECONDS = _float("HEARTLINK_WAVEFORM_MAX_SECONDS", 5)
    FILE_MAX_BYTES = _int("HEARTLINK_FILE_MAX_BYTES", 25 * 1024 * 1024)
    # An upload no message refers to is removed by `flask rooms cleanup` after this long.
    ORPHAN_UPLOAD_HOURS = _float("HEARTLINK_ORPHAN_UPLOAD_HOURS", 1)
    # Bytes one person may upload per UPLOAD_BUDGET_HOURS (over it -> 413 too_large).
    UPLOAD_BUDGET_BYTES = _int("HEARTLINK_UPLOAD_BUDGET_BYTES", 500 * 1024 * 1024)
    UPLOAD_BUDGET_HOURS = _float("HEARTLINK_UPLOAD_BUDGET_HOURS", 24)
    # Flask refuses larger request bodies before reading them (multipart overhead included).
    MAX_CONTENT_LENGTH = max(IMAGE_MAX_BYTES, VOICE_MAX_BYTES, FILE_MAX_BYTES) + 64 * 1024
    # Every request body but an upload's (forms, JSON) is at most this: over it -> 413.
    MAX_BODY_BYTES = _int("HEARTLINK_MAX_BODY_BYTES", 64 * 1024)
    # Uploads checked and stored at once per worker, each holding its file in memory meanwhile;
    # the rest wait their turn, their bodies already on disk.
    UPLOADS_AT_ONCE = _int("HEARTLINK_UPLOADS_AT_ONCE", 2)

    # A call that rings this long unanswered becomes "missed".
    CALL_RING_TIMEOUT = _float("HEARTLINK_CALL_RING_TIMEOUT", 30)

    # Rate limits, "N/W" = at most N per W seconds, per person unless noted.
    RATE_MESSAGES = _rate("HEARTLINK_RATE_MESSAGES", "30/10")
    # Characters of text a person may store (messages, edits, captions) per window: 250
    # messages of the longest kind a day, 25 times what a very busy person writes.
    BUDGET_MESSAGE_TEXT = _rate("HEARTLINK_BUDGET_MESSAGE_TEXT", "1000000/86400")
    RATE_TYPING = _rate("HEARTLINK_RATE_TYPING", "30/10")
    RATE_MATCH = _rate("HEARTLINK_RATE_MATCH", "20/60")
    RATE_UPLOADS = _rate("HEARTLINK_RATE_UPLOADS", "30/60")
    RATE_PROFILE = _rate("HEARTLINK_RATE_PROFILE", "30/60")  # PATCH /api/me (each one is announced)
    RATE_SIGNALS = _rate("HEARTLINK_RATE_SIGNALS", "300/10")
    RATE_EVENTS = _rate("HEARTLINK_RATE_EVENTS", "200/10")  # any socket event
    RATE_LOGIN_ADDRESS = _rate("HEARTLINK_RATE_LOGIN_ADDRESS", "50/300")  # per address: sign-ins, tokens, sign-ups
    RATE_SIGNUP_CHALLENGE = _rate("HEARTLINK_RATE_SIGNUP_CHALLENGE", "30/300")  # per address: sign-up challenges
    RATE_REPORTS = _rate("HEARTLINK_RATE_REPORTS", "5/600")
    RATE_BLOCKS = _rate("HEARTLINK_RATE_BLOCKS", "20/60")  # blocks and unblocks
    RATE_SEARCH = _rate("HEARTLINK_RATE_SEARCH", "60/10")  # searches in a link's history (as one types)
    RATE_ACCOUNT = _rate("HEARTLINK_RATE_ACCOUNT", "5/300")  # password changes, sign-out everywhere
    # Reports one person may file per day, and what one report may copy: with the
    # defaults, at most 20 x 64 KiB a day per person.
    REPORTS_PER_DAY = _int("HEARTLINK_REPORTS_PER_DAY", 20)
    REPORT_SNAPSHOT_MESSAGES = _int("HEARTLINK_REPORT_SNAPSHOT_MESSAGES", 20)
    REPORT_SNAPSHOT_BYTES = _int("HEARTLINK_REPORT_SNAPSHOT_BYTES", 64 * 1024)
    # Pictures a report quotes are copied (their thumbnails) as evidence, newest first, up to
    # this many bytes a report.
    REPORT_EVIDENCE_BYTES = _int("HEARTLINK_REPORT_EVIDENCE_BYTES", 4 * 1024 * 1024)
    # A person reported by this many different people within 24 hours is held for review
    # (heartlink/domain/moderation.py says which reports count).
    HOLD_REPORTERS = _int("HEARTLINK_HOLD_REPORTERS", 3)
    # Protections that need no moderator (docs/moderation.md): a file of blocked terms and
    # /regex/ lines, read at start and on SIGHUP (none: nothing is filtered), and how long an
    # account is new (it cannot send links).
    BLOCKED_TERMS = os.environ.get("HEARTLINK_BLOCKED_TERMS") or None
    NEW_ACCOUNT_HOURS = _float("HEARTLINK_NEW_ACCOUNT_HOURS", 24)
    # Appeals sent per address (POST /api/appeals), before the password is checked.
    RATE_APPEALS = _rate("HEARTLINK_RATE_APPEALS", "10/3600")
    # Decisions one moderator may make in the console (reports and appeals alike).
    RATE_MODERATION = _rate("HEARTLINK_RATE_MODERATION", "60/60")
    MAX_SOCKETS_PER_USER = _int("HEARTLINK_MAX_SOCKETS_PER_USER", 10)
    # Connections (HTTP requests in flight, websockets) at once from one address.
    MAX_CONNECTIONS_PER_ADDRESS = _int("HEARTLINK_MAX_CONNECTIONS_PER_ADDRESS", 200)
    # New Engine.IO sessions one address may open ("N/W": N in any W seconds, on average);
    # a page opens one per (re)connect.
    HANDSHAKE_RATE = _rate("HEARTLINK_HANDSHAKE_RATE", "200/10")
    # A request's line and headers must all be in within this many seconds (an idle
    # keep-alive connection is closed after it too).
    REQUEST_HEAD_TIMEOUT = _float("HEARTLINK_REQUEST_HEAD_TIMEOUT", 10)
    # An Engine.IO session that has not completed a Socket.IO CONNECT after this is closed.
    HANDSHAKE_TIMEOUT = _float("HEARTLINK_HANDSHAKE_TIMEOUT", 5)
    # A client that sends nothing for this long is dropped (eventlet's socket_timeout): a
    # request that never finishes, or a websocket that stopped answering pings. Longer
    # than a ping round (a websocket client sends a pong every PING_INTERVAL).
    HTTP_SOCKET_TIMEOUT = _float("HEARTLINK_HTTP_SOCKET_TIMEOUT", PING_INTERVAL + PING_TIMEOUT + 5)
    # A socket whose unsent packets pile up past this (it stopped reading) is closed.
    MAX_QUEUED_PACKETS = _int("HEARTLINK_MAX_QUEUED_PACKETS", 500)
    # ... or this many characters of them (a few large answers weigh more than many small ones).
    MAX_QUEUED_CHARS = _int("HEARTLINK_MAX_QUEUED_CHARS", 4 * 1024 * 1024)

    # Operating it (docs/operations.md): who may read GET /metrics (addresses or CIDRs, or the
    # bearer token), how long messages of ended links and report evidence are kept (0 = forever),
    # exports of one's own data, and how long a deleted account's username stays reserved.
    METRICS_ALLOW = _list("HEARTLINK_METRICS_ALLOW") or ["127.0.0.0/8", "::1"]
    METRICS_TOKEN = os.environ.get("HEARTLINK_METRICS_TOKEN") or None
    RETENTION_DAYS = _float("HEARTLINK_RETENTION_DAYS", 0)
    REPORT_RETENTION_DAYS = _float("HEARTLINK_REPORT_RETENTION_DAYS", 365)
    RATE_EXPORT = _rate("HEARTLINK_RATE_EXPORT", "3/3600")
    USERNAME_RESERVED_DAYS = _float("HEARTLINK_USERNAME_RESERVED_DAYS", 30)

    MESSAGE_PAGE_SIZE = 50
    BABEL_DEFAULT_LOCALE = "en"
    LANGUAGES = LANGUAGES
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # Connections per worker on a server database (PostgreSQL): at most POOL_SIZE kept open
    # plus POOL_OVERFLOW more under load. Workers x (size + overflow) must stay below the
    # server's max_connections (PostgreSQL's default is 100), or sign-ins fail at peaks.
    DATABASE_POOL_SIZE = _int("HEARTLINK_DB_POOL_SIZE", 5)
    DATABASE_POOL_OVERFLOW = _int("HEARTLINK_DB_POOL_OVERFLOW", 10)


class TestConfig(Config):
    """Tests: a temporary SQLite file (set by the fixture), no queue, short timers."""

    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "test-only-" + secrets.token_hex(8)
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    SOCKETIO_MESSAGE_QUEUE = None
    ASYNC_MODE = "threading"
    PRESENCE_GRACE = 0.5
    ARGON2_MEMORY_KIB = 1024
    # Lowered so a test solves a challenge in milliseconds; verification stays on.
    SIGNUP_POW_COMPLEXITY = 20
    # The gradual reveal is off unless a test turns it on (tests/domain/test_matching.py): the
    # other tests look at partners' names and pictures.
    REVEAL_AFTER = 0
