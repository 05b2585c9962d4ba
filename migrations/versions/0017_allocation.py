"""bandit allocation: an appeal's allocation mode and floor share, and the bandit's shares

Revision ID: 0017_allocation
Revises: 0016_fees
Create Date: 2026-11-30 03:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_allocation'
down_revision = '0016_fees'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('appeal', schema=None) as batch_op:
        batch_op.add_column(sa.Column('allocation', sa.String(length=10), server_default='fixed',
                                      nullable=False))
        batch_op.add_column(sa.Column('floor_percent', sa.Integer(), server_default='0',
                                      nullable=False))
    op.create_table('bandit_allocation',
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('shares', sa.JSON(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('day', sa.Date(), nullable=True),
    sa.Column('day_shares', sa.JSON(), nullable=False),
    sa.Column('impressions', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeal.id'], name=op.f('fk_bandit_allocation_appeal_id_appeal'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('appeal_id', name=op.f('pk_bandit_allocation'))
    )


def downgrade():
    op.drop_table('bandit_allocation')
    with op.batch_alter_table('appeal', schema=None) as batch_op:
        batch_op.drop_column('floor_percent')
        batch_op.drop_column('allocation')
