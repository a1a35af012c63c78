"""Extensions, created unbound so that any module can import them without cycles."""
from flask import current_app, request
from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData

# Named constraints, so that migrations can alter them on every engine.
_naming = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=_naming), session_options={"expire_on_commit": False})
migrate = Migrate()
login_manager = LoginManager()
socketio = SocketIO()


class _HeaderFirstCSRF(CSRFProtect):
    """The token from the X-CSRFToken header when it is there, before the form: looking in the
    form parses the whole body (25 MB of upload) before the route's sign-in and limits.
    _get_csrf_token is Flask-WTF's private method (heartlink/worker/borrowed.py lists it)."""

    def _get_csrf_token(self):
        for header in current_app.config["WTF_CSRF_HEADERS"]:
            if token := request.headers.get(header):
                return token
        return super()._get_csrf_token()


csrf = _HeaderFirstCSRF()
babel = Babel()
