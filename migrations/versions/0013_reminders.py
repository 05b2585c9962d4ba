"""remind me later: reminder, the reminder that won a gift, an email's own headers

Revision ID: 0013_reminders
Revises: 0010_recovery
Create Date: 2026-11-29 23:56:28.089622

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_reminders'
down_revision = '0010_recovery'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('reminder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('unsubscribed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('skipped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('story_id', sa.Integer(), nullable=True),
    sa.Column('appeal_id', sa.Integer(), nullable=True),
    sa.Column('variant_id', sa.Integer(), nullable=True),
    sa.Column('reader_id', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeal.id'], name=op.f('fk_reminder_appeal_id_appeal'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['story_id'], ['story.id'], name=op.f('fk_reminder_story_id_story'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['variant_id'], ['appeal_variant.id'], name=op.f('fk_reminder_variant_id_appeal_variant'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder')),
    sa.UniqueConstraint('email', 'month', name=op.f('uq_reminder_email')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_appeal_id'), ['appeal_id'], unique=False)
        batch_op.create_index('ix_reminder_month_due', ['month', 'sent_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminder_story_id'), ['story_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminder_variant_id'), ['variant_id'], unique=False)

    with op.batch_alter_table('contribution', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_contribution_reminder_id'), ['reminder_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_contribution_reminder_id_reminder'), 'reminder', ['reminder_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('headers', sa.JSON(), nullable=True))

    with op.batch_alter_table('recurring_support', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_recurring_support_reminder_id'), ['reminder_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_recurring_support_reminder_id_reminder'), 'reminder', ['reminder_id'], ['id'], ondelete='SET NULL')



def downgrade():
    with op.batch_alter_table('recurring_support', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_recurring_support_reminder_id_reminder'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_recurring_support_reminder_id'))
        batch_op.drop_column('reminder_id')

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('headers')

    with op.batch_alter_table('contribution', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_contribution_reminder_id_reminder'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_contribution_reminder_id'))
        batch_op.drop_column('reminder_id')

    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_variant_id'))
        batch_op.drop_index(batch_op.f('ix_reminder_story_id'))
        batch_op.drop_index('ix_reminder_month_due')
        batch_op.drop_index(batch_op.f('ix_reminder_appeal_id'))

    op.drop_table('reminder')
