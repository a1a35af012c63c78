"""The moderation queue's side of the benchmark, in a process of its own with the server's settings
(DATABASE_URL, HEARTLINK_UPLOAD_DIR ...): bench/run.py --moderation runs it before the server starts
(seed) and while it serves (console, decide, state). Each command prints one JSON object on stdout.

    python bench/moderation.py seed --reports 10000 --messages 100000 --subjects 10 --per-subject 50 \
        --password PW
    python bench/moderation.py console --repeat 20
    python bench/moderation.py decide --moderator moderator1 --sets FILE
    python bench/moderation.py state --subjects 3,4

`seed` fills a fresh database (accounts `bench1..benchN` already made by `flask users bulk-create`):
links between those accounts with their messages (some of them pictures, stored as uploads are),
one open report per link, quoting that link as `safety.report` does (the snapshot and its evidence
pictures come from `safety.quote` and `safety.evidence_rows`, the product's own code), then the
automatic hold as the product applies it after reports, and a moderator. Rows are written in bulk:
10,000 reports one by one through `safety.report` would take minutes. `subjects` people are each
reported by `per-subject` different people in the last day (each in a link of their own, the last
one still active): the decisions the benchmark times are about them.
"""
import argparse
import io
import json
import random
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script from anywhere: Heart Link's package and config

from sqlalchemy import func, insert, select, update  # noqa: E402
from sqlalchemy.orm import lazyload  # noqa: E402

from heartlink import create_app  # noqa: E402
from heartlink.domain import accounts, intake, moderation, safety  # noqa: E402
from heartlink.extensions import db  # noqa: E402
from heartlink.lib import media  # noqa: E402
from heartlink.models import (  # noqa: E402
    Attachment,
    Message,
    ModerationEntry,
    Report,
    ReportEvidence,
    Room,
    RoomMember,
    User,
    utcnow,
)
from heartlink.worker.database import write_transaction  # noqa: E402

MODERATOR_PREFIX = "moderator"  # the moderator is moderator1
ACCOUNT_PREFIX = "bench"
DECISION = "suspend"
DECISION_NOTE = "Insults and threats in many links, reported by many people."
SUSPENSION = timedelta(days=7)
# Every PICTURE_EVERY-th link has a picture among its messages; every DELETED_EVERY-th message was
# deleted (a tombstone) and every EDITED_EVERY-th edited.
PICTURE_EVERY = 10
DELETED_EVERY = 50
EDITED_EVERY = 23
BATCH = 500  # links per read and write while reports are made

_WORDS = ("you", "are", "so", "boring", "send", "me", "a", "picture", "now", "why", "not", "hello", "where",
          "from", "idiot", "stop", "talking", "pay", "crypto", "link", "I", "know", "where", "you", "live",
          "ok", "bye", "haha", "really", "weird", "please", "listen", "whatever", "dumb", "loser", "call")
_FLAVOURS = ("", "", "", " 😡", " 🙄", " 你好，你在哪里？", " ¿qué?", " …")
_REASONS = ("Insults.", "Threats.", "Spam: keeps sending a link to a crypto site.",
            "Asked for pictures again and again after I said no.", "Hate speech.",
            "Sent an explicit picture without asking.", "Harassment: came back with another account.",
            "Says they know where I live.")


def _text(rng):
    words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(2, 30)))
    return words[0].upper() + words[1:] + rng.choice(_FLAVOURS)


def _pictures(count):
    """`count` different pictures as an upload leaves them: (bytes, mime, width, height, thumb, thumb mime)."""
    from PIL import Image, ImageDraw

    made = []
    for index in range(count):
        image = Image.new("RGB", (640, 480), (40 + 50 * index % 200, 90, 160))
        draw = ImageDraw.Draw(image)
        for step in range(0, 640, 40):
            draw.line((step, 0, 640 - step, 480), fill=(255, 200 - index * 30 % 200, step % 255), width=3)
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=85)
        made.append(media.clean_image(buffer.getvalue(), 40_000_000))
    return made


def _upload_path(app, attachment_id, thumb=False):
    # Where attachments keeps an upload; the benchmark's test checks that every picture link has its
    # evidence, which it has only if the thumbnails are found here.
    return Path(app.config["UPLOAD_DIR"]) / attachment_id[:2] / (attachment_id + (".thumb" if thumb else ""))


