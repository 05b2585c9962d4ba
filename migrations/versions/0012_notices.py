"""keeping supporters: the renewal and card-expiry notices written for each recurring gift

Revision ID: 0012_notices
Revises: 0011_recovery_more
Create Date: 2026-11-30 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_notices'
down_revision = '0011_recovery_more'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('recurring_support', schema=None) as batch_op:
        batch_op.add_column(sa.Column('renewal_notice_for', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('card_notice_for', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_recurring_support_current_period_end'), ['current_period_end'], unique=False)


def downgrade():
    with op.batch_alter_table('recurring_support', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recurring_support_current_period_end'))
        batch_op.drop_column('card_notice_for')
        batch_op.drop_column('renewal_notice_for')
