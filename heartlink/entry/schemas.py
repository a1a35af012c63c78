"""The one place where what arrives over the wire is checked: types, lengths, uuid shapes.

Anything off becomes BadRequest before a handler's domain call runs.
"""
from datetime import date, timedelta
from typing import Annotated, ClassVar, Literal

from flask_babel import lazy_gettext as _l
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from config import LANGUAGES

from ..domain import accounts, attachments, matching, messages, moderation, rooms, safety, search
from ..errors import BadRequest
from ..lib.emoji import is_one_emoji

_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

Uuid = Annotated[str, StringConstraints(pattern=_UUID, to_lower=True)]
MatchCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{4,12}$", to_upper=True)]
Seq = Annotated[int, Field(ge=0, le=2**31 - 1)]
MessageRef = Annotated[int, Field(ge=1, le=2**63 - 1)]


def _one_emoji(value):
    if not is_one_emoji(value):
        raise ValueError("not one emoji")
    return value


# A reaction: exactly one emoji (heartlink/lib/emoji.py), never punctuation or invisible characters.
Emoji = Annotated[str, StringConstraints(min_length=1, max_length=16), AfterValidator(_one_emoji)]


class Payload(BaseModel):
    # Strict: "5" is not 5 and true is not 1; unknown keys are ignored for forward compatibility.
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class Empty(Payload):
    pass


def _interest(value):
    return matching.clean_interest(value)


def _language(value):
    return matching.clean_language(value)


# An interest as matching keeps it (trimmed, lowercased, 1–24 characters); a language code.
Interest = Annotated[str, StringConstraints(max_length=200), AfterValidator(_interest)]
Language = Annotated[str, StringConstraints(max_length=35), AfterValidator(_language)]


class MatchStart(Payload):
    code: MatchCode | None = None
    interests: list[Interest] | None = Field(None, max_length=matching.MAX_INTERESTS)
    languages: list[Language] | None = Field(None, max_length=matching.MAX_LANGUAGES)
    only_shared: bool = False


class RoomRef(Payload):
    room_id: Uuid


class RoomJoin(RoomRef):
    since_seq: Seq | None = None


class Mark(RoomRef):
    up_to_seq: Seq


class Typing(RoomRef):
    typing: bool


class MessageSend(RoomRef):
    client_id: Uuid
    kind: Literal[("text", *attachments.KINDS)] = "text"  # "call" lines are written by the server
    text: Annotated[str, StringConstraints(max_length=messages.MAX_TYPED_TEXT)] | None = None
    attachment_id: Uuid | None = None
    reply_to: MessageRef | None = None


class MessageRefPayload(RoomRef):
    message_id: MessageRef


class MessageEdit(MessageRefPayload):
    text: Annotated[str, StringConstraints(max_length=messages.MAX_TYPED_TEXT)]


class MessageReact(MessageRefPayload):
    emoji: Emoji


class CallInvite(RoomRef):
    media: Literal["video", "audio"] = "video"


class CallRef(Payload):
    call_id: Uuid


class CallSignal(CallRef):
    # An SDP offer/answer or an ICE candidate; its size is bounded by the socket payload cap.
    data: dict


class ReportBody(RoomRef):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=safety.MAX_REASON)]
    message_id: MessageRef | None = None


class AppealBody(Payload):
    # Any string as a username: one that names nobody is a wrong password, not a bad request.
    username: Annotated[str, StringConstraints(max_length=64)]
    password: Annotated[str, StringConstraints(max_length=accounts.MAX_PASSWORD)]
    # Bounds what is read; past it the words are the domain's rule (MAX_APPEAL characters).
    text: Annotated[str, StringConstraints(min_length=1, max_length=moderation.MAX_APPEAL * 4)]
    FIELD_ERRORS: ClassVar[dict] = {"text": moderation.text_rule(moderation.MAX_APPEAL)}


class BirthDateBody(Payload):
    birth_date: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]  # YYYY-MM-DD
    FIELD_ERRORS: ClassVar[dict] = {"birth_date": _l("Give the date of birth as a real date, YYYY-MM-DD.")}

    def day(self):
        try:
            return date.fromisoformat(self.birth_date)
        except ValueError:
            raise BadRequest(self.FIELD_ERRORS["birth_date"], field="birth_date") from None


class HistoryQuery(Payload):
    # Query strings arrive as text, so this one schema converts.
    model_config = ConfigDict(strict=False, extra="ignore", frozen=True)
    before_seq: Seq | None = None
    limit: Annotated[int, Field(ge=1, le=rooms.MAX_PAGE)] | None = None  # None: MESSAGE_PAGE_SIZE
    from_seq: Seq | None = None  # down to this seq, up to rooms.MAX_RANGE messages (docs/protocol.md)


