"""offer counts: the one-off -> monthly offer shown and accepted, per day, story and variant

Revision ID: 0007_offer_counts
Revises: 0006_appeal_copy
Create Date: 2026-11-29 23:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_offer_counts'
down_revision = '0006_appeal_copy'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('daily_funnel', schema=None) as batch_op:
        batch_op.add_column(sa.Column('offers_shown', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('offers_accepted', sa.Integer(), server_default='0',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('daily_funnel', schema=None) as batch_op:
        batch_op.drop_column('offers_accepted')
        batch_op.drop_column('offers_shown')
