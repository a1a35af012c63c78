"""Benchmark of the real workload: pairs of people matched over real websockets,
chatting; reports send->ack and send->partner latency and throughput.

    .venv/bin/python bench/chat_bench.py --pairs 20 --messages 50

Starts its own `python app.py` on a free port over a fresh SQLite database (or
the DATABASE_URL you export), sends only to 127.0.0.1, and stops by itself.
"""
import argparse
import multiprocessing
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import requests  # noqa: E402

from support import EventClient, free_port  # noqa: E402

PASSWORD = "bench-password-1"


def _start_server(workdir):
    port = free_port()
    env = {**os.environ, "HEARTLINK_ENV": "production", "SECRET_KEY": secrets.token_hex(16),
           "HEARTLINK_RATE_MESSAGES": "100000/10", "HEARTLINK_RATE_EVENTS": "100000/10",
           "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{workdir}/bench.db"),
           "PORT": str(port), "HOST": "127.0.0.1", "HEARTLINK_ARGON2_MEMORY_KIB": "1024",
           "FLASK_APP": "heartlink"}
    flask = [sys.executable, "-m", "flask"]
    subprocess.run(flask + ["db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run(flask + ["users", "bulk-create", "--prefix", "bench", "--count", "2000",
                            "--password", PASSWORD], cwd=ROOT, env=env, check=True, capture_output=True)
    server = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            requests.get(url + "/login", timeout=1)
            return server, url
        except requests.ConnectionError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("server did not start")


def _client(url, name):
    token = requests.post(url + "/api/token", json={"username": name, "password": PASSWORD}).json()["token"]
    client = EventClient()
    client.connect(url, auth={"token": token})
    return client


def _percentiles(samples):
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return f"p50 {pick(0.50):.1f} ms, p95 {pick(0.95):.1f} ms, p99 {pick(0.99):.1f} ms, max {ordered[-1]*1000:.1f} ms"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--messages", type=int, default=50, help="per person")
    parser.add_argument("--procs", type=int, default=2,
                        help="client processes (one Python process cannot drive many sockets fast enough)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        server, url = _start_server(workdir)
        try:
            shares = [list(range(proc, args.pairs, args.procs)) for proc in range(args.procs)]
            with multiprocessing.Pool(args.procs) as pool:
                began = time.perf_counter()
                results = pool.starmap(run, [(url, share, args.messages) for share in shares if share])
                elapsed = time.perf_counter() - began
            acks = [x for result in results for x in result[0]]
            deliveries = [x for result in results for x in result[1]]
            total = len(acks)
            print(f"{args.pairs} pairs over {args.procs} client processes, {total} messages in {elapsed:.2f} s: "
                  f"{total / elapsed:.0f} messages/s")
            print(f"send->ack:     {_percentiles(acks)}")
            print(f"send->partner: {_percentiles(deliveries)}")
            print(f"mean send->ack {statistics.mean(acks)*1000:.1f} ms")
        finally:
            server.terminate()
            server.wait(5)


def run(url, pair_indexes, per_person):
    """One client process: its share of the pairs, matched and chatting; returns the latencies."""
    people = [(_client(url, f"bench{2*i+1}"), _client(url, f"bench{2*i+2}")) for i in pair_indexes]
    rooms = []
    for index, (first, second) in zip(pair_indexes, people):
        code = f"BENCH{index:04d}"  # each pair meets on its own code, whatever the other processes do
        first.ask("match:start", {"code": code})
        rooms.append(second.ask("match:start", {"code": code})["room"]["id"])
    acks, deliveries, lock = [], [], threading.Lock()

    def talk(me, partner, room_id):
        for index in range(per_person):
            client_id = str(uuid.uuid4())
            began = time.perf_counter()
            ack = me.ask("message:send", {"room_id": room_id, "client_id": client_id, "text": f"hello {index}"})
            acked = time.perf_counter()
            assert ack["ok"], ack
            partner.wait_for("message:new", lambda d, c=client_id: d["message"]["client_id"] == c)
            with lock:
                acks.append(acked - began)
                deliveries.append(time.perf_counter() - began)

    threads = [threading.Thread(target=talk, args=(a, b, room)) for (a, b), room in zip(people, rooms)]
    threads += [threading.Thread(target=talk, args=(b, a, room)) for (a, b), room in zip(people, rooms)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for a, b in people:
        a.disconnect()
        b.disconnect()
    return acks, deliveries


if __name__ == "__main__":
    main()
