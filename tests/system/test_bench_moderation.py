"""The benchmark's moderation mode (bench/run.py --moderation, bench/moderation.py) at a tiny size,
so that it keeps working: what it seeds is what the product writes, and a run signs a moderator in,
reads the console's first page and commits its decisions. What it measures is never judged here."""
import io
import json
import subprocess
import sys
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bench import moderation as moderation_bench
from config import BASE_DIR
from heartlink.domain import accounts, attachments, links, moderation, safety
from heartlink.extensions import db
from heartlink.models import Report, ReportEvidence, User, utcnow

import media_samples as samples
from support import PASSWORD, match, store_message, store_text


def _message_shapes(snapshot):
    return {tuple(sorted(entry)) for entry in snapshot["messages"]}


def test_a_seeded_report_is_shaped_as_one_the_product_files(in_app, app):
    accounts.bulk_create_users("bench", 12, PASSWORD, vouched=True)
    seeded = moderation_bench.seed_queue(app, reports=10, messages=60, subjects=1, per_subject=4, password=PASSWORD)
    assert (seeded["links"], seeded["reports_open"], seeded["messages"]) == (10, 10, 60)
    assert seeded["pictures"] == seeded["reports_with_evidence"] == seeded["evidence_rows"] == 1
    (subject,) = seeded["subjects"]
    assert len(subject["report_ids"]) == 4 and seeded["held"] == 1
    assert db.session.get(User, subject["id"]).standing == "held"
    assert moderation.require_moderator(accounts.find_user(seeded["moderator"]).id)

    # One report filed as a person files it, about a link with a text and a picture.
    alice, bob = (accounts.create_user(name, PASSWORD, vouched=True).id for name in ("alice", "bob"))
    with db.session.begin():
        db.session.execute(update(User).where(User.id.in_((alice, bob)))
                           .values(created_at=utcnow() - timedelta(days=9)))
    room = match(alice, bob)
    store_text(room.id, bob, "rude words")
    uploaded = attachments.upload(room.id, bob, "image", "p.jpg", io.BytesIO(samples.jpeg_with_gps_and_comment()))
    store_message(room.id, bob, str(uuid.uuid4()), "image", attachment_id=uploaded.id)
    links.leave(room.id, alice)
    filed = safety.report(alice, room.id, "insults").report

    seeded_reports = db.session.execute(select(Report).where(Report.id != filed.id)).scalars().all()
    for report in seeded_reports:
        assert report.state == "open"
        assert sorted(report.snapshot) == sorted(filed.snapshot)
        assert sorted(report.snapshot["room"]) == sorted(filed.snapshot["room"])
        assert [sorted(member) for member in report.snapshot["members"]] == \
            [sorted(member) for member in filed.snapshot["members"]]
        assert _message_shapes(report.snapshot) <= _message_shapes(filed.snapshot)
    with_picture = next(report for report in seeded_reports if "evidence_item" in str(report.snapshot))
    assert _message_shapes(with_picture.snapshot) == _message_shapes(filed.snapshot)  # a text, a picture
    evidence = db.session.get(ReportEvidence, (with_picture.id, 1))
    real = db.session.get(ReportEvidence, (filed.id, 1))
    assert (evidence.mime, real.mime) == ("image/jpeg", "image/jpeg")
    assert moderation.evidence_picture(with_picture.id, 1).data == evidence.data


@pytest.mark.live
def test_the_moderation_bench_seeds_a_queue_reads_the_console_and_commits_its_decisions(tmp_path):
    command = [sys.executable, "bench/run.py", "--moderation", "--reports", "50", "--messages", "500",
               "--accounts", "40", "--decisions", "2", "--decision-size", "10", "--repeat", "2",
               "--logs", str(tmp_path)]
    done = subprocess.run(command, cwd=BASE_DIR, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    line = json.loads(done.stdout.strip().splitlines()[-1])
    assert (line["mode"], line["database"], line["workers"]) == ("moderation", "sqlite", 1)

    seeded = line["seeded"]
    assert (seeded["accounts"], seeded["links"], seeded["messages"], seeded["reports_open"]) == (41, 50, 500, 50)
    assert seeded["pictures"] == seeded["reports_with_evidence"] == 5  # every picture was found and copied
    assert seeded["active_links"] == 2 and seeded["held"] >= 2  # the two people decided about

    for read, still_open in (("console", 50), ("console_after_decisions", 30)):
        console = line[read]
        assert console["ms"]["samples"] == 2
        if console["status"] == 200:  # the console page exists: it was read over HTTP
            assert console["via"] == "http" and console["bytes"] > 0
        else:
            assert console["via"] == "in-process" and "not over HTTP" in console["timed"]
            assert (console["reports_on_page"], console["total"]) == (min(50, still_open), still_open)
            assert console["with_records"]["ms"]["samples"] == 2

    decision = line["decision"]
    assert decision["via"] == ("http" if 200 <= decision["status"] < 300 else "in-process")
    assert (decision["decisions"], decision["reports_each"], decision["ms"]["samples"]) == (2, 10, 2)
    assert (decision["committed"], decision["reports_actioned"]) == (2, 20)
    after = line["after"]
    assert after["reports"] == {"actioned": 20, "open": 30}
    assert after["audit"]["suspend"] == 2
    assert sorted(after["standing"].values()) == ["suspended", "suspended"]
    assert after["active_links"] == 0  # each suspension ended the person's link
    assert set(line["met"]) == {"console_p95", "decision_max"}