def _plan(people, reports, subjects, per_subject, rng, now):
    """Who reports whom, when: a list of links (reporter, reported, reported at, active)."""
    if reports < subjects * per_subject:
        raise SystemExit(f"--reports {reports} is fewer than --subjects × --per-subject ({subjects * per_subject})")
    if len(people) < subjects + subjects * per_subject + 2:
        raise SystemExit(f"{len(people)} accounts are too few for {subjects} people reported {per_subject} times")
    links = []
    about, reporters = people[:subjects], people[subjects:subjects + subjects * per_subject]
    day = timedelta(hours=20)
    for turn in range(per_subject):  # the subjects' reports, within the last day, interleaved
        for index, subject in enumerate(about):
            order = turn * subjects + index
            when = now - day + order * day / (subjects * per_subject)
            links.append((reporters[index * per_subject + turn], subject, when, turn == per_subject - 1))
    others = reports - len(links)
    month = timedelta(days=30)
    for index in range(others):  # everyone else's, over the last 30 days, oldest first
        reporter, reported = rng.sample(people[subjects:], 2)
        when = now - month + (index + 1) * (month - timedelta(hours=1)) / (others + 1)
        links.append((reporter, reported, when, False))
    return sorted(links, key=lambda link: link[2])  # filed in time order, as reports are


def seed(args):
    print(json.dumps(seed_queue(create_app(), args.reports, args.messages, args.subjects, args.per_subject,
                                args.password, args.seed)))


def seed_queue(app, reports, messages, subjects, per_subject, password, seed=1):
    """Fill `app`'s database (see the module's doc). Returns what it holds then: counts, the people
    held, each subject's report ids (oldest first), the moderator's username and the seconds taken."""
    rng = random.Random(seed)
    began = time.monotonic()
    timings = {}
    with app.app_context():
        now = utcnow()
        people = db.session.execute(
            select(User.id).where(User.username_key.like(f"{ACCOUNT_PREFIX}%")).order_by(User.id)).scalars().all()
        links = _plan(people, reports, subjects, per_subject, rng, now)
        per_link, extra = divmod(messages, len(links))
        if per_link < 1:
            raise SystemExit("--messages must be at least --reports (one message per link)")
        pictures = _pictures(4)
        rooms, members, uploads, rows, active = [], [], [], [], {}
        for index, (reporter, reported, when, still_active) in enumerate(links):
            room_id = str(uuid.uuid4())
            count = per_link + (1 if index < extra else 0)
            opened = when - timedelta(minutes=30)
            spacing = timedelta(minutes=25) / count
            last = opened + count * spacing
            rooms.append({"id": room_id, "status": "active" if still_active else "ended", "created_at": opened,
                          "ended_at": None if still_active else when - timedelta(minutes=1),
                          "ended_by": None if still_active else reporter,
                          "end_reason": None if still_active else "left", "last_seq": count,
                          "last_activity_at": last})
            if still_active:
                active[reporter] = active[reported] = room_id
            members += [{"room_id": room_id, "user_id": person, "delivered_seq": count, "read_seq": count}
                        for person in (reporter, reported)]
            picture_at = count - 1 if index % PICTURE_EVERY == 0 and count >= 2 else None
            for seq in range(1, count + 1):
                sender = reported if seq % 2 else reporter
                at = opened + seq * spacing
                row = {"room_id": room_id, "seq": seq, "client_id": str(uuid.uuid4()), "sender_id": sender,
                       "kind": "text", "text": _text(rng), "attachment_id": None, "created_at": at,
                       "edited_at": at + timedelta(seconds=30) if seq % EDITED_EVERY == 0 else None,
                       "deleted": False}
                if seq == picture_at:
                    data, mime, width, height, thumb, thumb_mime = pictures[index % len(pictures)]
                    attachment_id = str(uuid.uuid4())
                    uploads.append({"id": attachment_id, "room_id": room_id, "uploader_id": reported,
                                    "kind": "image", "filename": f"IMG_{index:05d}.jpg", "mime": mime,
                                    "size": len(data), "width": width, "height": height, "thumb_mime": thumb_mime,
                                    "created_at": at})
                    intake.store(_upload_path(app, attachment_id), data)
                    intake.store(_upload_path(app, attachment_id, thumb=True), thumb)
                    row.update(kind="image", text=None if seq % 3 else "look at this", attachment_id=attachment_id)
                elif len(rows) % DELETED_EVERY == DELETED_EVERY - 1:
                    row.update(deleted=True, text=None, edited_at=None)
                rows.append(row)
        timings["plan_s"] = round(time.monotonic() - began, 1)

        with write_transaction() as session:
            session.execute(update(User).where(User.id.in_(people)).values(created_at=now - timedelta(days=90)))
            session.execute(insert(Room), rooms)
            session.execute(insert(RoomMember), members)
            if uploads:
                session.execute(insert(Attachment), uploads)
            for start in range(0, len(rows), 10_000):
                session.execute(insert(Message), rows[start:start + 10_000])
            for person, room_id in active.items():
                session.execute(update(User).where(User.id == person).values(active_room_id=room_id))
        timings["links_s"] = round(time.monotonic() - began, 1)

        report_rows = _file_reports(app, links, rooms, rng)
        timings["reports_s"] = round(time.monotonic() - began, 1)

        held = 0
        recent = {reported for _, reported, when, _ in links if when > now - moderation.HOLD_WINDOW}
        for reported in sorted(recent):  # as safety.report asks after each report
            held += moderation.hold_if_reported(reported, now) is not None
        accounts.bulk_create_users(MODERATOR_PREFIX, 1, password, vouched=True)
        moderator = accounts.find_user(f"{MODERATOR_PREFIX}1")
        moderation.set_moderator(moderator.id, True, moderation.CLI, "The benchmark's moderator.")
        timings["holds_s"] = round(time.monotonic() - began, 1)

        return {
            **_counts(),
            "held": held,
            "subjects": [{"id": subject, "report_ids": report_rows.get(subject, [])} for subject in people[:subjects]],
            "moderator": moderator.username,
            "seconds": timings,
        }