class SearchQuery(HistoryQuery):
    """GET /api/rooms/<id>/search: the words (heartlink/domain/search.py cuts them out) and a page."""
    q: Annotated[str, StringConstraints(min_length=1, max_length=search.MAX_QUERY, strip_whitespace=True)]
    limit: Annotated[int, Field(ge=1, le=search.MAX_PAGE)] | None = None  # None: search.DEFAULT_PAGE


class SharedQuery(Payload):
    """GET /api/rooms/<id>/attachments: which tab, and the page below the cursor `before` or above
    `after` (a message's seq)."""
    model_config = ConfigDict(strict=False, extra="ignore", frozen=True)
    kind: Literal[attachments.SHARED_KINDS]
    before: Seq | None = None
    after: Seq | None = None
    limit: Annotated[int, Field(ge=1, le=attachments.MAX_SHARED_PAGE)] | None = None  # None: SHARED_PAGE


def parse(schema, payload):
    """Validate one event's payload (a JSON object) into `schema`, or raise BadRequest."""
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise BadRequest(_l("The payload must be a JSON object."))
    try:
        return schema.model_validate(payload)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "payload"
        raise BadRequest(_field_error(schema, field, first), field=field) from None


def _field_error(schema, field, error):
    """The words for a refused field: the schema's own for it, "too long" with the limit, else "invalid"."""
    own = getattr(schema, "FIELD_ERRORS", {}).get(field)
    if own is not None:
        return own
    if error["type"] == "string_too_long":
        return _l("Too long: %(field)s (at most %(count)s characters).", field=field, count=error["ctx"]["max_length"])
    return _l("Invalid field: %(field)s", field=field)


# --- profile and "keep this link" -----------------------------------------------------------

class LinkKeep(RoomRef):
    keep: bool


class AccountDelete(Payload):
    """DELETE /api/me: the person's password, asked again."""
    password: Annotated[str, StringConstraints(min_length=1, max_length=accounts.MAX_PASSWORD)]


class ProfileChange(Payload):
    """PATCH /api/me: any of these; a field left out is left as it is (language null = the browser's)."""
    display_name: Annotated[str, StringConstraints(max_length=1000)] | None = None
    read_receipts: bool | None = None
    show_presence: bool | None = None
    language: Literal[tuple(LANGUAGES)] | None = None
    interests: list[Interest] | None = Field(None, max_length=matching.MAX_INTERESTS)  # matching's default

    def changes(self):
        """Only the fields the client sent; null is a value for language and display_name only."""
        return {name: getattr(self, name) for name in self.model_fields_set
                if getattr(self, name) is not None or name in ("language", "display_name")}


# --- the moderation console (heartlink/entry/moderation.py) -------------------------------------

def _text_only(value):
    if not isinstance(value, str):
        raise ValueError("text expected")
    return value


Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
# A note or what a person is told: the domain trims it and says when it is empty or too long
# (BadRequest with its field); this only bounds what is read.
ModeratorText = Annotated[str, StringConstraints(max_length=moderation.MAX_NOTE + 200)]


class Decision(Payload):
    """POST /api/moderation/decisions: an action on some open reports (`report_ids`), or on every
    open report about a person (`subject_id`). A suspension lasts `days` (1, 7 or 30) or ends at
    `until` (an ISO 8601 time with its offset)."""
    action: Literal[tuple(moderation.DECISIONS)]
    note: ModeratorText
    reason: ModeratorText | None = None
    report_ids: Annotated[list[Id], Field(min_length=1, max_length=500)] | None = None
    subject_id: Id | None = None
    days: Literal[1, 7, 30] | None = None
    # Text only: a bare number would otherwise be read as a Unix time.
    until: Annotated[AwareDatetime, BeforeValidator(_text_only), Field(strict=False)] | None = None

    def ends_at(self, now):
        """When a suspension ends (None: the domain then refuses a suspension with field `until`)."""
        if self.days is not None and self.until is not None:
            raise BadRequest(_l("Choose a number of days or a date, not both."), field="until")
        if self.action != "suspend" and (self.days is not None or self.until is not None):
            raise BadRequest(_l("Only a suspension has an end."), field="until")
        return now + timedelta(days=self.days) if self.days is not None else self.until


class AppealDecision(Payload):
    """POST /api/moderation/appeals/<id>/decision."""
    decision: Literal["upheld", "restored"]
    note: ModeratorText


class _Query(Payload):
    # Query strings arrive as text, so these convert.
    model_config = ConfigDict(strict=False, extra="ignore", frozen=True)


class ReportsQuery(_Query):
    page: Annotated[int, Field(ge=1, le=100_000)] = 1
    limit: Annotated[int, Field(ge=1, le=200)] = 20


class LogQuery(_Query):
    subject_id: Id | None = None
    before_id: Id | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 50
