"""profiles: avatar, privacy and language settings; kept links

Revision ID: 8af1f0940c98
Revises: 3b058fdbf456
Create Date: 2026-12-01 22:37:42.563495

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8af1f0940c98'
down_revision = '3b058fdbf456'
branch_labels = None
depends_on = None


def upgrade():
    # sa.true()/sa.false() render as 1/0 on SQLite and true/false on PostgreSQL.
    with op.batch_alter_table('room_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kept', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('avatar_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('avatar_mime', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('read_receipts', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('show_presence', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('language')
        batch_op.drop_column('show_presence')
        batch_op.drop_column('read_receipts')
        batch_op.drop_column('avatar_mime')
        batch_op.drop_column('avatar_id')

    with op.batch_alter_table('room_members', schema=None) as batch_op:
        batch_op.drop_column('kept')

