"""`flask --app app statements send --year 2026`: every supporter's year-end statement."""
import sys

import click

from supportapp.services.statements import (
    ALREADY,
    NO_GIFTS,
    QUEUED,
    UNUSABLE_ADDRESS,
    NobodyGave,
    YearRefused,
    plan_statements,
    queue_statement,
)

statements_cli = click.Group("statements", help="Year-end statements of supporters' gifts.")


@statements_cli.command("send")
@click.option("--year", type=int, required=True,
              help="The calendar year (UTC) whose gifts the statements list; it must be over.")
def send_statements(year):
    """Email every supporter who gave in YEAR one statement of their gifts, with a PDF copy.

    The statements are written to the outbox, and the worker sends them. Running it again
    writes nothing twice: each supporter gets one statement per year. Exits 2 for a year
    that cannot have statements (to come, or not over), and 1 when nobody gave that year:
    most likely the wrong year or the wrong database, which a script should notice.
    """
    try:
        run = plan_statements(year)
    except YearRefused as exc:
        raise click.BadParameter(str(exc), param_hint="'--year'") from exc
    except NobodyGave as exc:
        raise click.ClickException(str(exc)) from exc
    with click.progressbar(run.addresses, label=f"Statements for {year}", file=sys.stderr,
                           show_pos=True) as bar:
        for address in bar:
            run.outcomes[queue_statement(year, address)] += 1
    counts = run.outcomes
    click.echo(f"Statements for {year}: {counts[QUEUED]} queued now (the worker sends them), "
               f"{counts[ALREADY]} already queued or sent before.")
    skipped = (
        (counts[UNUSABLE_ADDRESS], "address that cannot receive email",
         "addresses that cannot receive email"),
        (counts[NO_GIFTS], "supporter whose data was erased meanwhile",
         "supporters whose data was erased meanwhile"),
        (run.without_address, "payment with no email address (erased, or never given)",
         "payments with no email address (erased, or never given)"))
    for count, one, many in skipped:
        if count:
            click.echo(f"Skipped: {count} {one if count == 1 else many}.")
    if not counts[QUEUED]:
        click.echo("Nothing new to send.")
