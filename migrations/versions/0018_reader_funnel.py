"""reader funnel: each reader's stage per story, variant and day; views reported; page views

Revision ID: 0018_reader_funnel
Revises: 0017_allocation
Create Date: 2026-11-30 03:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018_reader_funnel'
down_revision = '0017_allocation'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('reader_funnel',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('reader_key', sa.String(length=80), nullable=False),
    sa.Column('story_id', sa.Integer(), nullable=False),
    sa.Column('variant_id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.Integer(), nullable=False),
    sa.Column('view_reported', sa.Boolean(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('day', 'reader_key', 'story_id', 'variant_id',
                            name=op.f('pk_reader_funnel'))
    )
    with op.batch_alter_table('reader_funnel', schema=None) as batch_op:
        batch_op.create_index('ix_reader_funnel_reader_day', ['reader_key', 'day'], unique=False)
    with op.batch_alter_table('daily_funnel', schema=None) as batch_op:
        batch_op.add_column(sa.Column('views_reported', sa.Integer(), server_default='0',
                                      nullable=False))
    for table in ('tracking_inbox', 'tracking_event'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('page_view', sa.String(length=64), nullable=True))


def downgrade():
    for table in ('tracking_event', 'tracking_inbox'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('page_view')
    with op.batch_alter_table('daily_funnel', schema=None) as batch_op:
        batch_op.drop_column('views_reported')
    with op.batch_alter_table('reader_funnel', schema=None) as batch_op:
        batch_op.drop_index('ix_reader_funnel_reader_day')
    op.drop_table('reader_funnel')
