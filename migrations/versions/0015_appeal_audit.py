"""appeal audit log: every change to an appeal or its variants (appeal_change)

Revision ID: 0015_appeal_audit
Revises: 0014_statements
Create Date: 2026-11-30 03:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_appeal_audit'
down_revision = '0014_statements'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('appeal_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=320), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('diff', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal_change'))
    )
    with op.batch_alter_table('appeal_change', schema=None) as batch_op:
        batch_op.create_index('ix_appeal_change_appeal_id_at', ['appeal_id', 'at'], unique=False)


def downgrade():
    with op.batch_alter_table('appeal_change', schema=None) as batch_op:
        batch_op.drop_index('ix_appeal_change_appeal_id_at')

    op.drop_table('appeal_change')
