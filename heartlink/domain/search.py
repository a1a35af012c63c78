"""Search in a link's history: the words a member types, found in the room's messages.

The one home of the rule. What is searched: messages with text (a caption too), never a deleted
one, of a room the searcher is a member of (its two members, even after the link ended). Results
come newest first, a page at a time (`before_seq` goes further back), as a chat app shows them.

How words are found (docs/decisions.md says why):
- Each word the person types is found at the start of a word of a message ("hel" finds "hello"),
  every word in the same message, in any order; case does not matter, and on SQLite accents do
  not either ("cafe" finds "café").
- SQLite: an FTS5 index (tokenizer unicode61, remove_diacritics 2) made by the migration and kept
  by triggers; PostgreSQL: a GIN index on to_tsvector('simple', text).
- A query in a script written without spaces between words (Chinese, Japanese, Korean, Thai ...)
  cannot be found by words: its words are found anywhere in a message's text instead (LIKE, over
  one room's messages only).
- What a person types is never query syntax: it is cut into words of letters and digits, and
  each word goes into the query as a quoted term.
"""
import re
import unicodedata
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, literal_column, select, text

from ..errors import BadRequest
from ..extensions import db
from ..models import Message, iso
from .rooms import not_hidden_for, room_for_member

MAX_QUERY = 100  # characters a query may have (after trimming)
MAX_WORDS = 10
DEFAULT_PAGE = 20
MAX_PAGE = 50
SNIPPET = 120  # characters of a message shown around its first match (without the ellipses)
_LEAD = 30  # of which, at most this many before the match

# Scripts written without spaces between words: a word of theirs is found anywhere in a text.
_UNSPACED = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u1100-\u11ff\u2e80-\u2fdf\u3040-\u30ff\u3100-\u318f"
    "\u31a0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\uff66-\uff9f"
    "\U00020000-\U0003ffff]")


class Query(NamedTuple):
    words: tuple  # as typed (NFC), each letters, marks and digits only
    anywhere: bool  # found anywhere in a text (unspaced scripts), not at a word's start


def _is_word_char(char):
    return unicodedata.category(char)[0] in "LNM"


def parse(query):
    """What a person typed, as the words to find; BadRequest (field `q`) if there are none or too many."""
    if not isinstance(query, str):
        raise BadRequest(_l("Type something to search for."), field="q")
    query = unicodedata.normalize("NFC", query).strip()
    if len(query) > MAX_QUERY:
        raise BadRequest(_l("A search has at most %(count)s characters.", count=MAX_QUERY), field="q")
    words, current = [], []
    for char in query + " ":
        if _is_word_char(char):
            current.append(char)
        elif current:
            words.append("".join(current))
            current = []
    if not words:
        raise BadRequest(_l("Search for a word or a number."), field="q")
    if len(words) > MAX_WORDS:
        raise BadRequest(_l("A search has at most %(count)s words.", count=MAX_WORDS), field="q")
    words = tuple(dict.fromkeys(words))  # the same word twice finds nothing more
    return Query(words, any(_UNSPACED.search(word) for word in words))


def search(room_id, user_id, query, before_seq=None, limit=None):
    """A page of the room's messages that have every word of `query` (but those the person deleted
    for themself), newest first: {"results",
    "has_more", "next_before_seq"}. Each result carries its seq (to show it in the chat), its text
    and a snippet of it with the matches as [start, end) ranges in code points."""
    room = room_for_member(room_id, user_id)
    parsed = parse(query)
    limit = max(1, min(limit or DEFAULT_PAGE, MAX_PAGE))
    found = select(Message.id, Message.seq, Message.sender_id, Message.kind, Message.text, Message.created_at).where(
        Message.room_id == room.id, Message.deleted.is_(False), Message.text.is_not(None), not_hidden_for(user_id),
        _matching(room.id, parsed))
    if before_seq is not None:
        found = found.where(Message.seq < before_seq)
    rows = db.session.execute(found.order_by(Message.seq.desc()).limit(limit + 1)).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    return {
        "results": [_result(row, parsed) for row in rows],
        "has_more": has_more,
        "next_before_seq": rows[-1].seq if has_more else None,
    }


def _matching(room_id, parsed):
    """The condition a message meets when it has every word, for this database."""
    if parsed.anywhere:
        return and_(*(Message.text.ilike(f"%{_like_escaped(word)}%", escape="\\") for word in parsed.words))
    if db.session.get_bind().dialect.name == "sqlite":
        # The room's id is a column of the index too, so the index itself keeps to this room.
        terms = " ".join(f"{_quoted(word)}*" for word in parsed.words)
        expression = f"room_id : {_quoted(room_id)} AND text : ({terms})"
        in_index = select(literal_column("rowid")).select_from(text("messages_fts")).where(
            text("messages_fts MATCH :expression").bindparams(expression=expression))
        return Message.id.in_(in_index)
    terms = " & ".join(f"{_quoted(word, mark=chr(39))}:*" for word in parsed.words)
    # The same expression as the migration's GIN index, so the index is used.
    return func.to_tsvector(literal_column("'simple'::regconfig"), Message.text).op("@@")(
        func.to_tsquery(literal_column("'simple'::regconfig"), terms))


def _quoted(word, mark='"'):
    """A term quoted for FTS5 ("") or tsquery (''). Words are letters, marks and digits only, so
    this is a second guard: a quote mark inside is doubled, as both read it."""
    return mark + word.replace(mark, mark * 2) + mark


def _like_escaped(word):
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _result(row, parsed):
    return {
        "id": row.id,
        "seq": row.seq,
        "sender_id": row.sender_id,
        "kind": row.kind,
        "created_at": iso(row.created_at),
        "text": row.text,
        "snippet": snippet(row.text, marks(row.text, parsed)),
    }


def _folded(text):
    """The text as it is compared (case folded, accents removed), and for each of its characters
    the index of the character of `text` it came from."""
    folded, origin = [], []
    for index, char in enumerate(text):
        for part in unicodedata.normalize("NFD", char):
            if unicodedata.category(part) == "Mn":
                continue
            for piece in part.casefold():
                folded.append(piece)
                origin.append(index)
    return "".join(folded), origin


def marks(text, parsed):
    """Where the words are in `text`: sorted, merged [start, end) ranges of its characters."""
    folded, origin = _folded(text)
    found = []
    for word in parsed.words:
        needle = _folded(word)[0]
        if not needle:
            continue
        at = folded.find(needle)
        while at != -1:
            at_word_start = at == 0 or not _is_word_char(folded[at - 1])
            if parsed.anywhere or at_word_start:
                found.append([origin[at], origin[at + len(needle) - 1] + 1])
            at = folded.find(needle, at + 1)
    merged = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def snippet(text, ranges):
    """Up to SNIPPET characters of `text` around its first match, "…" where it was cut, and the
    ranges that fall in it, counted in the snippet."""
    if len(text) <= SNIPPET:
        return {"text": text, "ranges": ranges}
    first = ranges[0][0] if ranges else 0
    start = max(0, min(first - _LEAD, len(text) - SNIPPET))
    end = min(len(text), start + SNIPPET)
    before = "…" if start > 0 else ""
    shift = len(before) - start
    inside = [[max(s, start) + shift, min(e, end) + shift] for s, e in ranges if s < end and e > start]
    return {"text": before + text[start:end] + ("…" if end < len(text) else ""), "ranges": inside}
