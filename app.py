"""Serve Heart Link: `python app.py` (eventlet by default, HEARTLINK_ASYNC_MODE=gevent also works).

The flask commands may name this module too (`flask --app app users list`), as well as
the package (`flask users list`, FLASK_APP=heartlink in .flaskenv): both work the same.
"""
import os
import sys
import warnings

# Known and documented in docs/operations.md; HEARTLINK_ASYNC_MODE=gevent is the alternative.
# Set here as well as in heartlink/__init__.py: eventlet is imported (to patch) before heartlink may be.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")


def _monkey_patch():
    """Green threads for every socket and lock, patched before anything else is imported.
    Only when serving: the flask command imports this module after Flask itself, when
    patching is too late (eventlet prints a traceback for each object it cannot upgrade),
    and its commands serve nothing."""
    if os.environ.get("HEARTLINK_ASYNC_MODE", "eventlet") == "eventlet":
        import eventlet

        eventlet.monkey_patch()
    elif os.environ.get("HEARTLINK_ASYNC_MODE") == "gevent":
        from gevent import monkey

        monkey.patch_all()
        from psycogreen.gevent import patch_psycopg

        patch_psycopg()  # PostgreSQL waits yield to other greenlets (eventlet does this itself)


if __name__ == "__main__":
    _monkey_patch()

from heartlink import SettingMissing, create_app  # noqa: E402
from heartlink.worker.server import serve  # noqa: E402

try:
    app = create_app()
except SettingMissing as missing:
    if __name__ != "__main__":
        raise  # the flask command prints it the same way
    missing.show()
    sys.exit(missing.exit_code)

if __name__ == "__main__":
    serve(app)
