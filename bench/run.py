"""Heart Link's benchmark: the real server, real Socket.IO clients, over the wire only.

    make bench BENCH_ARGS="--pairs 500 --rate 1 --seconds 30 --compare"
    .venv/bin/python bench/run.py --idle
    .venv/bin/python bench/run.py --capacity 2000 --compare
    .venv/bin/python bench/run.py --signin-storm
    .venv/bin/python bench/run.py --workers 2 --pairs 100
    .venv/bin/python bench/run.py --moderation
    .venv/bin/python bench/run.py --matching [--fifo]
    .venv/bin/python bench/run.py --chat-browser [--messages 5000]

It starts `python app.py` as `make run` does (production settings, a random SECRET_KEY, a scratch
SQLite file, `flask db upgrade`, accounts from `flask users bulk-create`), with the rate limits
lifted for the load generator, and drives it from several Node processes (bench/loadgen.js, the
official socket.io-client). With --compare the same workload then runs against two bare relays
kept beside it (bench/relay_py.py, bench/relay.js). --moderation instead seeds the database with a
moderation queue (bench/moderation.py) and times a moderator's console page and decisions over HTTP.
--matching has --people (2,000) ask for a heart link within --spread (10) seconds, with random
interests and languages (--fifo: as before matching controls, with neither), and times each
one's wait for a room. --chat-browser opens a chat of 5,000 messages in headless Chromium and times
how the page draws it (bench/chat_browser.py).
Each run prints one JSON line on stdout; progress and notes go to stderr. docs/performance.md
explains every field.

Only 127.0.0.1 is used; every wait has a deadline; every process started here is stopped at the
end, on error too.
"""
import argparse
import atexit
import http.cookiejar
import json
import os
import queue
import re
import resource
import secrets
import shlex
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PASSWORD = "bench-password-1"
HOST = "127.0.0.1"
# Every limit a load generator would trip; a person of the benchmark sends far more than a
# person would, and hundreds of sign-ins come from one address.
LIFTED_LIMITS = {f"HEARTLINK_RATE_{scope}": "1000000/1" for scope in (
    "MESSAGES", "EVENTS", "TYPING", "TOKEN", "LOGIN_ACCOUNT", "LOGIN_ADDRESS", "MATCH", "SIGNALS", "UPLOADS",
    "PROFILE", "MODERATION")}  # MODERATION: decisions per moderator, many in a row in --moderation
# The per-connection packet bucket (heartlink/worker/inbound.py) drops what a fast sender sends past it.
LIFTED_LIMITS.update(HEARTLINK_PACKET_RATE="1000000", HEARTLINK_PACKET_BURST="1000000")
# Every connection of the benchmark comes from 127.0.0.1 (heartlink/worker/guard.py caps them per address).
LIFTED_LIMITS.update(HEARTLINK_MAX_CONNECTIONS_PER_ADDRESS="1000000", HEARTLINK_HANDSHAKE_RATE="1000000/1")
# A benchmark person writes in minutes what a person writes in days (heartlink/worker/limits.py budgets).
LIFTED_LIMITS.update(HEARTLINK_BUDGET_MESSAGE_TEXT="1000000000/86400")
STORM_SIZE = 20
# The moderation mode: the product owner's measure, and the ways in it times (bench/moderation.py seeds).
CONSOLE_PATH = "/moderation"  # the console's page
CONSOLE_JSON_PATH = "/api/moderation/reports?page=1"  # its first page of open reports, as JSON
RECORD_PATH = "/api/moderation/people/{}"  # one person's record, as JSON
DECISION_PATH = "/api/moderation/decisions"  # JSON {action, note, report_ids, until}, as moderation.decide takes
CONSOLE_TARGET_MS = 300
DECISION_TARGET_MS = 1000
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_children = []


def note(text):
    print(f"[bench] {text}", file=sys.stderr, flush=True)


# --- processes -------------------------------------------------------------------------------

def _spawn(command, log_path=None, **kwargs):
    log = open(log_path, "wb") if log_path else subprocess.DEVNULL
    process = subprocess.Popen(command, stdout=kwargs.pop("stdout", log), stderr=kwargs.pop("stderr", log),
                               **kwargs)
    _children.append(process)
    return process


def _stop_all():
    """Every child this run started: asked to stop, then killed."""
    for process in _children:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + 5
    for process in _children:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    _children.clear()


atexit.register(_stop_all)


