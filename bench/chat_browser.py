"""A long chat in a real browser: how quickly the page draws with thousands of messages loaded.

    make bench BENCH_ARGS="--chat-browser"
    .venv/bin/python bench/run.py --chat-browser [--messages 5000] [--sends 30] [--scroll-frames 600]

It starts `python app.py` on a scratch SQLite database (as the tests' LiveServer does, with the
rate limits lifted), makes two people and their link, and stores --messages messages between them
at once through the domain layer (spread over days, some replies, some long). One of them signs in
in headless Chromium (Playwright, /usr/bin/chromium) at 1280x800, opens the link and loads the
whole history in by "Load earlier messages" until there is none left; the other is a
python-socketio client. Then it measures, in the page:

- enter_to_own_bubble_ms: performance.now() at the Enter keydown in the composer to the
  requestAnimationFrame after the person's own bubble (pending) is in the list;
- incoming_to_painted_ms: the partner's message arriving on the page's WebSocket to the
  requestAnimationFrame after its bubble is in the list (and, for context, from the partner's
  send in Python, the same machine's clock);
- while scrolling up --scroll-frames frames of 80 px each from the newest message: long tasks
  (PerformanceObserver "longtask", over 50 ms) and frame times (requestAnimationFrame deltas);
- dom_elements: document.getElementsByTagName("*").length with everything loaded.

It prints progress on stderr and one JSON line on stdout (docs/performance.md, "A long chat in
the browser"). Figures are for comparing versions on one machine, never asserted by tests.
"""
import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
LIFTED = {f"HEARTLINK_RATE_{scope}": "1000000/1" for scope in ("MESSAGES", "EVENTS", "TYPING", "TOKEN",
                                                                "LOGIN_ACCOUNT", "LOGIN_ADDRESS")}
LONG_TEXT = ("I went down to the river this morning and the light on the water was something else, "
             "you would have loved it; the ducks were arguing over bread again. ") * 3

# Before any page script: the time each WebSocket frame naming a watched text arrives.
WATCH_SOCKET = """
(() => {
  const Native = window.WebSocket;
  window.__arrivals = {};
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => {
        const match = typeof event.data === "string" && /bench-in-\\d+/.exec(event.data);
        if (match && !(match[0] in window.__arrivals)) window.__arrivals[match[0]] = performance.now();
      });
    }
  };
})();
"""

# In the page: watch the list for a bubble with a text, and note when the frame after it comes.
ARM = """() => {
  window.__painted = {};
  window.__keydowns = {};
  const list = document.querySelector('[data-testid="messages"]');
  const input = document.querySelector('[data-testid="composer-input"]');
  document.addEventListener("keydown", (event) => {
    if (event.target === input && event.key === "Enter") window.__keydowns[input.value] = performance.now();
  }, { capture: true });
  new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (node.nodeType !== 1) continue;
        const text = node.textContent || "";
        const match = /bench-(in|out)-\\d+/.exec(text);
        if (match && !(match[0] in window.__painted)) {
          window.__painted[match[0]] = null;
          requestAnimationFrame(() => { window.__painted[match[0]] = performance.now(); });
        }
      }
    }
  }).observe(list, { childList: true, subtree: true });
}"""

LOAD_ALL = """async () => {
  const older = document.querySelector('[data-testid="load-older"]');
  const scroller = document.querySelector('[data-testid="messages-scroll"]');
  const started = performance.now();
  let clicks = 0;
  while (!older.hidden && performance.now() - started < 900000) {
    if (!older.disabled) {
      scroller.scrollTop = 0;
      older.click();
      clicks += 1;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return { clicks, seconds: (performance.now() - started) / 1000, done: older.hidden };
}"""

SCROLL = """async (frames) => {
  const scroller = document.querySelector('[data-testid="messages-scroll"]');
  const longTasks = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) longTasks.push(entry.duration);
  });
  observer.observe({ type: "longtask" });
  const deltas = [];
  let last = null;
  await new Promise((resolve) => {
    let left = frames;
    const step = (now) => {
      if (last !== null) deltas.push(now - last);
      last = now;
      if (left-- <= 0) return resolve();
      scroller.scrollTop -= 80;
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  });
  await new Promise((resolve) => setTimeout(resolve, 200));
  observer.takeRecords().forEach((entry) => longTasks.push(entry.duration));
  observer.disconnect();
  return { deltas, longTasks, top: scroller.scrollTop };
}"""


def note(text):
    print(f"[chat-browser] {text}", file=sys.stderr, flush=True)


def quantiles(values):
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"n": len(values), "p50": round(statistics.median(ordered), 1), "p95": round(pick(0.95), 1),
            "max": round(ordered[-1], 1)}


def fill(server, first, second, room_id, count):
    """`count` messages between the two, stored in batches as the writer stores them, spread over days."""
    from heartlink.domain import messages
    from heartlink.extensions import db
    from heartlink.models import Message, utcnow
    per_day = 100
    with server.app.app_context():
        stored = []
        for start in range(0, count, 500):
            drafts = []
            for index in range(start, min(count, start + 500)):
                sender = first if index % 3 else second
                reply = stored[index - 500] if index % 50 == 49 and index >= 500 else None  # one batch back
                text = LONG_TEXT if index % 7 == 0 else f"message {index} — how was your day?"
                drafts.append(messages.draft(room_id, sender, str(uuid.uuid4()), "text", text, reply, None))
            messages.store(drafts)
            stored.extend(row.id for row in db.session.query(Message.id).filter(Message.room_id == room_id)
                          .order_by(Message.seq).offset(start).limit(500))
        days = (count + per_day - 1) // per_day
        now = utcnow()
        for day in range(days):
            db.session.execute(db.update(Message).where(
                Message.room_id == room_id, Message.seq > day * per_day, Message.seq <= (day + 1) * per_day)
                .values(created_at=now - timedelta(days=days - day, minutes=-day)))
        db.session.commit()


