"""The sweeper: a background task in every worker for what happens with time.

Waiting that expires, waiting for a shared interest that ends, calls that ring too long or
whose tab is gone, people whose last socket closed past the grace period, workers that stopped
beating, suspensions whose time is up, and moderators who no longer are.
Each step claims its rows with conditional writes, so several workers sweeping at
once report each event exactly once.
"""
import logging

from flask import current_app

from ..domain import calls, matching, moderation, presence, standing
from ..extensions import socketio
from ..live import announce
from . import sockets

log = logging.getLogger(__name__)

_BEATS_EVERY = 5  # sweeps


def start(app):
    with app.app_context():
        presence.worker_started(app.config["WORKER_ID"])
    return socketio.start_background_task(_run, app)


def _run(app):
    tick = 0
    while True:
        socketio.sleep(app.config["SWEEP_INTERVAL"])
        with app.app_context():
            try:
                sweep(beat=tick % _BEATS_EVERY == 0)
            except Exception:
                log.exception("sweep failed; trying again next tick")
        tick += 1


def sweep(beat=True):
    config = current_app.config
    if beat:
        presence.worker_beat(config["WORKER_ID"], config["WORKER_STALE_AFTER"])
        # A suspension already counts as over once `until` passes (standing.standing_of); this
        # writes it back and audits it. Nobody is told: the person has no socket open, and signs in again.
        moderation.lift_expired()
    for sid, refusal in standing.locked_out_sockets(config["WORKER_ID"]):
        announce.locked_out(sid, refusal)
    announce.moderators_room_checked()
    for user_id in matching.expire_waiting():
        announce.match_timeout(user_id)
    for room in matching.look_again():  # people whose wait for a shared interest just ended
        announce.match_found(room)
    sockets.close_stalled_sockets(config["MAX_QUEUED_PACKETS"], config["MAX_QUEUED_CHARS"])
    for finished in calls.expire_ringing() + calls.end_abandoned():
        announce.call_finished(finished)
    for user_id in presence.went_offline(config["PRESENCE_GRACE"]):
        announce.presence(presence.news(user_id))
