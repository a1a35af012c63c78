"""search in a link's history: a full-text index of messages' text

On SQLite an FTS5 table over `messages` (external content: it stores only the index), kept in
step by triggers on insert, update (an edit, a deletion for everyone, an account's messages
made tombstones) and delete (retention, a room removed); on PostgreSQL a GIN index on
to_tsvector('simple', text). Either is filled for the messages already stored.
heartlink/domain/search.py reads them; docs/decisions.md says why these tokenizers.

Revision ID: 5e4c1d7a9b20
Revises: bf265a495814
Create Date: 2026-12-06 00:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5e4c1d7a9b20'
down_revision = 'bf265a495814'
branch_labels = None
depends_on = None

# Only what can be found is indexed: a message with text (a caption too) that is not deleted. The
# triggers' conditions and the fill below say the same, so a 'delete' always removes what was added.
_INDEXED = "{row}.text IS NOT NULL AND NOT {row}.deleted"

_SQLITE = [
    "CREATE VIRTUAL TABLE messages_fts USING fts5(text, room_id, content='messages', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    f"""CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN {_INDEXED.format(row='new')} BEGIN
        INSERT INTO messages_fts (rowid, text, room_id) VALUES (new.id, new.text, new.room_id);
    END""",
    f"""CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN {_INDEXED.format(row='old')} BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, text, room_id) VALUES ('delete', old.id, old.text, old.room_id);
    END""",
    f"""CREATE TRIGGER messages_fts_update AFTER UPDATE OF text, deleted, room_id ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, text, room_id)
            SELECT 'delete', old.id, old.text, old.room_id WHERE {_INDEXED.format(row='old')};
        INSERT INTO messages_fts (rowid, text, room_id)
            SELECT new.id, new.text, new.room_id WHERE {_INDEXED.format(row='new')};
    END""",
    f"INSERT INTO messages_fts (rowid, text, room_id) SELECT id, text, room_id FROM messages "
    f"WHERE {_INDEXED.format(row='messages')}",
]

# The expression must be the one heartlink/domain/search.py queries with, or the index goes unused.
_POSTGRESQL = ["CREATE INDEX ix_messages_text_search ON messages USING gin (to_tsvector('simple'::regconfig, text))"]


def upgrade():
    dialect = op.get_bind().dialect.name
    for statement in _SQLITE if dialect == "sqlite" else _POSTGRESQL:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("messages_fts_insert", "messages_fts_delete", "messages_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS messages_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_messages_text_search")