def sign_in(page, url, username, password):
    page.goto(url + "/login")
    page.get_by_test_id("username").fill(username)
    page.get_by_test_id("password").fill(password)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(url + "/")
    page.wait_for_selector('[data-testid="app"][data-connection="online"]')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chat-browser", action="store_true")
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--sends", type=int, default=30, help="own messages and partner's messages timed, each")
    parser.add_argument("--scroll-frames", type=int, default=600)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args)), flush=True)


def _migrated(workdir):
    import os
    import secrets
    import subprocess
    path = Path(workdir) / "bench.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}", "HEARTLINK_ENV": "testing", "FLASK_APP": "heartlink",
           "SECRET_KEY": secrets.token_hex(16)}
    subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    return path


def measure(args):
    from playwright.sync_api import sync_playwright

    from support import PASSWORD, LiveServer
    with tempfile.TemporaryDirectory(prefix="heartlink-chat-browser-") as workdir:
        server = LiveServer(_migrated(workdir), Path(workdir), **LIFTED)
        try:
            return _measure(args, server, PASSWORD, sync_playwright)
        finally:
            server.close()


def _measure(args, server, password, sync_playwright):
    me, partner = "benchalice", "benchbob"
    my_id = server.make_user(me, "Alice", joined_days_ago=30)
    partner_id = server.make_user(partner, "Bob", joined_days_ago=30)
    room_id = server.link(my_id, partner_id)
    started = time.monotonic()
    fill(server, my_id, partner_id, room_id, args.messages)
    note(f"{args.messages} messages stored in {time.monotonic() - started:.1f} s")
    other = server.connect(partner)
    result = {"mode": "chat-browser", "messages": args.messages, "viewport": "1280x800"}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.add_init_script(WATCH_SOCKET)
        page = context.new_page()
        page.set_default_timeout(120_000)
        sign_in(page, server.url, me, password)
        page.goto(f"{server.url}/rooms/{room_id}")
        page.wait_for_selector('[data-testid="chat"][data-chat-status="ready"]')
        loaded = page.evaluate(LOAD_ALL)
        note(f"history loaded in {loaded['seconds']:.1f} s ({loaded['clicks']} pages)")
        result["load_all"] = {"pages": loaded["clicks"], "seconds": round(loaded["seconds"], 1),
                              "complete": loaded["done"]}
        page.evaluate("() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))")
        result["dom_elements_loaded"] = page.evaluate("() => document.getElementsByTagName('*').length")
        # To the newest, as a person does after reading back.
        page.evaluate("""() => { const s = document.querySelector('[data-testid="messages-scroll"]');
                         s.scrollTop = s.scrollHeight; }""")
        page.wait_for_timeout(500)
        page.evaluate("""() => { const s = document.querySelector('[data-testid="messages-scroll"]');
                         s.scrollTop = s.scrollHeight; }""")
        page.wait_for_timeout(300)
        page.evaluate(ARM)
        box = page.get_by_test_id("composer-input")
        own = []
        for index in range(args.sends):
            token = f"bench-out-{index}"
            box.fill(f"{token} typed in the box")
            box.press("Enter")
            page.wait_for_function("(token) => window.__painted[token] != null", arg=token)
            own.append(page.evaluate(
                "(token) => window.__painted[token] - window.__keydowns[`${token} typed in the box`]", token))
            page.wait_for_timeout(150)
        note(f"own bubbles: {quantiles(own)}")
        incoming, incoming_wall = [], []
        for index in range(args.sends):
            token = f"bench-in-{index}"
            sent_at = time.time() * 1000
            ack = other.ask("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "kind": "text",
                                             "text": f"{token} from the partner"})
            assert ack["ok"], ack
            page.wait_for_function("(token) => window.__painted[token] != null", arg=token)
            arrived, painted, origin = page.evaluate(
                "(token) => [window.__arrivals[token], window.__painted[token], performance.timeOrigin]", token)
            if arrived is not None:
                incoming.append(painted - arrived)
            incoming_wall.append(origin + painted - sent_at)
            page.wait_for_timeout(150)
        note(f"incoming: {quantiles(incoming)}")
        result["dom_elements_after_sends"] = page.evaluate("() => document.getElementsByTagName('*').length")
        scrolled = page.evaluate(SCROLL, args.scroll_frames)
        note(f"scrolled {args.scroll_frames} frames: {len(scrolled['longTasks'])} long tasks")
        result["enter_to_own_bubble_ms"] = quantiles(own)
        result["incoming_to_painted_ms"] = quantiles(incoming)
        result["partner_send_to_painted_ms"] = quantiles(incoming_wall)
        result["scroll"] = {
            "frames": args.scroll_frames, "px_per_frame": 80,
            "long_tasks": len(scrolled["longTasks"]),
            "long_task_max_ms": round(max(scrolled["longTasks"], default=0), 1),
            "frame_ms": quantiles(scrolled["deltas"]),
        }
        result["dom_elements_after_scroll"] = page.evaluate("() => document.getElementsByTagName('*').length")
        browser.close()
    other.disconnect()
    return result


if __name__ == "__main__":
    main()
