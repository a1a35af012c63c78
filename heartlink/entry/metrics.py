"""`GET /metrics`: this worker's Prometheus metrics (heartlink/worker/metrics.py), for
HEARTLINK_METRICS_ALLOW's addresses (loopback unless set) or a bearer HEARTLINK_METRICS_TOKEN.
Anyone else gets 404, as for an address that does not exist."""
import hmac
import ipaddress

from flask import Blueprint, Response, abort, current_app, request

from ..worker import metrics

bp = Blueprint("metrics", __name__)


def _networks(app):
    found = app.extensions.get("heartlink_metrics_allow")
    if found is None:
        found = app.extensions["heartlink_metrics_allow"] = [
            ipaddress.ip_network(item, strict=False) for item in app.config["METRICS_ALLOW"]]
    return found


def _allowed():
    token = current_app.config["METRICS_TOKEN"]
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[len("Bearer "):].strip().encode(),
                                                                      token.encode()):
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in _networks(current_app._get_current_object()))


@bp.get("/metrics")
def scrape():
    if not _allowed():
        abort(404)
    return Response(metrics.exposition(), mimetype=None, content_type=metrics.CONTENT_TYPE,
                    headers={"Cache-Control": "no-store"})
