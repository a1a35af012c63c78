"""voice note waveforms

A voice note's loudness in 64 bars (0-255), measured once at upload and kept with its
attachment as base64 (88 characters). Uploads before this revision, and voice notes whose
sound could not be read, have none.

Revision ID: c41e7a9d2f60
Revises: 5e4c1d7a9b20
Create Date: 2026-12-06 00:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c41e7a9d2f60'
down_revision = '5e4c1d7a9b20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('waveform', sa.String(length=88), nullable=True))


def downgrade():
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_column('waveform')
