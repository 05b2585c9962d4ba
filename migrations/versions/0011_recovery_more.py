"""keeping supporters: card-update links in failed-payment emails

Revision ID: 0011_recovery_more
Revises: 0010_recovery
Create Date: 2026-11-30 00:03:09.025657

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_recovery_more'
down_revision = '0010_recovery'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('card_update_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payment_failure_id', sa.Integer(), nullable=False),
    sa.Column('link_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['payment_failure_id'], ['payment_failure.id'], name=op.f('fk_card_update_link_payment_failure_id_payment_failure'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_card_update_link')),
    sa.UniqueConstraint('link_hash', name=op.f('uq_card_update_link_link_hash'))
    )
    with op.batch_alter_table('card_update_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_update_link_payment_failure_id'), ['payment_failure_id'], unique=False)



def downgrade():
    with op.batch_alter_table('card_update_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_card_update_link_payment_failure_id'))

    op.drop_table('card_update_link')
