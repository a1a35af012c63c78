"""operating: deleted accounts stay as tombstones; ended links found by age for retention

A deleted account keeps its row (the audit log and reports refer to it, and the audit log is
append-only): `deleted_at` marks it, and its lower-cased username stays taken until
`flask rooms cleanup` frees it HEARTLINK_USERNAME_RESERVED_DAYS later. Retention looks up ended
links by when they ended.

Revision ID: b7e31c2a9d40
Revises: 4856d5029303
Create Date: 2026-12-05 21:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e31c2a9d40'
down_revision = '4856d5029303'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deleted_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_users_deleted_at', ['deleted_at'], unique=False)
    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.create_index('ix_rooms_status_ended_at', ['status', 'ended_at'], unique=False)


def downgrade():
    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.drop_index('ix_rooms_status_ended_at')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_deleted_at')
        batch_op.drop_column('deleted_at')