def _free_port():
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _wait_listening(port, process, log_path, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            socket.create_connection((HOST, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    tail = Path(log_path).read_text(errors="replace")[-2000:] if log_path else ""
    raise RuntimeError(f"server on port {port} did not start (exit {process.poll()}):\n{tail}")


def _raise_open_files():
    """Every socket is a file: children inherit a lifted soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


class ProcessMeter:
    """CPU and RSS of the server processes, read from /proc, sampled in the background."""

    def __init__(self, pids):
        self.pids = pids
        self.peak_rss_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def rss_kb(self):
        total = 0
        for pid in self.pids:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return total

    def cpu_ticks(self):
        ticks = []
        for pid in self.pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                ticks.append(int(fields[11]) + int(fields[12]))  # utime + stime
            except OSError:
                ticks.append(0)
        return ticks

    def _sample(self):
        while not self._stop.wait(0.5):
            self.peak_rss_kb = max(self.peak_rss_kb, self.rss_kb())

    def stop(self):
        self._stop.set()


def _cpu_pct(before, after, seconds):
    """Per server process, 100 = one core busy the whole time."""
    return [round((b - a) / CLOCK_TICKS / seconds * 100, 1) for a, b in zip(before, after, strict=True)]


# --- the systems under test ------------------------------------------------------------------

class Target:
    """A running system under test: its URLs, its server pids, how to count stored messages."""

    def __init__(self, name, urls, pids, count_messages=None, uses_token=True, traffic=None):
        self.name, self.urls, self.pids = name, urls, pids
        self.count_messages = count_messages
        self.uses_token = uses_token
        self.traffic = traffic  # two workers: what crosses Redis and what PostgreSQL writes, counted


class HeartLink:
    """`python app.py` on a scratch database, as `make run` starts it (one or two workers)."""

    def __init__(self, workdir, args, accounts, prepare=None):
        self.workdir, self.args, self.accounts = workdir, args, accounts
        self.prepare = prepare  # called with this system once the accounts exist, before any worker starts
        self.pg_database = None
        self.channel = None
        self.env = None

    def __enter__(self):
        args = self.args
        env = {key: value for key, value in os.environ.items()
               if not key.startswith("HEARTLINK_") and key not in ("DATABASE_URL", "SOCKETIO_MESSAGE_QUEUE")}
        env.update(LIFTED_LIMITS, HEARTLINK_ENV="production", SECRET_KEY=secrets.token_hex(32), HOST=HOST,
                   FLASK_APP="heartlink", HEARTLINK_UPLOAD_DIR=str(Path(self.workdir) / "uploads"))
        if args.sockets_per_account > 1:
            env["HEARTLINK_MAX_SOCKETS_PER_USER"] = str(args.sockets_per_account + 1)
        if args.capacity and args.capacity + 500 > 10000:
            env["HEARTLINK_MAX_CONNECTIONS"] = str(args.capacity + 500)
        if args.workers > 1:
            self.pg_database = f"hlbench_{secrets.token_hex(4)}"
            _postgres(f"CREATE DATABASE {self.pg_database}")
            env["DATABASE_URL"] = f"{args.postgres}/{self.pg_database}"
            self.channel = f"hlbench-{secrets.token_hex(4)}"
            env["SOCKETIO_MESSAGE_QUEUE"] = args.redis
            env["HEARTLINK_SOCKETIO_CHANNEL"] = self.channel
        else:
            self.sqlite_path = Path(self.workdir) / "heartlink.db"
            env["DATABASE_URL"] = f"sqlite:///{self.sqlite_path}"
        shown = {k: v for k, v in env.items() if k.startswith("HEARTLINK_") and k != "HEARTLINK_UPLOAD_DIR"}
        note("Heart Link with these settings (rate limits lifted for the load generator): "
             + " ".join(f"{k}={v}" for k, v in sorted(shown.items())))
        flask = [sys.executable, "-m", "flask"]
        _run(flask + ["db", "upgrade"], env)
        for prefix, count in self.accounts.items():
            began = time.monotonic()
            _run(flask + ["users", "bulk-create", "--prefix", prefix, "--count", str(count),
                          "--password", PASSWORD], env)
            note(f"flask users bulk-create --prefix {prefix} --count {count}: {time.monotonic() - began:.1f} s")
        self.env = env
        if self.prepare:
            self.prepare(self)
        urls, pids = [], []
        for _worker in range(args.workers):
            port = _free_port()
            log_path = Path(self.workdir) / f"heartlink-{port}.log"
            process = _spawn([sys.executable, "app.py"], log_path, cwd=ROOT, env={**env, "PORT": str(port)})
            _wait_listening(port, process, log_path)
            urls.append(f"http://{HOST}:{port}")
            pids.append(process.pid)
        return Target("heartlink", urls, pids, self._count_messages,
                      traffic=Traffic(args.redis, self.channel, self.pg_database) if self.pg_database else None)

    def helper(self, *argv, timeout=900):
        """bench/moderation.py with the server's settings: its one JSON answer (its log is kept in the workdir)."""
        log_path = Path(self.workdir) / f"moderation-{argv[0]}.log"
        with open(log_path, "ab") as log:
            done = subprocess.run([sys.executable, str(BENCH / "moderation.py"), *argv], cwd=ROOT, env=self.env,
                                  stdout=subprocess.PIPE, stderr=log, timeout=timeout)
        if done.returncode:
            raise RuntimeError(f"bench/moderation.py {argv[0]} failed:\n{log_path.read_text(errors='replace')[-3000:]}")
        return json.loads(done.stdout.decode().strip().splitlines()[-1])

    @property
    def database(self):
        return "postgresql" if self.pg_database else "sqlite"

    def _count_messages(self):
        if self.pg_database:
            return _postgres("SELECT count(*) FROM messages", database=self.pg_database)
        with sqlite3.connect(f"file:{self.sqlite_path}?mode=ro", uri=True, timeout=10) as database:
            return database.execute("SELECT count(*) FROM messages").fetchone()[0]

    def __exit__(self, *_exc):
        _stop_all()
        if self.pg_database:
            _postgres(f"DROP DATABASE IF EXISTS {self.pg_database} WITH (FORCE)")
        if self.channel:
            import redis

            client = redis.Redis.from_url(self.args.redis, socket_timeout=5)
            for key in client.scan_iter(f"{self.channel}*", count=1000):
                client.delete(key)


class Traffic:
    """Two workers: the queue's messages on this run's channel (a subscriber of our own counts them,
    whoever else uses the Redis) and the rows and transactions of this run's PostgreSQL database."""

    def __init__(self, redis_url, channel, database):
        import redis

        self.database = database
        self.published = 0
        self._pubsub = redis.Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)
        self._pubsub.subscribe(**{channel: self._count})
        self._thread = self._pubsub.run_in_thread(sleep_time=0.05, daemon=True)

    def _count(self, _message):
        self.published += 1

    def snapshot(self):
        written = _postgres("SELECT tup_inserted + tup_updated + tup_deleted || ',' || xact_commit "
                            f"FROM pg_stat_database WHERE datname = '{self.database}'")
        rows, commits = map(int, written.split(","))
        return {"published": self.published, "rows": rows, "commits": commits}

    def per_message(self, before, after, messages):
        if not messages:
            return None
        return {"queue_messages": round((after["published"] - before["published"]) / messages, 2),
                "database_rows_written": round((after["rows"] - before["rows"]) / messages, 2),
                "database_transactions": round((after["commits"] - before["commits"]) / messages, 2)}

    def close(self):
        self._thread.stop()


class Relay:
    """One of the two bare peers: bench/relay_py.py or bench/relay.js."""

    def __init__(self, name, workdir):
        self.name, self.workdir = name, workdir

    def __enter__(self):
        port = _free_port()
        log_path = Path(self.workdir) / f"{self.name}-{port}.log"
        if self.name == "relay_py":
            command = [sys.executable, str(BENCH / "relay_py.py"), str(port)]
        else:
            command = [_node(), str(BENCH / "relay.js"), str(port)]
        process = _spawn(command, log_path, cwd=ROOT)
        _wait_listening(port, process, log_path)
        return Target(self.name, [f"http://{HOST}:{port}"], [process.pid], uses_token=False)

    def __exit__(self, *_exc):
        _stop_all()


def _run(command, env):
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    if done.returncode:
        raise RuntimeError(f"{shlex.join(command[1:])} failed:\n{done.stdout[-1000:]}{done.stderr[-2000:]}")


def _postgres(statement, database=None):
    import psycopg2

    url = ARGS.postgres + "/" + (database or "postgres")
    connection = psycopg2.connect(url, connect_timeout=10)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(statement)
            return cursor.fetchone()[0] if cursor.description else None
    finally:
        connection.close()


def _node():
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not installed (the load generator is Node + socket.io-client)")
    return node


# --- the load generator processes --------------------------------------------------------------

class Loadgen:
    """One bench/loadgen.js process, spoken to in JSON lines."""

    def __init__(self, config, workdir, index):
        self.index = index
        path = Path(workdir) / f"loadgen-{index}-{secrets.token_hex(3)}.json"
        path.write_text(json.dumps(config))
        self.process = _spawn([_node(), str(BENCH / "loadgen.js"), str(path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None, cwd=BENCH)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def command(self, cmd, **fields):
        self.process.stdin.write((json.dumps({"cmd": cmd, **fields}) + "\n").encode())
        self.process.stdin.flush()

    def expect(self, kind, deadline):
        while True:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise RuntimeError(f"load generator {self.process.pid}: no {kind!r} before the deadline") from None
            if line is None:
                raise RuntimeError(f"load generator {self.process.pid} exited (code {self.process.wait(5)})")
            message = json.loads(line)
            if message.get("type") == "fatal":
                raise RuntimeError(f"load generator {self.process.pid} failed: {message['error']}")
            if message.get("type") == kind:
                return message
            if message.get("type") == "progress":
                note(f"load generator {self.index}: {message['done']}/{message['of']} set up")


def _all(loadgens, kind, seconds):
    deadline = time.monotonic() + seconds
    return [loadgen.expect(kind, deadline) for loadgen in loadgens]


def _common(args, target):
    return {"password": PASSWORD, "noToken": not target.uses_token, "drainSeconds": args.drain,
            "setupDeadlineMs": int(args.connect_timeout * 1000), "setupConcurrency": args.setup_concurrency}


def _person_url(target, person_index):
    if ARGS.listening_worker:
        return target.urls[0]  # everyone on the first worker; the second only hears the queue
    return target.urls[person_index % len(target.urls)]  # pairs straddle the workers


# --- the runs ----------------------------------------------------------------------------------

def chat_run(args, target, workdir, pairs, rate, storm=False, senders="both"):
    """P pairs chatting at `rate` msg/s each; one JSON-ready dict."""
    procs = max(1, min(args.procs, pairs))
    shares = [[] for _ in range(procs)]
    for index in range(pairs):
        shares[index % procs].append({"code": f"pair{index}", "people": [
            {"username": f"bench{2 * index + slot + 1}", "url": _person_url(target, 2 * index + slot)}
            for slot in (0, 1)]})
    configs = [{**_common(args, target), "role": "chat", "pairs": share, "rate": rate, "seconds": args.seconds,
                "senders": senders, "receipts": args.receipts and target.name == "heartlink"} for share in shares]
    if storm:
        configs.append({**_common(args, target), "role": "storm", "seconds": args.seconds,
                        "accounts": [{"username": f"storm{i + 1}", "url": target.urls[0]} for i in range(STORM_SIZE)]})
    meter = ProcessMeter(target.pids)
    try:
        rss_before = meter.rss_kb()
        loadgens = [Loadgen(config, workdir, index) for index, config in enumerate(configs)]
        _all(loadgens, "hello", 30)
        began = time.monotonic()
        for loadgen in loadgens:
            loadgen.command("connect")
        ready = _all(loadgens, "ready", args.connect_timeout + 30)
        connect_s = time.monotonic() - began
        connections = sum(r["connections"] for r in ready)
        setup_errors = [e for r in ready for e in r.get("setup_errors", [])]
        if setup_errors:
            note(f"{sum(r['setup_error_count'] for r in ready)} pairs failed to set up, e.g. {setup_errors[0]}")
        note(f"{target.name}: {connections} connections ready in {connect_s:.1f} s")
        time.sleep(1)  # let the last joins settle before reading memory
        rss_after = meter.rss_kb()
        count_before = None
        acks_before = _scrape_acks(target) if target.name == "heartlink" else None
        t0 = time.time() + 1
        for loadgen in loadgens:
            loadgen.command("go", t0=t0 * 1000)
        time.sleep(max(0, t0 - time.time()))
        cpu_before = meter.cpu_ticks()
        load = os.getloadavg()[0]
        count_before = target.count_messages() if target.count_messages else None
        traffic_before = target.traffic.snapshot() if target.traffic else None
        time.sleep(max(0, t0 + args.seconds - time.time()))
        cpu_after = meter.cpu_ticks()
        count_after = target.count_messages() if target.count_messages else None
        time.sleep(1.5 if target.traffic else 0)  # PostgreSQL's statistics are flushed about once a second
        traffic_after = target.traffic.snapshot() if target.traffic else None
        results = _all(loadgens, "result", args.drain + args.seconds + 60)
        acks_after = _scrape_acks(target) if acks_before is not None else None
    finally:
        meter.stop()
    chat = [r for r in results if r["role"] == "chat"]
    total = lambda field: sum(r[field] for r in chat)  # noqa: E731
    error_codes = {}
    for result in chat:
        for code, count in result["error_codes"].items():
            error_codes[code] = error_codes.get(code, 0) + count
    disconnect_reasons = _merge_counts(r["disconnects"] for r in chat)
    disconnects = sum(disconnect_reasons.values())
    cpu = _cpu_pct(cpu_before, cpu_after, args.seconds)
    line = {
        "server": target.name, "mode": "signin-storm" if storm else ("idle" if senders == "first" else "chat"),
        "workers": len(target.urls), "receipts": bool(args.receipts and target.name == "heartlink"),
        "pairs": total("pairs"), "connections": total("connections"), "rate": rate,
        "seconds": args.seconds, "sent": total("sent"), "acked": total("acked"), "delivered": total("delivered"),
        "lost": total("lost"), "undelivered_partner_gone": total("undelivered_partner_gone"),
        "duplicated": total("duplicated"), "out_of_order": total("out_of_order"),
        "unacked": total("unacked"),
        "errors": sum(error_codes.values()) + sum(r["setup_error_count"] for r in ready) + disconnects,
        "error_codes": error_codes, "setup_errors": sum(r["setup_error_count"] for r in ready),
        "disconnects": disconnects, "disconnect_reasons": disconnect_reasons,
        "ack_ms": _percentiles([x for r in chat for x in r["ack_ms"]]),
        "delivery_ms": _percentiles([x for r in chat for x in r["delivery_ms"]]),
        "persisted_per_s": None if count_before is None else round((count_after - count_before) / args.seconds, 1),
        "delivered_per_s": round(total("delivered_in_phase") / args.seconds, 1),
        "server_cpu_pct": round(sum(cpu), 1), "server_cpu_pct_per_worker": cpu,
        "rss_mb": round(rss_after / 1024, 1), "rss_before_mb": round(rss_before / 1024, 1),
        "kb_per_connection": round((rss_after - rss_before) / connections, 1) if connections else None,
        "connect_s": round(connect_s, 2),
        "loadgen_saturated": any(r["loadgen"]["saturated"] for r in results),
        "loadgen": [r["loadgen"] for r in results],
        "machine_load_1m": round(load, 2), "cores": os.cpu_count(),
    }
    if traffic_before is not None:
        line["per_message"] = target.traffic.per_message(traffic_before, traffic_after, count_after - count_before)
        target.traffic.close()
    if acks_after is not None:
        line["server_ack_ms"] = server_ack_view(acks_before, acks_after, line["ack_ms"], line["acked"])
        note(f"server's heartlink_message_ack_seconds: {line['server_ack_ms']}")
    if storm:
        stormed = next(r for r in results if r["role"] == "storm")
        line["signin_storm"] = {"concurrent": STORM_SIZE, "rounds": stormed["rounds"], "signins": stormed["signins"],
                                "errors": stormed["signin_errors"], "signin_ms": _percentiles(stormed["signin_ms"])}
    return line


def capacity_run(args, target, workdir):
    """N idle sockets (authenticated for Heart Link), held for --seconds."""
    count, per_account = args.capacity, args.sockets_per_account
    procs = max(1, min(args.procs, count))
    shares = [[] for _ in range(procs)]
    for index in range(count):
        account = index // per_account  # an account's sockets stay in one process, which signs in once
        shares[account % procs].append({"username": f"bench{account + 1}", "url": _person_url(target, index)})
    meter = ProcessMeter(target.pids)
    try:
        rss_before = meter.rss_kb()
        loadgens = [Loadgen({**_common(args, target), "role": "capacity", "accounts": share, "seconds": args.seconds},
                            workdir, index) for index, share in enumerate(shares)]
        _all(loadgens, "hello", 30)
        cpu_before = meter.cpu_ticks()
        load = os.getloadavg()[0]
        began = time.monotonic()
        for loadgen in loadgens:
            loadgen.command("connect")
        ready = _all(loadgens, "ready", args.connect_timeout + 30)
        connect_s = time.monotonic() - began
        cpu_after = meter.cpu_ticks()
        connections = sum(r["connections"] for r in ready)
        note(f"{target.name}: {connections} idle connections in {connect_s:.1f} s")
        time.sleep(2)
        rss_after = meter.rss_kb()
        for loadgen in loadgens:
            loadgen.command("go", t0=time.time() * 1000)
        results = _all(loadgens, "result", args.seconds + 60)
    finally:
        meter.stop()
    setup_errors = [e for r in ready for e in r.get("setup_errors", [])]
    if setup_errors:
        note(f"{len(setup_errors)}+ connections failed, e.g. {setup_errors[0]}")
    return {
        "server": target.name, "mode": "capacity", "workers": len(target.urls), "connections_asked": count,
        "connections": connections, "still_connected_after_s": args.seconds,
        "still_connected": sum(r["still_connected"] for r in results),
        "disconnects": _merge_counts(r["disconnects"] for r in results),
        "errors": sum(r["setup_error_count"] for r in ready), "connect_s": round(connect_s, 2),
        "token_s_sum": round(sum(r.get("token_ms_sum", 0) for r in ready) / 1000, 1),
        "server_cpu_pct_connecting": round(sum(_cpu_pct(cpu_before, cpu_after, connect_s)), 1),
        "rss_mb": round(rss_after / 1024, 1), "rss_before_mb": round(rss_before / 1024, 1),
        "kb_per_connection": round((rss_after - rss_before) / connections, 1) if connections else None,
        "loadgen_saturated": any(r["loadgen"]["saturated"] for r in results),
        "loadgen": [r["loadgen"] for r in results],
        "machine_load_1m": round(load, 2), "cores": os.cpu_count(),
    }


# --- matching -------------------------------------------------------------------------------------
# What the matching mode's people look for: a few interests each from a pool where most of them
# find someone (and some nobody, who meet anyone after HEARTLINK_INTEREST_WAIT), in one or two of
# three languages, mostly English.
MATCH_INTERESTS = ["hiking", "jazz", "chess", "films", "baking", "running", "poetry", "anime", "opera", "cats",
                   "travel", "coffee", "gaming", "books", "yoga", "football", "photography", "cooking", "rock",
                   "piano", "🍜", "🎸", "climbing", "startups", "k-pop", "tea", "cycling", "history", "art", "dogs"]
MATCH_LANGUAGES = [["en"]] * 5 + [["zh"]] * 2 + [["en", "zh"]] * 2 + [["ja", "en"]]


def _match_asks(args):
    """Each person's match:start payload and when they send it (ms after the start), seeded."""
    import random

    chance = random.Random(args.seed)
    asks = []
    for index in range(args.people):
        ask = {} if args.fifo else {"interests": chance.sample(MATCH_INTERESTS, chance.randint(0, 5)),
                                    "languages": chance.choice(MATCH_LANGUAGES)}
        asks.append((ask, round(index * args.spread * 1000 / args.people)))
    return asks


def matching_run(args, target, workdir):
    """--people asking within --spread s: each one's wait for a room, pairs per second, server CPU per pair."""
    procs = max(1, min(args.procs, args.people))
    shares = [[] for _ in range(procs)]
    for index, (ask, at) in enumerate(_match_asks(args)):
        shares[index % procs].append({"username": f"bench{index + 1}", "url": _person_url(target, index),
                                      "ask": ask, "at": at})
    seconds = args.spread + 10 + args.drain  # the interest wait (10 s) and a drain after the last ask
    meter = ProcessMeter(target.pids)
    try:
        loadgens = [Loadgen({**_common(args, target), "role": "matching", "accounts": share, "seconds": seconds},
                            workdir, index) for index, share in enumerate(shares)]
        _all(loadgens, "hello", 30)
        began = time.monotonic()
        for loadgen in loadgens:
            loadgen.command("connect")
        ready = _all(loadgens, "ready", args.connect_timeout + 30)
        note(f"{sum(r['connections'] for r in ready)} people connected in {time.monotonic() - began:.1f} s")
        time.sleep(2)
        t0 = time.time() + 1
        for loadgen in loadgens:
            loadgen.command("go", t0=t0 * 1000)
        time.sleep(max(0, t0 - time.time()))
        cpu_before = meter.cpu_ticks()
        load = os.getloadavg()[0]
        results = _all(loadgens, "result", seconds + 60)
        cpu_after = meter.cpu_ticks()
        phase_s = time.time() - t0
    finally:
        meter.stop()
    rooms = set().union(*(set(r["rooms"]) for r in results))
    first = min((r["first_ask"] for r in results if r["first_ask"]), default=None)
    last = max((r["last_found"] for r in results if r["last_found"]), default=None)
    pairing_s = (last - first) / 1000 if first and last else None
    cpu_s = sum(_cpu_pct(cpu_before, cpu_after, phase_s)) / 100 * phase_s
    return {
        "server": target.name, "mode": "matching-fifo" if args.fifo else "matching", "workers": len(target.urls),
        "database": "postgresql" if len(target.urls) > 1 else "sqlite", "people": args.people, "spread_s": args.spread,
        "connections": sum(r["connections"] for r in ready), "found": sum(r["found"] for r in results),
        "pairs": len(rooms), "errors": _merge_counts(r["error_codes"] for r in results),
        "disconnects": _merge_counts(r["disconnects"] for r in results),
        "wait_ms": {**_percentiles([x for r in results for x in r["wait_ms"]]),
                    "median": (statistics.median([x for r in results for x in r["wait_ms"]])
                               if any(r["wait_ms"] for r in results) else None)},
        "pairing_s": round(pairing_s, 2) if pairing_s else None,
        "pairs_per_s": round(len(rooms) / pairing_s, 1) if pairing_s else None,
        "server_cpu_s": round(cpu_s, 2),
        "server_cpu_ms_per_pair": round(cpu_s * 1000 / len(rooms), 2) if rooms else None,
        "loadgen_saturated": any(r["loadgen"]["saturated"] for r in results),
        "loadgen": [r["loadgen"] for r in results], "machine_load_1m": round(load, 2), "cores": os.cpu_count(),
    }


# --- the moderation queue ------------------------------------------------------------------------

class Moderator:
    """A moderator's browser, over HTTP: signed in through the sign-in form, a session cookie, the
    page's CSRF token on writes. Requests go to the workers in turn. Each request is timed from
    the moment it is sent to its last byte read."""

    def __init__(self, urls):
        self.urls, self._turn = urls, 0
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.csrf = None

    def request(self, path, data=None, headers=None):
        """(status, body, ms, final url)."""
        url = self.urls[self._turn % len(self.urls)] + path
        self._turn += 1
        began = time.perf_counter()
        try:
            with self.opener.open(urllib.request.Request(url, data=data, headers=headers or {}), timeout=120) as got:
                body, status, final = got.read(), got.status, got.geturl()
        except urllib.error.HTTPError as error:
            body, status, final = error.read(), error.code, url
        return status, body, (time.perf_counter() - began) * 1000, final

    def sign_in(self, username, password):
        status, page, _ms, _url = self.request("/login")
        token = _search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        form = urllib.parse.urlencode({"username": username, "password": password, "csrf_token": token}).encode()
        status, page, _ms, final = self.request("/login", form, {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 200 or urllib.parse.urlsplit(final).path == "/login":
            raise RuntimeError(f"{username} could not sign in (status {status}, at {final})")
        self.csrf = _search(r'<meta name="csrf-token" content="([^"]+)"', page)

    def get(self, path):
        return self.request(path, headers={"Accept": "text/html,application/json"})

    def post_json(self, path, body):
        return self.request(path, json.dumps(body).encode(), {"Content-Type": "application/json",
                                                              "Accept": "application/json",
                                                              "X-CSRFToken": self.csrf})


def _search(pattern, page):
    found = re.search(pattern, page.decode(errors="replace"))
    if found is None:
        raise RuntimeError(f"not in the page: {pattern}")
    return found.group(1)


def seed_moderation(args):
    """The prepare step of the moderation mode: the queue, before the server starts."""
    def prepare(system):
        began = time.monotonic()
        system.seeded = system.helper(
            "seed", "--reports", str(args.reports), "--messages", str(args.messages), "--subjects",
            str(args.decisions), "--per-subject", str(args.decision_size), "--password", PASSWORD)
        system.seeded["seed_s"] = round(time.monotonic() - began, 1)
        counts = {key: value for key, value in system.seeded.items() if isinstance(value, int)}
        note(f"seeded in {system.seeded['seed_s']} s: {counts}")
    return prepare


def _timed(samples):
    return {"samples": len(samples), **_percentiles(samples, (50, 95))}


def _read_console(args, moderator, system):
    """The console's first page, read --repeat times after one first (cold) read reported apart.
    Over HTTP once GET CONSOLE_PATH answers 200: the page, then its first page of reports as JSON
    (CONSOLE_JSON_PATH) when that answers 200 too, one after the other as a browser asks for them;
    and, apart, the records of the people reported on it (RECORD_PATH) when that answers, one
    request per person. Otherwise moderation.open_reports in a process of its own, and that plus
    moderation.person_records of the page's people."""
    status, _body, _ms, _url = moderator.get(CONSOLE_PATH)
    if status != 200:
        note(f"GET {CONSOLE_PATH} answered {status}: timing moderation.open_reports(page=1) in a process of its own")
        read = system.helper("console", "--repeat", str(args.repeat))
        return {
            "timed": f"moderation.open_reports(page=1) in a separate Python process on the server's database, not "
                     f"over HTTP: GET {CONSOLE_PATH} answered {status}",
            "via": "in-process", "status": status, "first_ms": read["first"]["open_reports_ms"],
            "ms": _timed(read["open_reports_ms"]),
            "with_records": {
                "timed": f"the same, plus moderation.person_records of the {read['people_on_page']} people reported "
                         f"on the page and the JSON of it all ({read['json_bytes']} bytes)",
                "first_ms": read["first"]["with_records_ms"], "ms": _timed(read["with_records_ms"])},
            "reports_on_page": read["reports_on_page"], "people_on_page": read["people_on_page"],
            "total": read["total"]}

    def page():
        """(ms for the page and its reports, bytes, the page's people, whether the JSON answered)."""
        answered, body, ms, _url = moderator.get(CONSOLE_PATH)
        if answered != 200:
            raise RuntimeError(f"GET {CONSOLE_PATH} answered {answered} after a first 200")
        answered, reports, more_ms, _url = moderator.get(CONSOLE_JSON_PATH)
        if answered != 200:
            return ms, len(body), [], False
        people = list(dict.fromkeys(filed["reported"]["id"] for filed in json.loads(reports)["reports"]))
        return ms + more_ms, len(body) + len(reports), people, True

    first_ms, size, people, with_json = page()
    samples = [page()[0] for _ in range(args.repeat)]
    console = {"timed": (f"GET {CONSOLE_PATH} then GET {CONSOLE_JSON_PATH}, over HTTP, as a signed-in moderator"
                         if with_json else f"GET {CONSOLE_PATH} over HTTP, as a signed-in moderator (GET "
                                           f"{CONSOLE_JSON_PATH} did not answer 200)"),
               "via": "http", "status": 200, "bytes": size, "first_ms": round(first_ms, 2), "ms": _timed(samples),
               "people_on_page": len(people)}
    if people and moderator.get(RECORD_PATH.format(people[0]))[0] == 200:
        rounds = [sum(moderator.get(RECORD_PATH.format(person))[2] for person in people)
                  for _ in range(args.repeat)]
        console["records"] = {"timed": f"GET {RECORD_PATH.format('<id>')} for each of the {len(people)} people "
                                       f"reported on the page, one after another", "ms": _timed(rounds)}
    return console


def moderation_run(args, target, system):
    """A moderator opens the console's first page --repeat times (held people's reports first: the
    ones the decisions are about), decides --decisions sets of --decision-size reports, each about
    one person (suspend, 7 days), one at a time, then opens the first page again (now the queue's
    oldest reports, about many different people)."""
    seeded = system.seeded
    moderator = Moderator(target.urls)
    moderator.sign_in(seeded["moderator"], PASSWORD)
    load = os.getloadavg()[0]
    console = _read_console(args, moderator, system)

    sets = [subject["report_ids"][:args.decision_size] for subject in seeded["subjects"][:args.decisions]]
    until = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    body = {"action": "suspend", "note": "Insults and threats in many links, reported by many people.",
            "until": until}
    status, answer, ms, _url = moderator.post_json(DECISION_PATH, {**body, "report_ids": sets[0]})
    if 200 <= status < 300:
        samples = [ms]
        for report_ids in sets[1:]:
            answered, answer, ms, _url = moderator.post_json(DECISION_PATH, {**body, "report_ids": report_ids})
            if not 200 <= answered < 300:
                raise RuntimeError(f"POST {DECISION_PATH} answered {answered}: {answer[:500]!r}")
            samples.append(ms)
        decision = {"timed": f"POST {DECISION_PATH} over HTTP (suspend, 7 days), as the same moderator", "via": "http",
                    "status": status}
    else:
        note(f"POST {DECISION_PATH} answered {status}: timing moderation.decide in a process of its own")
        sets_path = Path(system.workdir) / "decision-sets.json"
        sets_path.write_text(json.dumps(sets))
        decided = system.helper("decide", "--moderator", seeded["moderator"], "--sets", str(sets_path))
        samples = decided["ms"]
        decision = {"timed": f"moderation.decide('suspend', ..., report_ids=...) from the call to its commit, in a "
                             f"separate Python process on the server's database, not over HTTP (nothing announced): "
                             f"POST {DECISION_PATH} answered {status}", "via": "in-process", "status": status,
                    "answer": answer[:300].decode(errors="replace")}
    after = system.helper("state", "--subjects", ",".join(str(subject["id"]) for subject in seeded["subjects"]))
    decided = [subject["id"] for subject in seeded["subjects"][:len(sets)]]
    console_after = _read_console(args, moderator, system)
    decision.update(action="suspend", reports_each=args.decision_size, decisions=len(sets), ms=_timed(samples),
                    committed=sum(after["standing"].get(str(person)) == "suspended" for person in decided),
                    reports_actioned=after["reports"].get("actioned", 0))
    return {
        "server": target.name, "mode": "moderation", "workers": len(target.urls), "database": system.database,
        "seeded": {key: value for key, value in seeded.items() if key not in ("subjects", "moderator")},
        "console": console, "decision": decision, "after": after, "console_after_decisions": console_after,
        "targets_ms": {"console": CONSOLE_TARGET_MS, "decision": DECISION_TARGET_MS},
        "met": {"console_p95": max(read["ms"]["p95"] for read in (console, console_after)) < CONSOLE_TARGET_MS,
                "decision_max": decision["ms"]["max"] < DECISION_TARGET_MS},
        "machine_load_1m": round(load, 2), "cores": os.cpu_count(),
    }


def _merge_counts(counts):
    merged = {}
    for count in counts:
        for key, value in count.items():
            merged[key] = merged.get(key, 0) + value
    return merged


# --- the server's own figure: heartlink_message_ack_seconds on each worker's /metrics ---------

def _scrape_acks(target):
    """Every worker's heartlink_message_ack_seconds buckets, summed: {upper bound (s): count}."""
    from prometheus_client.parser import text_string_to_metric_families

    buckets = {}
    for url in target.urls:
        with urllib.request.urlopen(url + "/metrics", timeout=10) as answer:
            text = answer.read().decode()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "heartlink_message_ack_seconds_bucket":
                    bound = float(sample.labels["le"])
                    buckets[bound] = buckets.get(bound, 0) + sample.value
    return buckets


def _bucket_quantile(q, before, after):
    """The q-quantile of the acks between two scrapes, as Prometheus' histogram_quantile() reads it
    (linear within a bucket): (estimate ms, bucket's lower ms, bucket's upper ms), or None."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0) for b in bounds]  # cumulative
    total = counts[-1] if counts else 0
    if not total:
        return None
    rank, lower, below = q * total, 0.0, 0
    for bound, cumulative in zip(bounds, counts, strict=True):
        if cumulative >= rank:
            if bound == float("inf"):
                return lower * 1000, lower * 1000, None
            share = (rank - below) / (cumulative - below) if cumulative > below else 1
            return (lower + (bound - lower) * share) * 1000, lower * 1000, bound * 1000
        lower, below = bound, cumulative
    return None


def server_ack_view(before, after, client_ack_ms, acked):
    """What the workers' histogram says of the acks the clients timed, and whether the two agree:
    the server counted as many stored sends, and each client percentile lies in the server's bucket
    for it, or above it by at most 5 ms + 10 % of the bucket's bound (the client's figure adds the
    network and its own loop; a bucket only bounds the server's)."""
    count = after.get(float("inf"), 0) - before.get(float("inf"), 0)
    view = {"count": int(count), "count_matches": int(count) == acked}
    agrees = view["count_matches"]
    for q in (50, 99):
        found = _bucket_quantile(q / 100, before, after)
        client = client_ack_ms.get(f"p{q}")
        if found is None or client is None:
            view[f"p{q}"] = None
            agrees = False
            continue
        estimate, lower, upper = found
        view[f"p{q}"] = {"estimate_ms": round(estimate, 2), "bucket_ms": [lower, upper]}
        agrees = agrees and lower <= client + 0.5 and (upper is None or client <= upper * 1.1 + 5)
    view["agrees_with_clients"] = agrees
    return view


def _percentiles(samples, quantiles=(50, 90, 99)):
    if not samples:
        return {**{f"p{q}": None for q in quantiles}, "max": None}
    ordered = sorted(samples)

    def rank(q):  # nearest rank
        return round(ordered[max(0, min(len(ordered) - 1, int(-(-q * len(ordered) // 100)) - 1))], 2)

    return {**{f"p{q}": rank(q) for q in quantiles}, "max": round(ordered[-1], 2)}


def _median_line(lines):
    """Field by field, the median of several runs (numbers only; the rest from the first run)."""
    merged = {}
    for key, value in lines[0].items():
        values = [line.get(key) for line in lines]
        if isinstance(value, bool):
            merged[key] = any(values)
        elif isinstance(value, (int, float)) and all(isinstance(v, (int, float)) for v in values):
            merged[key] = statistics.median(values)
        elif isinstance(value, dict) and key.endswith("_ms") and all(isinstance(v, dict) for v in values):
            merged[key] = {k: (statistics.median([v[k] for v in values]) if all(v[k] is not None for v in values)
                               else None) for k in value}
        else:
            merged[key] = value
    merged["median_of"] = len(lines)
    return merged


def _ratio(a, b):
    return round(a / b, 3) if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else None


def compare_line(lines, command):
    """Heart Link's figures as ratios of each peer's (throughput > 1 and latency < 1 favour Heart Link)."""
    ours = lines["heartlink"]
    ratios = {}
    for peer in ("relay_py", "relay_js"):
        theirs = lines.get(peer)
        if theirs is None:
            continue
        if ours.get("mode") == "capacity":
            ratios[peer] = {"kb_per_connection": _ratio(ours["kb_per_connection"], theirs["kb_per_connection"]),
                            "connect_s": _ratio(ours["connect_s"], theirs["connect_s"])}
        else:
            ratios[peer] = {"throughput": _ratio(ours["delivered_per_s"], theirs["delivered_per_s"]),
                            **{f"{kind}_{q}": _ratio(ours[f"{kind}_ms"][q], theirs[f"{kind}_ms"][q])
                               for kind in ("ack", "delivery") for q in ("p50", "p99")},
                            "kb_per_connection": _ratio(ours["kb_per_connection"], theirs["kb_per_connection"])}
    return {"compare": "heartlink / peer", "ratios": ratios, "command": command}


# --- main ----------------------------------------------------------------------------------------

def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=None, help="pairs chatting (default 100; 1 for --idle)")
    parser.add_argument("--rate", type=float, default=None,
                        help="messages per second per person (default 1; 20 for --idle, 10 for --signin-storm)")
    parser.add_argument("--seconds", type=float, default=None, help="length of the send phase (default 10)")
    parser.add_argument("--drain", type=float, default=10, help="after the send phase, wait up to this for deliveries")
    parser.add_argument("--procs", type=int, default=2, help="load generator processes")
    parser.add_argument("--runs", type=int, default=1, help="repeat; with more than one, also print the median")
    parser.add_argument("--compare", action="store_true", help="also run the two bare relays, same workload")
    parser.add_argument("--capacity", type=int, default=0, metavar="N", help="N idle authenticated connections")
    parser.add_argument("--sockets-per-account", type=int, default=1,
                        help="capacity mode: sockets sharing one account's token (default 1, one socket each)")
    parser.add_argument("--signin-storm", action="store_true",
                        help=f"{STORM_SIZE} concurrent sign-ins, repeatedly, while one pair chats")
    parser.add_argument("--idle", action="store_true", help="one pair, one message in flight: the idle round trip")
    parser.add_argument("--workers", type=int, default=1, choices=(1, 2),
                        help="2: two workers on PostgreSQL + Redis, pairs straddling them")
    parser.add_argument("--receipts", action="store_true",
                        help="the partner's client sends message:delivered and message:read for each message, "
                             "as the page does (Heart Link only)")
    parser.add_argument("--listening-worker", action="store_true",
                        help="with --workers 2: every pair on the first worker, so the second's CPU is what "
                             "the queue's traffic for sockets it does not hold costs it")
    parser.add_argument("--moderation", action="store_true",
                        help="a moderation queue: the console's first page and decisions on reports, timed")
    parser.add_argument("--reports", type=int, default=10_000, help="moderation: open reports, one link each")
    parser.add_argument("--messages", type=int, default=100_000, help="moderation: messages in those links")
    parser.add_argument("--accounts", type=int, default=2_000, help="moderation: accounts reporting and reported")
    parser.add_argument("--repeat", type=int, default=20, help="moderation: times the console's page is read")
    parser.add_argument("--decisions", type=int, default=10, help="moderation: decisions timed, one person each")
    parser.add_argument("--decision-size", type=int, default=50, help="moderation: reports in each decision")
    parser.add_argument("--matching", action="store_true",
                        help="--people ask for a heart link within --spread s, with interests and languages")
    parser.add_argument("--people", type=int, default=2_000, help="matching: people asking")
    parser.add_argument("--spread", type=float, default=10, help="matching: seconds over which they ask")
    parser.add_argument("--fifo", action="store_true", help="matching: ask with no interests or languages")
    parser.add_argument("--seed", type=int, default=20, help="matching: seed of the interests and languages")
    parser.add_argument("--connect-timeout", type=float, default=600, help="deadline for setting everyone up")
    parser.add_argument("--setup-concurrency", type=int, default=4,
                        help="setups in flight per load generator (default 4: today's server verifies each "
                             "password on its event loop, so N sign-ins queued at once freeze it N times as long, "
                             "and idle sockets time out)")
    parser.add_argument("--targets", help="comma-separated subset of heartlink,relay_py,relay_js to run")
    parser.add_argument("--logs", metavar="DIR", help="keep the servers' logs in DIR")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args(argv)
    modes = sum(map(bool, (args.capacity, args.signin_storm, args.idle, args.moderation, args.matching)))
    if modes > 1:
        parser.error("choose one of --capacity, --signin-storm, --idle, --moderation, --matching")
    if args.matching and (args.compare or args.targets):
        parser.error("--matching measures Heart Link alone (the relays do not pair anyone)")
    if args.moderation and (args.compare or args.runs > 1 or args.targets):
        parser.error("--moderation measures Heart Link alone, once per run (--repeat and --decisions repeat inside)")
    if args.moderation and not (1 <= args.decisions and 1 <= args.decision_size
                                and args.decisions * args.decision_size <= args.reports <= args.messages
                                and args.accounts >= args.decisions * (args.decision_size + 1) + 2
                                and args.repeat >= 1):
        parser.error("--moderation needs --decisions × --decision-size ≤ --reports ≤ --messages, "
                     "--accounts ≥ --decisions × (--decision-size + 1) + 2, and --repeat ≥ 1")
    if args.workers > 1 and args.compare:
        parser.error("--compare runs one worker against the one-process relays; drop --workers")
    if args.signin_storm and args.compare:
        parser.error("--signin-storm measures Heart Link's sign-in; it has no --compare")
    for host in (args.postgres, args.redis):
        if "127.0.0.1" not in host and "localhost" not in host:
            parser.error("the benchmark talks to 127.0.0.1 only")
    args.pairs = args.pairs or (1 if (args.idle or args.signin_storm) else 100)
    args.rate = args.rate or (20 if args.idle else 10 if args.signin_storm else 1)
    args.seconds = args.seconds or (5 if args.capacity else 10)
    return args


def one_run(args, name, workdir):
    if args.moderation:
        system = HeartLink(workdir, args, {"bench": args.accounts}, prepare=seed_moderation(args))
        with system as target:
            return moderation_run(args, target, system)
    if args.matching:
        with HeartLink(workdir, args, {"bench": args.people}) as target:
            return matching_run(args, target, workdir)
    accounts = {"bench": -(-args.capacity // args.sockets_per_account) if args.capacity else 2 * args.pairs}
    if args.signin_storm:
        accounts["storm"] = STORM_SIZE
    system = HeartLink(workdir, args, accounts) if name == "heartlink" else Relay(name, workdir)
    with system as target:
        if args.capacity:
            return capacity_run(args, target, workdir)
        if args.signin_storm:
            return chat_run(args, target, workdir, 1, args.rate, storm=True)
        if args.idle:
            return chat_run(args, target, workdir, 1, args.rate, senders="first")
        return chat_run(args, target, workdir, args.pairs, args.rate)


def _keep_logs(args, workdir, label):
    if args.logs:
        Path(args.logs).mkdir(parents=True, exist_ok=True)
        for log in Path(workdir).glob("*.log"):
            shutil.copy(log, Path(args.logs) / f"{label}-{log.name}")


def main(argv=None):
    global ARGS
    argv = argv if argv is not None else sys.argv[1:]
    if "--chat-browser" in argv:  # a long chat in headless Chromium: bench/chat_browser.py
        sys.path.insert(0, str(BENCH))
        import chat_browser
        return chat_browser.main(argv)
    ARGS = args = parse_args(argv)
    command = "bench/run.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    limit = _raise_open_files()
    note(f"open files limit for the server and load generators: {limit}")
    names = (args.targets.split(",") if args.targets
             else ["heartlink"] + (["relay_py", "relay_js"] if args.compare else []))
    runs = {name: [] for name in names}
    for _signal in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(_signal, lambda *_: sys.exit(1))
    try:
        for number in range(args.runs):
            for name in names:
                with tempfile.TemporaryDirectory(prefix="hlbench-") as workdir:
                    note(f"run {number + 1}/{args.runs}: {name}")
                    try:
                        line = {**one_run(args, name, workdir), "run": number + 1, "command": command}
                    finally:
                        _keep_logs(args, workdir, f"run{number + 1}-{name}")
                    runs[name].append(line)
                    print(json.dumps(line), flush=True)
                    if line.get("loadgen_saturated"):
                        note(f"{name}: the LOAD GENERATOR saturated (CPU or event-loop lag); these figures "
                             "describe the client side, not the server: add --procs or lower the load")
        finals = {name: (_median_line(lines) if len(lines) > 1 else lines[0]) for name, lines in runs.items()}
        if args.runs > 1:
            for line in finals.values():
                print(json.dumps(line), flush=True)
        if "heartlink" in finals and len(finals) > 1:
            print(json.dumps(compare_line(finals, command)), flush=True)
    finally:
        _stop_all()


if __name__ == "__main__":
    main()
