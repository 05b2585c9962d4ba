"""`flask seed` loads realistic demo content and can run twice."""
from lxml import html as lxml_html
from sqlalchemy import func, select

from supportapp.extensions import db
from supportapp.models import Story


def test_seed_is_idempotent(runner):
    """A second seed creates nothing new and changes no count."""
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    count = db.session.scalar(select(func.count()).select_from(Story))
    second = runner.invoke(args=["seed"])
    assert second.exit_code == 0, second.output
    assert db.session.scalar(select(func.count()).select_from(Story)) == count
    assert "0 created" in second.output


def test_seed_content_shape(runner):
    """At least eight stories over three sections, each 5-15 paragraphs long."""
    runner.invoke(args=["seed"])
    stories = db.session.scalars(select(Story)).all()
    assert len(stories) >= 8
    assert len({s.section for s in stories}) >= 3
    for story in stories:
        paragraphs = lxml_html.fragment_fromstring(story.body_html, create_parent="div")
        count = len(paragraphs.xpath("./p | ./blockquote/p"))
        assert 5 <= count <= 15, (story.slug, count)
