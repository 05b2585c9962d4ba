"""appeal copy: a line for no supporters, a ticker threshold, count placeholders with nouns

Revision ID: 0006_appeal_copy
Revises: 0005_staff
Create Date: 2026-12-02 10:00:00

{article_count} and {supporter_count} now render with their noun ("1 story", "3 stories"),
so copy that wrote the noun itself ("{article_count} stories") loses it here, and the
demo appeal's old wording (`flask seed` before this revision) becomes the new seed's.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_appeal_copy'
down_revision = '0005_staff'
branch_labels = None
depends_on = None

# A placeholder followed by its noun, as copy wrote it before the noun came with the value.
NOUNS_AFTER = {
    "{article_count}": (" stories", " articles"),
    "{supporter_count}": (" supporters", " readers"),
}
NOUN_ON_DOWNGRADE = {"{article_count}": " stories", "{supporter_count}": " supporters"}
COPY_COLUMNS = {"heading": 300, "body": None, "cta_label": 100}  # column: its length limit

# The demo appeal as `flask seed` wrote it before, and as it writes it now.
OLD_SEED_LABEL = "Our goal: $25,000 from readers by year end"
NEW_SEED_LABEL = "Our goal: US$25,000 from readers by year end"
SEED_BODIES = {
    "<p>The Harbour Ledger is an independent newsroom, and readers are what keep us at "
    "council meetings, school board hearings and the water's edge in Port Alder. "
    "{supporter_count} of your neighbours already chip in so our reporting stays free for "
    "everyone. If this work matters to you, a contribution of any size helps.</p>": (
        "<p>The Harbour Ledger is an independent newsroom, and readers are what keep us at "
        "council meetings, school board hearings and the water's edge in Port Alder. They "
        "pay for that work, so our reporting stays free for everyone: so far we count "
        "{supporter_count} among your neighbours. If this work matters to you, a "
        "contribution of any size helps.</p>",
        "The Harbour Ledger is an independent newsroom, paid for by readers, not by an "
        "out-of-town owner. Be the first of your neighbours to chip in, and keep our "
        "reporting free for everyone."),
    "<p>Each one meant a reporter sitting through a hearing, reading a budget line by line "
    "or knocking on doors in Port Alder. That work is paid for by readers, not by an "
    "out-of-town owner. If those stories were useful to you, help make sure the next ones "
    "get written.</p>": (
        "<p>Every story here meant a reporter sitting through a hearing, reading a budget "
        "line by line or knocking on doors in Port Alder. That work is paid for by readers, "
        "not by an out-of-town owner. If our reporting is useful to you, help make sure the "
        "next story gets written.</p>",
        "Every story here meant a reporter sitting through a hearing, reading a budget line "
        "by line or knocking on doors in Port Alder. Be the first reader to chip in, and "
        "help make sure the next story gets written."),
}

appeal = sa.table("appeal", sa.column("id", sa.Integer), sa.column("goal_label", sa.String))
variant = sa.table(
    "appeal_variant", sa.column("id", sa.Integer), sa.column("heading", sa.String),
    sa.column("body", sa.Text), sa.column("cta_label", sa.String),
    sa.column("no_supporters_line", sa.String))


def _without_nouns(text):
    for placeholder, nouns in NOUNS_AFTER.items():
        for noun in nouns:
            text = text.replace(placeholder + noun, placeholder)
    return text


def _with_nouns(text):
    for placeholder, noun in NOUN_ON_DOWNGRADE.items():
        text = text.replace(placeholder, placeholder + noun)
    return text


def _rewrite_variants(conn, rewrite, seed_bodies):
    rows = conn.execute(sa.select(variant.c.id, *(variant.c[c] for c in COPY_COLUMNS)))
    for row in rows.mappings().all():
        changes = {}
        for column, limit in COPY_COLUMNS.items():
            text = row[column] or ""
            new = rewrite(text)
            if new != text and (limit is None or len(new) <= limit):
                changes[column] = new
        if seed_bodies and row["body"] in SEED_BODIES:
            changes["body"], changes["no_supporters_line"] = SEED_BODIES[row["body"]]
        if changes:
            conn.execute(variant.update().where(variant.c.id == row["id"]).values(**changes))


def upgrade():
    with op.batch_alter_table('appeal', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ticker_threshold_minor', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('appeal_variant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('no_supporters_line', sa.String(length=300), server_default='', nullable=False))

    conn = op.get_bind()
    _rewrite_variants(conn, _without_nouns, seed_bodies=True)
    conn.execute(appeal.update().where(appeal.c.goal_label == OLD_SEED_LABEL)
                 .values(goal_label=NEW_SEED_LABEL))


def downgrade():
    # The old code shows bare numbers: the noun goes back after each count placeholder.
    _rewrite_variants(op.get_bind(), _with_nouns, seed_bodies=False)

    with op.batch_alter_table('appeal_variant', schema=None) as batch_op:
        batch_op.drop_column('no_supporters_line')

    with op.batch_alter_table('appeal', schema=None) as batch_op:
        batch_op.drop_column('ticker_threshold_minor')
