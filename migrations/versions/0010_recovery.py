"""keeping supporters: failed renewals (payment_failure) and the card's expiry on recurring_support

Revision ID: 0010_recovery
Revises: 0009_manage
Create Date: 2026-11-29 23:53:26.203580

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_recovery'
down_revision = '0009_manage'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('payment_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recurring_support_id', sa.Integer(), nullable=False),
    sa.Column('stripe_invoice_id', sa.String(length=255), nullable=False),
    sa.Column('amount_minor', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('first_failed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_failed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=100), nullable=True),
    sa.Column('attempt_count', sa.Integer(), nullable=False),
    sa.Column('next_retry_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recovered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lost_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('followups_sent', sa.Integer(), nullable=False),
    sa.Column('next_followup_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['recurring_support_id'], ['recurring_support.id'], name=op.f('fk_payment_failure_recurring_support_id_recurring_support'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_failure')),
    sa.UniqueConstraint('stripe_invoice_id', name=op.f('uq_payment_failure_stripe_invoice_id'))
    )
    with op.batch_alter_table('payment_failure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_failure_first_failed_at'), ['first_failed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_failure_lost_at'), ['lost_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_failure_next_followup_at'), ['next_followup_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_failure_recovered_at'), ['recovered_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_failure_recurring_support_id'), ['recurring_support_id'], unique=False)

    with op.batch_alter_table('recurring_support', schema=None) as batch_op:
        batch_op.add_column(sa.Column('card_exp_month', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('card_exp_year', sa.Integer(), nullable=True))



def downgrade():
    with op.batch_alter_table('recurring_support', schema=None) as batch_op:
        batch_op.drop_column('card_exp_year')
        batch_op.drop_column('card_exp_month')

    with op.batch_alter_table('payment_failure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_failure_recurring_support_id'))
        batch_op.drop_index(batch_op.f('ix_payment_failure_recovered_at'))
        batch_op.drop_index(batch_op.f('ix_payment_failure_next_followup_at'))
        batch_op.drop_index(batch_op.f('ix_payment_failure_lost_at'))
        batch_op.drop_index(batch_op.f('ix_payment_failure_first_failed_at'))

    op.drop_table('payment_failure')
