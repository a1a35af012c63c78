"""Domain errors: raised once where a rule is broken, turned into the wire's
`{"ok": false, "error": {...}}` ack or HTTP JSON error in one place."""
from flask_babel import lazy_gettext as _l


class DomainError(Exception):
    code = "internal"
    status = 500
    default_message = _l("Something went wrong.")

    def __init__(self, message=None, **details):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.details = details

    def to_wire(self):
        return {"code": self.code, "message": str(self.message), **self.details}


class BadRequest(DomainError):
    code, status = "bad_request", 400
    default_message = _l("The request is not valid.")


class Unauthorized(DomainError):
    code, status = "unauthorized", 401
    default_message = _l("Please sign in.")


class Forbidden(DomainError):
    code, status = "forbidden", 403
    default_message = _l("You are not allowed to do that.")


class Restricted(DomainError):
    """The account's standing forbids it (heartlink/domain/moderation.py): details carry
    `standing` ("held", "suspended" or "banned"), `until` (ISO time, for a suspension) and
    `reason` (what the person is told)."""
    code, status = "restricted", 403
    default_message = _l("Your account cannot do that right now.")


class NotFound(DomainError):
    code, status = "not_found", 404
    default_message = _l("Not found.")


class Conflict(DomainError):
    code, status = "conflict", 409
    default_message = _l("That cannot be done right now.")


class Filtered(DomainError):
    """Refused by the service's content rules (heartlink/domain/protections.py): a blocked term,
    or a link from an account too new to send one. The message says why, never which term;
    details may carry `kind` ("term" or "link") and, for a link, `allowed_at` (ISO time)."""
    code, status = "filtered", 422
    default_message = _l("Not sent: it goes against Heart Link's rules.")


class TooLarge(DomainError):
    code, status = "too_large", 413
    default_message = _l("That is too large.")


class RateLimited(DomainError):
    code, status = "rate_limited", 429
    default_message = _l("Too many requests; try again shortly.")


class Unavailable(DomainError):
    """The database could not be reached (down, restarting, out of connections): nothing may
    be assumed stored, and the same request can go again (a send keeps its client_id)."""
    code, status = "unavailable", 503
    default_message = _l("Heart Link cannot reach its database right now; try again in a moment.")


def _by_status(cls):
    # The first class with a status names it: 403 is `forbidden`, never `restricted`.
    table = {cls.status: cls.code}
    for sub in cls.__subclasses__():
        for status, code in _by_status(sub).items():
            table.setdefault(status, code)
    return table


def code_for_status(status):
    """The wire code for an HTTP status (werkzeug's own errors too: 404, 405, 413 ...), read off
    the classes above so the table has one home; a status without a class is `bad_request`."""
    return _by_status(DomainError).get(status, BadRequest.code)
