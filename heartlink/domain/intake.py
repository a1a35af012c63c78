"""Taking in an uploaded file, for an attachment or a profile picture: one set of checks.

The bytes are read off the event loop, at most UPLOADS_AT_ONCE uploads per worker holding
theirs in memory at a time; an empty file is a 400 and one over its limit a 413; a picture is
decoded in the decode gate (too many pixels: 413; not a picture: 400); files are written
whole under a temporary name, then renamed, from a thread, readable by their owner only.
"""
import os
from contextlib import contextmanager

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..errors import BadRequest, TooLarge
from ..lib import media
from ..worker import offload


@contextmanager
def received(stream, limit):
    """The upload's bytes, held while the caller checks and stores them."""
    offload.release_database()  # the gate may be a wait
    with offload.gate("uploads", current_app.config["UPLOADS_AT_ONCE"]):
        data = offload.run(stream.read, limit + 1)  # a spooled file on disk: read off the event loop
        if not data:
            raise BadRequest(_l("The file is empty."), field="file")
        if len(data) > limit:
            raise TooLarge(_l("The file is larger than %(mb)s MB.", mb=limit // (1024 * 1024)), limit=limit)
        yield data


def picture(decode, data, *args):
    """`decode(data, *args)` (media.clean_image, or a picture cut to a square) in the decode gate."""
    try:
        return offload.decode(decode, data, *args)
    except media.TooManyPixels:
        raise TooLarge(_l("The picture has too many pixels.")) from None
    except media.MediaError:
        raise BadRequest(_l("That file is not a picture."), field="file") from None


def store(path, data):
    """Write a file off the event loop (25 MB stalled every chat of the worker for tens of ms)."""
    offload.run(_write, path, data)


def _write(path, data):
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".part")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)
    temporary.replace(path)
