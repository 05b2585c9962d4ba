"""money net of fees: Stripe's fee on each payment, dispute withdrawals and dispute fees

Revision ID: 0016_fees
Revises: 0015_appeal_audit
Create Date: 2026-11-30 03:20:00

Existing payments keep fee_minor NULL: their fee is unknown (reports say so), never 0.
"""
from alembic import op
import sqlalchemy as sa


revision = '0016_fees'
down_revision = '0015_appeal_audit'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('contribution', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fee_minor', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('disputed_minor', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('dispute_fee_minor', sa.Integer(), nullable=False,
                                      server_default='0'))


def downgrade():
    with op.batch_alter_table('contribution', schema=None) as batch_op:
        batch_op.drop_column('dispute_fee_minor')
        batch_op.drop_column('disputed_minor')
        batch_op.drop_column('fee_minor')
