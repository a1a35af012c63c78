"""The JSON codec of Socket.IO packets and HTTP bodies: orjson, several times faster than
the standard library on every packet a worker reads or writes (and on the message queue).

Anything orjson refuses (integers past 64 bits, NaN) goes through the standard library
instead, so what may be sent either way is exactly what it was.
"""
import json

import orjson
from flask.json.provider import DefaultJSONProvider

_OPTIONS = orjson.OPT_NON_STR_KEYS


def dumps(obj, **_options):
    # Socket.IO asks for compact separators; orjson writes nothing else.
    try:
        return orjson.dumps(obj, default=str, option=_OPTIONS).decode()
    except TypeError:
        return json.dumps(obj, separators=(",", ":"), default=str)


def loads(text, **_options):
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        try:
            return json.loads(text)
        except RecursionError:
            # orjson stops at 1,024 levels; the standard library would recurse until Python
            # gives up. Too deep is malformed, like any other bad JSON (a ValueError).
            raise ValueError("JSON nested too deeply") from None


class JSONProvider(DefaultJSONProvider):
    """Flask's request bodies are read by the same codec, so a hostile body fails the same way."""

    def loads(self, s, **kwargs):
        return loads(s)