def _file_reports(app, links, rooms, rng):
    """One open report per link, quoting it as safety.report does: half of them the reported
    person's last message (message_id), the others the link's latest messages (and so the
    picture links' pictures). Returns {reported id: [report ids, oldest first]}."""
    latest = app.config["REPORT_SNAPSHOT_MESSAGES"]
    filed = {}
    for start in range(0, len(links), BATCH):
        batch = list(zip(links[start:start + BATCH], rooms[start:start + BATCH], strict=True))
        ids = [room["id"] for _, room in batch]
        loaded = {room.id: room for room in db.session.execute(select(Room).where(Room.id.in_(ids))).scalars()}
        newest_first = {}
        for message in db.session.execute(
                select(Message).options(lazyload(Message.reactions)).where(Message.room_id.in_(ids))
                .order_by(Message.room_id, Message.seq.desc())).unique().scalars():
            newest_first.setdefault(message.room_id, []).append(message)
        rows, quotes = [], []
        for offset, ((reporter, reported, when, _), room) in enumerate(batch):
            quoted = newest_first[room["id"]]
            message_id = None
            if (start + offset) % 2:  # never a picture link (those are even)
                said = [message for message in quoted if message.sender_id == reported and not message.deleted]
                message_id = said[0].id if said else None
            quoted = [message for message in quoted if message.id == message_id] if message_id else quoted[:latest]
            kept = safety.quote(loaded[room["id"]], quoted)
            quotes.append(kept)
            rows.append({"reporter_id": reporter, "reported_id": reported, "room_id": room["id"],
                         "message_id": message_id, "reason": rng.choice(_REASONS), "snapshot": kept.snapshot,
                         "created_at": when, "state": "open"})
        with write_transaction() as session:
            report_ids = session.execute(insert(Report).returning(Report.id, sort_by_parameter_order=True),
                                         rows).scalars().all()
            evidence = [row for report_id, kept, row_of in zip(report_ids, quotes, rows, strict=True)
                        for row in safety.evidence_rows(report_id, kept.pictures, row_of["created_at"])]
            if evidence:
                session.execute(insert(ReportEvidence), evidence)
        for report_id, row in zip(report_ids, rows, strict=True):
            filed.setdefault(row["reported_id"], []).append(report_id)
        db.session.expunge_all()
    return filed


