"""A person's profile: display name, picture, privacy and language settings.

The picture goes through the same checks as a picture sent in a chat (sniffed from
its bytes, pixel limit, re-encoded without EXIF or comments), is cut to a square,
and is kept under HEARTLINK_UPLOAD_DIR/avatars, outside static/.
"""
import io
import logging
import uuid
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageFilter, ImageOps
from sqlalchemy import select

from config import LANGUAGES

from .. import wire
from ..errors import BadRequest, NotFound
from ..extensions import db
from ..lib import media
from ..models import User
from ..worker import offload
from ..worker.database import write_transaction
from . import accounts, intake, matching, presence, privacy

log = logging.getLogger(__name__)

AVATAR_SIZE = 512
VEILED_SIZE = 24  # px the blurred picture is made from: a few colours, no features


def update(user_id, changes):
    """Apply {display_name, read_receipts, show_presence, language, interests} (any of them).
    Returns (user, names of the fields that changed)."""
    user = db.session.get(User, user_id)
    values = dict(changes)
    if "interests" in values:  # what matching looks for when the person names nothing
        values["interests"] = list(matching.interests_of(user_id, values["interests"]))
    if "display_name" in values:
        values["display_name"] = accounts.validate_display_name(values["display_name"], user.username, user_id)
    if values.get("language") not in (None, *LANGUAGES):  # config's: one list of languages
        raise BadRequest(_l("Invalid field: %(field)s", field="language"), field="language")
    changed = [name for name, value in values.items() if getattr(user, name) != value]
    if changed:
        with write_transaction():
            for name in changed:
                setattr(user, name, values[name])
        log.info("user %s changed %s", user_id, ", ".join(changed))
    return user, changed


def _path(avatar_id):
    return Path(current_app.config["UPLOAD_DIR"]) / "avatars" / avatar_id


def _discard(avatar_id):
    _path(avatar_id).unlink(missing_ok=True)
    _veiled_path(avatar_id).unlink(missing_ok=True)


def _square(data, max_pixels):
    """A checked, re-encoded picture cut to a centred square of at most AVATAR_SIZE px,
    then checked and re-encoded once more, so nothing of the upload's metadata survives."""
    clean, mime, _width, _height, _thumb, _thumb_mime = media.clean_image(data, max_pixels)
    with Image.open(io.BytesIO(clean)) as image:
        side = min(image.width, image.height, AVATAR_SIZE)
        square = ImageOps.fit(image, (side, side), method=Image.Resampling.LANCZOS)
        out = io.BytesIO()
        square.save(out, format=image.format)
    final, mime, *_rest = media.clean_image(out.getvalue(), max_pixels)
    return final, mime


def set_avatar(user_id, stream):
    """Check and store a new profile picture; the old one is removed. Returns the user."""
    with intake.received(stream, current_app.config["IMAGE_MAX_BYTES"]) as data:
        clean, mime = intake.picture(_square, data, current_app.config["IMAGE_MAX_PIXELS"])
        avatar_id = str(uuid.uuid4())
        intake.store(_path(avatar_id), clean)
        intake.store(_veiled_path(avatar_id), offload.decode(_blurred, clean))
    user = db.session.get(User, user_id)
    old = user.avatar_id
    with write_transaction():
        user.avatar_id, user.avatar_mime = avatar_id, mime
    if old:
        _discard(old)
    log.info("user %s has a new profile picture (%d bytes)", user_id, len(clean))
    return user


def picture_file(avatar_id):
    """Where a profile picture's bytes are (its owner's export, and deleting the account)."""
    return _path(avatar_id)


def remove_avatar(user_id):
    user = db.session.get(User, user_id)
    old = user.avatar_id
    if old:
        with write_transaction():
            user.avatar_id = user.avatar_mime = None
        _discard(old)
    return user


def _veiled_path(avatar_id):
    return _path(avatar_id).with_name(f"{avatar_id}.veiled")


def _blurred(data):
    """The picture a partner sees before the gradual reveal: so small and blurred that nothing
    of the face survives; made once, from the stored square."""
    with Image.open(io.BytesIO(data)) as image:
        small = image.convert("RGB").resize((VEILED_SIZE, VEILED_SIZE), Image.Resampling.BILINEAR)
    blurred = small.filter(ImageFilter.GaussianBlur(VEILED_SIZE / 8)).resize(
        (VEILED_SIZE * 2, VEILED_SIZE * 2), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    blurred.save(out, format="JPEG", quality=70)
    return out.getvalue()


def avatar_for(viewer_id, owner_id, veiled=False):
    """(mime, path) of `owner_id`'s picture, if `viewer_id` may see it; else NotFound,
    so that nobody can tell a hidden picture from a missing one. The sharp picture only to
    those it is revealed to (privacy.profile_visible_to); `veiled`: the blurred one."""
    owner = db.session.get(User, owner_id)
    if owner is None or not owner.avatar_id or not privacy.profile_visible_to(viewer_id, owner_id, veiled):
        raise NotFound(_l("Not found."))
    path = _path(owner.avatar_id)
    if not path.exists():
        raise NotFound(_l("Not found."))
    if not veiled:
        return owner.avatar_mime, path
    blurred = _veiled_path(owner.avatar_id)
    if not blurred.exists():  # pictures from before the reveal existed are blurred when first asked for
        intake.store(blurred, offload.decode(_blurred, offload.run(path.read_bytes)))
    return "image/jpeg", blurred


def updates(user_id, privacy_changed=False):
    """The `user:updated` each viewer gets after this person changed their profile, as
    [(viewer id, the person as that viewer sees them)]: everyone who shares a link with them,
    and their own tabs. Former partners hear of the name, never the presence; partners it is not
    revealed to yet, of the initials and the blurred picture. When their
    presence setting changed, what they see of others changed too (it is reciprocal), so they
    get each partner again."""
    user = db.session.get(User, user_id)
    partners = privacy.profile_audience(user_id)
    linked = set(presence.audience(user_id))
    veiled = privacy.veiled_to(user_id, partners)  # either way: a link revealed to one is to both
    found = [(viewer_id, wire.person(user, viewer_id, viewer_id in linked, veiled=viewer_id in veiled))
             for viewer_id in [user_id, *partners]]
    if privacy_changed:
        for partner in db.session.execute(select(User).where(User.id.in_(partners))).scalars():
            found.append((user_id, wire.person(partner, user_id, partner.id in linked, veiled=partner.id in veiled)))
    return found
