"""Serve Heart Link: `python app.py` (eventlet by default, HEARTLINK_ASYNC_MODE=gevent also works)."""
import os

if os.environ.get("HEARTLINK_ASYNC_MODE", "eventlet") == "eventlet":
    import eventlet

    eventlet.monkey_patch()
elif os.environ.get("HEARTLINK_ASYNC_MODE") == "gevent":
    from gevent import monkey

    monkey.patch_all()

from heartlink import create_app  # noqa: E402
from heartlink.server import serve  # noqa: E402

app = create_app()

if __name__ == "__main__":
    serve(app)
