"""manage my support: sign-in links and sessions; paused recurring gifts

Revision ID: 0009_manage
Revises: 0008_outbox
Create Date: 2026-11-30 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_manage'
down_revision = '0008_outbox'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('support_sign_in',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('link_hash', sa.String(length=64), nullable=False),
    sa.Column('session_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_sign_in')),
    sa.UniqueConstraint('link_hash', name=op.f('uq_support_sign_in_link_hash')),
    sa.UniqueConstraint('session_hash', name=op.f('uq_support_sign_in_session_hash'))
    )
    with op.batch_alter_table('support_sign_in', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_sign_in_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_support_sign_in_expires_at'), ['expires_at'], unique=False)

    with op.batch_alter_table('recurring_support', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paused', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('paused_until', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('recurring_support', schema=None) as batch_op:
        batch_op.drop_column('paused_until')
        batch_op.drop_column('paused')

    with op.batch_alter_table('support_sign_in', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_sign_in_expires_at'))
        batch_op.drop_index(batch_op.f('ix_support_sign_in_email'))

    op.drop_table('support_sign_in')
