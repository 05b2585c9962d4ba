"""`flask tracking rollup`: fold accepted beacon events into the daily report tables."""
import click

from supportapp.services.tracking import last_rollup, roll_up

tracking_cli = click.Group("tracking", help="Appeal tracking maintenance.")


@tracking_cli.command("rollup")
def rollup_command():
    """Count every accepted event into the archive and the daily funnels (safe to run often)."""
    moved = roll_up()
    finished = last_rollup().finished_at
    click.echo(f"Rolled up {moved} events; reports are as of {finished:%Y-%m-%d %H:%M} UTC.")
