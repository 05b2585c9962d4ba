"""holdback share per appeal; direct or influenced credit on gifts and recurring supports

Revision ID: 0019_attribution
Revises: 0018_reader_funnel
Create Date: 2026-11-30 03:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019_attribution'
down_revision = '0018_reader_funnel'
branch_labels = None
depends_on = None

CREDITED = (('story', 'story'), ('appeal', 'appeal'), ('variant', 'appeal_variant'))


def _add_credit(table):
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.add_column(sa.Column('attribution_kind', sa.String(length=12), nullable=True))
        for name, target in CREDITED:
            column = f'credited_{name}_id'
            batch_op.add_column(sa.Column(column, sa.Integer(), nullable=True))
            batch_op.create_index(batch_op.f(f'ix_{table}_{column}'), [column], unique=False)
            batch_op.create_foreign_key(batch_op.f(f'fk_{table}_{column}_{target}'), target,
                                        [column], ['id'], ondelete='SET NULL')


def _drop_credit(table):
    with op.batch_alter_table(table, schema=None) as batch_op:
        for name, target in CREDITED:
            column = f'credited_{name}_id'
            batch_op.drop_constraint(batch_op.f(f'fk_{table}_{column}_{target}'),
                                     type_='foreignkey')
            batch_op.drop_index(batch_op.f(f'ix_{table}_{column}'))
            batch_op.drop_column(column)
        batch_op.drop_column('attribution_kind')


def upgrade():
    with op.batch_alter_table('appeal', schema=None) as batch_op:
        batch_op.add_column(sa.Column('holdback_percent', sa.Integer(), nullable=False,
                                      server_default='5'))
    _add_credit('contribution')
    _add_credit('recurring_support')


def downgrade():
    _drop_credit('recurring_support')
    _drop_credit('contribution')
    with op.batch_alter_table('appeal', schema=None) as batch_op:
        batch_op.drop_column('holdback_percent')
