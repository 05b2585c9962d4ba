"""tracking: event inbox and archive, dedup keys, daily funnels

Revision ID: 0004_tracking
Revises: 0003_contributions
Create Date: 2026-11-25 12:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_tracking'
down_revision = '0003_contributions'
branch_labels = None
depends_on = None

EVENT_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def _event_columns():
    return [
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('story_id', sa.Integer(), nullable=False),
        sa.Column('appeal_id', sa.Integer(), nullable=False),
        sa.Column('variant_id', sa.Integer(), nullable=False),
        sa.Column('reader_id', sa.String(length=64), nullable=True),
    ]


def upgrade():
    op.create_table('daily_funnel',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('story_id', sa.Integer(), nullable=False),
    sa.Column('variant_id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('rendered', sa.Integer(), nullable=False),
    sa.Column('viewable', sa.Integer(), nullable=False),
    sa.Column('clicks', sa.Integer(), nullable=False),
    sa.Column('checkouts', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'story_id', 'variant_id', name=op.f('pk_daily_funnel'))
    )
    with op.batch_alter_table('daily_funnel', schema=None) as batch_op:
        batch_op.create_index('ix_daily_funnel_appeal_day', ['appeal_id', 'day'], unique=False)
        batch_op.create_index('ix_daily_funnel_story_day', ['story_id', 'day'], unique=False)

    op.create_table('tracking_dedup',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_tracking_dedup'))
    )
    with op.batch_alter_table('tracking_dedup', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tracking_dedup_day'), ['day'], unique=False)

    op.create_table('tracking_event',
    sa.Column('id', EVENT_ID, autoincrement=False, nullable=False),
    *_event_columns(),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracking_event'))
    )
    with op.batch_alter_table('tracking_event', schema=None) as batch_op:
        batch_op.create_index('ix_tracking_event_day', ['day'], unique=False)

    op.create_table('tracking_inbox',
    sa.Column('id', EVENT_ID, autoincrement=True, nullable=False),
    *_event_columns(),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracking_inbox')),
    sqlite_autoincrement=True,
    )


def downgrade():
    op.drop_table('tracking_inbox')
    with op.batch_alter_table('tracking_event', schema=None) as batch_op:
        batch_op.drop_index('ix_tracking_event_day')
    op.drop_table('tracking_event')
    with op.batch_alter_table('tracking_dedup', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tracking_dedup_day'))
    op.drop_table('tracking_dedup')
    with op.batch_alter_table('daily_funnel', schema=None) as batch_op:
        batch_op.drop_index('ix_daily_funnel_story_day')
        batch_op.drop_index('ix_daily_funnel_appeal_day')
    op.drop_table('daily_funnel')
