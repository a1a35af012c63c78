"""Serve Heart Link: `python app.py` (eventlet by default, HEARTLINK_ASYNC_MODE=gevent also works)."""
import os
import warnings

# Known and documented in docs/operations.md; HEARTLINK_ASYNC_MODE=gevent is the alternative.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

if os.environ.get("HEARTLINK_ASYNC_MODE", "eventlet") == "eventlet":
    import eventlet

    eventlet.monkey_patch()
elif os.environ.get("HEARTLINK_ASYNC_MODE") == "gevent":
    from gevent import monkey

    monkey.patch_all()
    from psycogreen.gevent import patch_psycopg

    patch_psycopg()  # PostgreSQL waits yield to other greenlets (eventlet does this itself)

from heartlink import create_app  # noqa: E402
from heartlink.server import serve  # noqa: E402

app = create_app()

if __name__ == "__main__":
    serve(app)
