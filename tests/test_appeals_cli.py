"""`flask appeals list|show|activate|end`."""
from supportapp.extensions import db
from supportapp.models import Appeal


def test_seeded_appeal_lifecycle(runner):
    """Seed makes one live appeal with two variants; end and activate change its status."""
    runner.invoke(args=["seed"])
    listing = runner.invoke(args=["appeals", "list"])
    assert "live" in listing.output and "(2 variants)" in listing.output
    appeal = db.session.scalars(db.select(Appeal)).one()
    shown = runner.invoke(args=["appeals", "show", str(appeal.id)])
    assert "(control)" in shown.output and "Since you" in shown.output
    assert runner.invoke(args=["appeals", "end", str(appeal.id)]).exit_code == 0
    db.session.expire_all()
    assert db.session.get(Appeal, appeal.id).status == "ended"
    assert runner.invoke(args=["appeals", "activate", str(appeal.id)]).exit_code == 0
    db.session.expire_all()
    assert db.session.get(Appeal, appeal.id).status == "live"


def test_unknown_appeal_is_clear_error(runner):
    """An unknown id is a clear message and a non-zero exit."""
    result = runner.invoke(args=["appeals", "end", "999"])
    assert result.exit_code != 0 and "no appeal with id 999" in result.output


def test_seed_variants_differ(runner):
    """The two seeded variants have different wording; the control says 'Since you're here'."""
    runner.invoke(args=["seed"])
    appeal = db.session.scalars(db.select(Appeal)).one()
    control = [v for v in appeal.variants if v.is_control]
    assert len(control) == 1 and control[0].heading.startswith("Since you")
    assert len({(v.heading, v.body) for v in appeal.variants}) == 2
