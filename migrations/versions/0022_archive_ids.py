"""archive ids: tracking_event numbers its own rows (journal batches skip the inbox)

Revision ID: 0022_archive_ids
Revises: 0021_content_version
Create Date: 2026-11-30 23:55:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0022_archive_ids'
down_revision = '0021_content_version'
branch_labels = None
depends_on = None


def upgrade():
    # SQLite: an INTEGER PRIMARY KEY already numbers new rows itself (max + 1).
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE SEQUENCE tracking_event_id_seq OWNED BY tracking_event.id")
    op.execute("SELECT setval('tracking_event_id_seq', "
               "COALESCE((SELECT max(id) FROM tracking_event), 0) + 1, false)")
    op.execute("ALTER TABLE tracking_event "
               "ALTER COLUMN id SET DEFAULT nextval('tracking_event_id_seq')")


def downgrade():
    # The code before this gave archive rows their inbox ids: the inbox's numbers must
    # start past every archive row, or a moved row would collide with one numbered here.
    if op.get_bind().dialect.name != "postgresql":
        op.execute("INSERT INTO sqlite_sequence (name, seq) SELECT 'tracking_inbox', 0 "
                   "WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence "
                   "WHERE name = 'tracking_inbox')")
        op.execute("UPDATE sqlite_sequence SET seq = max(seq, (SELECT COALESCE(max(id), 0) "
                   "FROM tracking_event)) WHERE name = 'tracking_inbox'")
        return
    op.execute("SELECT setval('tracking_inbox_id_seq', GREATEST("
               "(SELECT last_value FROM tracking_inbox_id_seq), "
               "(SELECT COALESCE(max(id), 1) FROM tracking_event)))")
    op.execute("ALTER TABLE tracking_event ALTER COLUMN id DROP DEFAULT")
    op.execute("DROP SEQUENCE tracking_event_id_seq")
