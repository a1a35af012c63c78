"""Blueprint: the moderation console (`/moderation`, `/moderation/log`) and its JSON endpoints
(`/api/moderation/…`).

The console is for moderators in good standing only. Everyone else, signed in or not, finds
nothing there: every path of it answers 404, as an unknown address does, before sign-in or a
CSRF token is asked for (`only_moderators`, run by the app factory ahead of its CSRF check), so
not even the console's existence is told. Each action needs the CSRF token and, from a browser, an
Origin of this site; it needs a note, is limited per moderator (HEARTLINK_RATE_MODERATION), and is
announced once committed (announce.decided).
"""
from flask import Blueprint, abort, current_app, jsonify, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..domain import accounts, moderation
from ..errors import Forbidden, NotFound
from ..live import announce
from ..models import utcnow
from ..worker import limits
from . import schemas
from .http import json_body, private_data

bp = Blueprint("moderation", __name__)

_PAGES = "/moderation"
_API = "/api/moderation/"
LOG_PAGE_SIZE = 50


def is_console(path):
    """Whether a request path is the console's (its pages, or its JSON endpoints)."""
    return path == _PAGES or path.startswith((_PAGES + "/", _API))


def only_moderators():
    """404 for anyone who is not a moderator in good standing, exactly as an unknown address."""
    if not current_user.is_authenticated:
        abort(404)
    try:
        moderation.require_moderator(current_user.id)
    except NotFound:
        abort(404)


@bp.before_request
def _writes_from_this_site_only():
    """A browser says where a write comes from (Origin, on every cross-site request and every
    fetch POST): a decision sent from another site's page is refused even with a token that
    leaked. Without the header (not a browser) the CSRF token or a bearer token decides alone."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    origin = request.headers.get("Origin")
    allowed = {request.host_url.rstrip("/"), *(current_app.config["ALLOWED_ORIGINS"] or ())}  # None: this site only
    if origin is not None and origin not in allowed:
        raise Forbidden(_l("This request came from another site."))


def _me():
    return moderation.by_moderator(current_user.id)


# --- pages -----------------------------------------------------------------------------------------

@bp.get(_PAGES)
def console():
    """The open reports and appeals; the page fetches them and hears new ones live."""
    return render_template("moderation/console.html")


@bp.get(_PAGES + "/log")
def log_page():
    """The audit log, newest first: ?user=USERNAME keeps one person's; ?before=ID pages back."""
    query = schemas.parse(schemas.LogQuery, {"before_id": request.args.get("before") or None})
    username = (request.args.get("user") or "").strip()
    person = accounts.find_user(username) if username else None
    entries, more = [], False
    if person is not None or not username:
        entries = moderation.audit_log(subject_id=person.id if person else None, limit=LOG_PAGE_SIZE + 1,
                                       before_id=query.before_id)
        entries, more = entries[:LOG_PAGE_SIZE], len(entries) > LOG_PAGE_SIZE
    older = url_for(".log_page", user=username or None, before=entries[-1]["id"]) if more else None
    return render_template("moderation/log.html", entries=entries, username=username,
                           unknown=bool(username) and person is None, older=older,
                           paged=query.before_id is not None)


# --- what the console reads -------------------------------------------------------------------------

@bp.get(_API + "reports")
def open_reports():
    """A page of open reports (?page=&limit=): held people first, then oldest first."""
    query = schemas.parse(schemas.ReportsQuery, request.args.to_dict())
    return jsonify(moderation.open_reports(query.page, query.limit))


@bp.get(_API + "people/<id:user_id>")
def person_record(user_id):
    """What a moderator sees about a person: account age, links, reporters, warnings, actions."""
    return jsonify(moderation.person_record(user_id))


@bp.get(_API + "reports/<id:report_id>/evidence/<id:item>")
def evidence_picture(report_id, item):
    """A picture a report quotes, as copied when the report was sent."""
    picture = moderation.evidence_picture(report_id, item)
    return private_data(picture.data, picture.mime)


@bp.get(_API + "appeals")
def open_appeals():
    return jsonify({"appeals": moderation.open_appeals()})


@bp.get(_API + "log")
def audit_log():
    """The audit log, newest first (?subject_id= one person's; ?before_id= pages back)."""
    query = schemas.parse(schemas.LogQuery, request.args.to_dict())
    entries = moderation.audit_log(query.subject_id, query.limit, query.before_id)
    return jsonify({"entries": entries, "next_before_id": entries[-1]["id"] if len(entries) == query.limit else None})


# --- decisions -----------------------------------------------------------------------------------------

@bp.post(_API + "decisions")
def decide():
    """Dismiss, warn, suspend, ban or restore, with a note, on some reports or on every open
    report about a person. The person hears of it, and every console drops the reports."""
    limits.check("RATE_MODERATION", current_user.id)
    body = schemas.parse(schemas.Decision, json_body())
    outcome = moderation.decide(body.action, body.note, _me(), report_ids=body.report_ids or (),
                                subject_id=body.subject_id, until=body.ends_at(utcnow()), reason=body.reason)
    announce.decided(outcome)
    return jsonify({"decision": moderation.summary(outcome)})


@bp.post(_API + "appeals/<id:appeal_id>/decision")
def decide_appeal(appeal_id):
    """Uphold an appeal's decision or restore the person, with a note."""
    limits.check("RATE_MODERATION", current_user.id)
    body = schemas.parse(schemas.AppealDecision, json_body())
    outcome = moderation.decide_appeal(appeal_id, body.decision, body.note, _me())
    if outcome.restored is not None:
        announce.decided(outcome.restored)
    announce.decided(outcome)
    return jsonify({"decision": moderation.summary(outcome)})
