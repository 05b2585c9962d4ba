"""content version: one row whose stamp changes with any story, section or appeal change

Revision ID: 0021_content_version
Revises: 0020_rollup_state
Create Date: 2026-11-30 07:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021_content_version'
down_revision = '0020_rollup_state'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('content_version',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('stamp', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_version'))
    )
    # The row exists from the start, so two first changes never race to insert it.
    op.execute("INSERT INTO content_version (id, stamp) VALUES (1, 0)")


def downgrade():
    op.drop_table('content_version')
