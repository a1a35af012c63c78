"""Upload bodies, read without holding the event loop.

werkzeug parses a multipart body as it reads it and writes each file part to a spooled
temporary file, all on the calling thread: under eventlet or gevent, the event loop. A green
socket read does not yield while data is waiting, and a disk write never does, so sixteen
25 MB uploads at once held another pair's acks for over a second. Here the body is read in
chunks that each give the loop back (offload.pause), and a file part is buffered up to
SPOOL_CHUNK, then written to its temporary file from an OS thread. No database connection
is held meanwhile. Reading a body is not
limited in number: a slow sender holds a connection and at most SPOOL_CHUNK of memory, so a
few slow senders cannot keep everyone else's uploads waiting. What takes memory, an upload
checked and stored, is limited per worker in attachments.upload.
"""
import tempfile

import flask

from . import borrowed, offload

SPOOL_CHUNK = 256 * 1024


class Request(flask.Request):
    # Each method here overrides a private one of werkzeug's (heartlink/worker/borrowed.py lists them).
    def _load_form_data(self):
        if not borrowed.form_parsed(self) and self.mimetype == "multipart/form-data":
            # A body may take minutes to come: the pooled database connection of the request's
            # read transaction (its sign-in) goes back first, or sixteen uploads held every one.
            offload.release_database()
        return super()._load_form_data()

    def _get_stream_for_parsing(self):
        return _Yielding(super()._get_stream_for_parsing())

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        return _OffLoopFile()


class _Yielding:
    """A body stream whose every read gives the event loop back to the other green threads."""

    def __init__(self, stream):
        self._stream = stream

    def read(self, size=-1):
        data = self._stream.read(size)
        offload.pause()
        return data

    def __getattr__(self, name):
        return getattr(self._stream, name)


class _OffLoopFile:
    """A file part's temporary file; its writes, SPOOL_CHUNK at a time, run in an OS thread."""

    def __init__(self):
        self._file = tempfile.TemporaryFile()
        self._pending = bytearray()

    def write(self, data):
        self._pending += data
        if len(self._pending) >= SPOOL_CHUNK:
            self._flush()
        return len(data)

    def seek(self, offset, whence=0):
        self._flush()  # the parser seeks to 0 once the part is complete
        return self._file.seek(offset, whence)

    def _flush(self):
        if self._pending:
            offload.run(self._file.write, bytes(self._pending))
            self._pending.clear()

    def __getattr__(self, name):
        return getattr(self._file, name)
