"""`GET /healthz` for a load balancer: this process answers, the database and the
message queue are reachable. 200 when all are, 503 otherwise; JSON, no sign-in, never cached."""
import logging

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from config import redis_queue

from ..extensions import db

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


def _database():
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except Exception as error:  # noqa: BLE001 - any failure means unreachable
        log.warning("database unreachable: %s", error)
        return "unreachable"
    finally:
        db.session.remove()


def _queue_client(app):
    client = app.extensions.get("heartlink_health_redis")
    if client is None:
        import redis

        # Short timeouts: a health check must answer even while Redis hangs.
        client = redis.Redis.from_url(app.config["SOCKETIO_MESSAGE_QUEUE"], socket_timeout=1,
                                      socket_connect_timeout=1, retry_on_timeout=False)
        app.extensions["heartlink_health_redis"] = client
    return client


def _queue():
    url = current_app.config["SOCKETIO_MESSAGE_QUEUE"]
    if not url:
        return "none"  # one worker, no queue: nothing to reach
    if not redis_queue(current_app.config):
        return "unchecked"
    try:
        _queue_client(current_app._get_current_object()).ping()
        return "ok"
    except Exception as error:  # noqa: BLE001
        log.warning("queue unreachable: %s", error)
        return "unreachable"


@bp.get("/healthz")
def healthz():
    checks = {"process": "ok", "database": _database(), "queue": _queue()}
    healthy = checks["database"] == "ok" and checks["queue"] in ("ok", "none", "unchecked")
    response = jsonify({"ok": healthy, "worker": current_app.config["WORKER_ID"], "checks": checks})
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response
