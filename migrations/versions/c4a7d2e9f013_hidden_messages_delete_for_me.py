"""messages: "delete for me" hides a message for one member only

One row per (person, message) hidden; its primary key is the index the reads' NOT EXISTS uses.
Both keys cascade: a deleted message or account takes its rows with it.

Revision ID: c4a7d2e9f013
Revises: c41e7a9d2f60
Create Date: 2026-12-06 00:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4a7d2e9f013'
down_revision = 'c41e7a9d2f60'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'hidden_messages',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('hidden_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name='fk_hidden_messages_message_id_messages',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name='fk_hidden_messages_user_id_users',
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'message_id', name='pk_hidden_messages'),
    )
    # Deleting a message (retention, a deleted account's rows) finds its hidings by message.
    op.create_index('ix_hidden_messages_message_id', 'hidden_messages', ['message_id'], unique=False)


def downgrade():
    op.drop_index('ix_hidden_messages_message_id', table_name='hidden_messages')
    op.drop_table('hidden_messages')
