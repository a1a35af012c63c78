"""matching controls: interests, languages, the reveal

Tickets carry interests and languages (also as rows of their own, found by index), rooms the
interests the two shared and the state of the gradual reveal. Links that exist before this
revision were never veiled: they count as revealed since they were made.

Revision ID: bf265a495814
Revises: b7e31c2a9d40
Create Date: 2026-12-05 21:28:28.251278

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'bf265a495814'
down_revision = 'b7e31c2a9d40'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('match_ticket_interests',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('interest', sa.String(length=24), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['match_tickets.user_id'], name=op.f('fk_match_ticket_interests_user_id_match_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'interest', name=op.f('pk_match_ticket_interests'))
    )
    with op.batch_alter_table('match_ticket_interests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_ticket_interests_interest'), ['interest'], unique=False)

    op.create_table('match_ticket_languages',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['match_tickets.user_id'], name=op.f('fk_match_ticket_languages_user_id_match_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'language', name=op.f('pk_match_ticket_languages'))
    )
    with op.batch_alter_table('match_ticket_languages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_ticket_languages_language'), ['language'], unique=False)

    with op.batch_alter_table('match_tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('interests', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('languages', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('only_shared', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('open_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('looked_again', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.create_index('ix_match_tickets_looked_again_open_at', ['looked_again', 'open_at'], unique=False)

    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shared_interests', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('reveal_after', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('revealed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('first_sent', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('second_sent', sa.Integer(), server_default='0', nullable=False))
    op.execute("UPDATE rooms SET revealed_at = created_at")

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('interests', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('match_settings', sa.JSON(), nullable=True))



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('match_settings')
        batch_op.drop_column('interests')

    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.drop_column('second_sent')
        batch_op.drop_column('first_sent')
        batch_op.drop_column('revealed_at')
        batch_op.drop_column('reveal_after')
        batch_op.drop_column('shared_interests')

    with op.batch_alter_table('match_tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_match_tickets_looked_again_open_at')
        batch_op.drop_column('looked_again')
        batch_op.drop_column('open_at')
        batch_op.drop_column('only_shared')
        batch_op.drop_column('languages')
        batch_op.drop_column('interests')

    with op.batch_alter_table('match_ticket_languages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_ticket_languages_language'))

    op.drop_table('match_ticket_languages')
    with op.batch_alter_table('match_ticket_interests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_ticket_interests_interest'))

    op.drop_table('match_ticket_interests')
