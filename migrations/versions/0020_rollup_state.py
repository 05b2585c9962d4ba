"""roll-up state: when the last roll-up finished (reports say "as of"), a data version

Revision ID: 0020_rollup_state
Revises: 0019_attribution
Create Date: 2026-11-30 03:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020_rollup_state'
down_revision = '0019_attribution'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('rollup_state',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rollup_state'))
    )


def downgrade():
    op.drop_table('rollup_state')
