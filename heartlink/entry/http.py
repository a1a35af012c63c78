"""What every HTTP way in shares: whether an answer should be JSON, how a JSON body is read, how a
private file is sent, and what a row id in a path may be."""
from flask import Response, request, send_file
from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter

from ..errors import BadRequest


class IdConverter(IntegerConverter):
    """`<id:name>`: a row id in a path, 1 to 2**63 - 1 as the database holds them; anything else is
    a 404 like any unknown path, never a number the database driver cannot take."""

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=2**63 - 1)


def wants_json():
    """The JSON API (/api/…), or a client that asks for JSON, gets errors and answers as JSON."""
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def json_body():
    """The request's JSON object. A body that is not one (broken JSON, a list, another content
    type) is said to be so, instead of being read as empty and blamed on its first missing field."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest(_l("The body must be a JSON object."))
    return body


def private_file(path, mime, download_name=None, as_attachment=False):
    """A file only some people may read (an attachment, a picture): no shared cache keeps it
    (this browser may, an hour: a new file gets a new URL), and it never runs as a page."""
    response = send_file(path, mimetype=mime, as_attachment=as_attachment, download_name=download_name,
                         conditional=True, max_age=0)
    return _private(response)


def private_data(data, mime):
    """Bytes only some people may read (a picture kept as a report's evidence), as private_file sends a file."""
    return _private(Response(data, mimetype=mime))


def _private(response):
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
