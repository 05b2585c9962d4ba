"""`flask --app app stripe sync --since YYYY-MM-DD`: apply Stripe events a webhook outage missed."""
import sys
from datetime import UTC, datetime

import click
from flask.cli import AppGroup

from supportapp.services.payment_fees import backfill_fees
from supportapp.services.payments import PaymentsRejected, PaymentsUnavailable
from supportapp.services.stripe_events import RetryLater, fetch_events, sync_event

# AppGroup: its commands run inside this app's context, however they are invoked.
stripe_cli = AppGroup("stripe", help="Work with Stripe (or the local emulator).")


def _date(_ctx, _param, value):
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; write it as YYYY-MM-DD, "
                                 "for example 2026-11-01") from None


@stripe_cli.command("sync")
@click.option("--since", required=True, callback=_date, metavar="YYYY-MM-DD",
              help="Replay events created on or after this day (UTC).")
def sync_command(since):
    """Page through Stripe's events since a day and apply any that are missing here."""
    try:
        events = fetch_events(since)
    except (PaymentsUnavailable, PaymentsRejected) as exc:
        raise click.ClickException(f"could not list events from Stripe ({exc}); "
                                   "check STRIPE_SECRET_KEY / STRIPE_API_BASE") from None
    counts = {"applied": 0, "known": 0, "failed": 0}
    with click.progressbar(events, label=f"Stripe events since {since:%Y-%m-%d}",
                           file=sys.stderr) as bar:
        for event in bar:
            try:
                counts[sync_event(event)] += 1
            except RetryLater:
                counts["failed"] += 1
    click.echo(f"Seen {len(events)} events: {counts['applied']} applied, "
               f"{counts['known']} already known, {counts['failed']} failed.")
    if counts["failed"]:
        raise SystemExit(1)


@stripe_cli.command("fees")
def fees_command():
    """Ask Stripe for the fee of each payment recorded without one (before fees were)."""
    try:
        count = backfill_fees()
    except PaymentsUnavailable:
        raise click.ClickException("Stripe could not be reached; the fees found so far are "
                                   "kept, run it again later to go on") from None
    click.echo(f"Fees recorded for {count.recorded} payments; "
               f"{count.unknown} still unknown (Stripe had no balance transaction for them "
               "in their currency).")