def _counts():
    count = lambda query: db.session.execute(query).scalar()  # noqa: E731
    return {
        "accounts": count(select(func.count()).select_from(User)),
        "links": count(select(func.count()).select_from(Room)),
        "active_links": count(select(func.count()).select_from(Room).where(Room.status == "active")),
        "messages": count(select(func.count()).select_from(Message)),
        "pictures": count(select(func.count()).select_from(Attachment)),
        "reports_open": count(select(func.count()).select_from(Report).where(Report.state == "open")),
        "evidence_rows": count(select(func.count()).select_from(ReportEvidence)),
        "reports_with_evidence": count(select(func.count(func.distinct(ReportEvidence.report_id)))),
    }


# --- what is timed in this process when the server has no way in for it yet ------------------------

def console(args):
    """The console's first page, read the way a page would: `moderation.open_reports(page=1)`
    (a fresh session each time, as each request has), and that plus the records of the people
    reported on it (`moderation.person_records`: the console shows one with each report) and its
    JSON. One read first (cold), reported apart."""
    app = create_app()
    plain, with_records, first = [], [], {}
    for round_ in range(args.repeat + 1):
        with app.app_context():
            began = time.perf_counter()
            page = moderation.open_reports(page=1)
            read = (time.perf_counter() - began) * 1000
        with app.app_context():
            began = time.perf_counter()
            page = moderation.open_reports(page=1)
            records = moderation.person_records([filed["reported"]["id"] for filed in page["reports"]])
            size = len(app.json.dumps({"page": page, "records": records}))
            whole = (time.perf_counter() - began) * 1000
        if round_ == 0:
            first = {"open_reports_ms": round(read, 2), "with_records_ms": round(whole, 2)}
            continue
        plain.append(read)
        with_records.append(whole)
    print(json.dumps({"open_reports_ms": plain, "with_records_ms": with_records, "first": first,
                      "reports_on_page": len(page["reports"]), "people_on_page": len(records),
                      "total": page["total"], "json_bytes": size}))


def decide(args):
    """Each set of report ids decided in one `moderation.decide` (suspend, 7 days) by the
    moderator, timed from the call to its commit."""
    app = create_app()
    sets = json.loads(Path(args.sets).read_text())
    timed, outcomes = [], []
    with app.app_context():
        moderator = accounts.find_user(args.moderator).id
    for report_ids in sets:
        with app.app_context():
            began = time.perf_counter()
            outcome = moderation.decide(DECISION, DECISION_NOTE, moderation.by_moderator(moderator),
                                        report_ids=report_ids, until=utcnow() + SUSPENSION)
            timed.append((time.perf_counter() - began) * 1000)
            outcomes.append({"action_id": outcome.action_id, "user_id": outcome.user_id,
                             "reports": len(outcome.report_ids), "links_ended": len(outcome.ended)})
    print(json.dumps({"ms": timed, "outcomes": outcomes}))


def state(args):
    """What the database holds now: reports by state, audit rows by action, the subjects' standing."""
    app = create_app()
    subjects = [int(value) for value in args.subjects.split(",") if value]
    with app.app_context():
        reports = dict(db.session.execute(select(Report.state, func.count()).group_by(Report.state)).all())
        audit = dict(db.session.execute(
            select(ModerationEntry.action, func.count()).group_by(ModerationEntry.action)).all())
        standing = {str(user.id): user.standing
                    for user in db.session.execute(select(User).where(User.id.in_(subjects))).scalars()}
        active = db.session.execute(select(func.count()).select_from(Room).where(Room.status == "active")).scalar()
    print(json.dumps({"reports": reports, "audit": audit, "standing": standing, "active_links": active}))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    seeding = commands.add_parser("seed")
    seeding.add_argument("--reports", type=int, default=10_000)
    seeding.add_argument("--messages", type=int, default=100_000)
    seeding.add_argument("--subjects", type=int, default=10)
    seeding.add_argument("--per-subject", type=int, default=50)
    seeding.add_argument("--password", required=True, help="the moderator's password")
    seeding.add_argument("--seed", type=int, default=1, help="the random generator's seed")
    reading = commands.add_parser("console")
    reading.add_argument("--repeat", type=int, default=20)
    deciding = commands.add_parser("decide")
    deciding.add_argument("--moderator", required=True)
    deciding.add_argument("--sets", required=True, help="a JSON file: a list of lists of report ids")
    showing = commands.add_parser("state")
    showing.add_argument("--subjects", default="")
    args = parser.parse_args(argv)
    {"seed": seed, "console": console, "decide": decide, "state": state}[args.command](args)


if __name__ == "__main__":
    main()
