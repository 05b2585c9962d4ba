"""`flask appeals list|show|activate|end`: managing appeals before the dashboard can."""
import click
from sqlalchemy import select

from supportapp.extensions import db
from supportapp.models import Appeal
from supportapp.services.appeal_audit import command_line_actor
from supportapp.services.appeals import AppealError, set_appeal_status
from supportapp.services.money import format_money

appeals_cli = click.Group("appeals", help="List, inspect, start and end appeals.")


@appeals_cli.command("list")
def list_appeals():
    """One line per appeal: id, status, name, variants."""
    appeals = db.session.scalars(select(Appeal).order_by(Appeal.id)).all()
    if not appeals:
        click.echo("No appeals yet. `flask --app app seed` creates a demo appeal.")
    for appeal in appeals:
        click.echo(f"{appeal.id:>4}  {appeal.status:<6} {appeal.name}  "
                   f"({len(appeal.variants)} variants)")


def _get(appeal_id):
    appeal = db.session.get(Appeal, appeal_id)
    if appeal is None:
        raise click.ClickException(f"no appeal with id {appeal_id}")
    return appeal


@appeals_cli.command("show")
@click.argument("appeal_id", type=int)
def show_appeal(appeal_id):
    """Everything about one appeal and its variants."""
    appeal = _get(appeal_id)
    where = "end of story" if not appeal.placement_paragraph else \
        f"after paragraph {appeal.placement_paragraph}"
    click.echo(f"Appeal {appeal.id}: {appeal.name} [{appeal.status}]")
    click.echo(f"  placement: {where}")
    excluded = ", ".join(appeal.excluded_sections) or "none"
    click.echo(f"  sections: {', '.join(appeal.target_sections) or 'all'}; excluded: {excluded}")
    click.echo(f"  runs: {appeal.starts_at or 'now'} to {appeal.ends_at or 'open-ended'}")
    if appeal.goal_amount_minor:
        click.echo(f"  goal: {format_money(appeal.goal_amount_minor, appeal.goal_currency)}")
    for v in appeal.variants:
        click.echo(f"  variant {v.id} {v.name!r}{' (control)' if v.is_control else ''}: "
                   f"weight {v.weight}, default {v.default_frequency}")
        click.echo(f"    heading: {v.heading}")
        click.echo(f"    cta: {v.cta_label}")


def _set_status(appeal_id, status):
    _get(appeal_id)
    try:
        appeal = set_appeal_status(appeal_id, status, command_line_actor())
    except AppealError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Appeal {appeal.id} is now {appeal.status}.")


@appeals_cli.command("activate")
@click.argument("appeal_id", type=int)
def activate_appeal(appeal_id):
    """Make an appeal live (readers see it within the appeal cache time)."""
    _set_status(appeal_id, "live")


@appeals_cli.command("end")
@click.argument("appeal_id", type=int)
def end_appeal(appeal_id):
    """End an appeal; readers stop seeing it."""
    _set_status(appeal_id, "ended")
