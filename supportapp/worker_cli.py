"""`flask --app app worker`: send the outbox, and run what else is due, until stopped."""
import logging
import signal
import threading

import click
from flask import current_app

from supportapp.services.worker import DEFAULT_INTERVAL_SECONDS, run_worker

log = logging.getLogger(__name__)


@click.command("worker")
@click.option("--once", is_flag=True,
              help="Do what is due now, then exit (for cron and tests).")
@click.option("--interval", type=click.FloatRange(min=0.1), default=DEFAULT_INTERVAL_SECONDS,
              show_default=True, help="Seconds between looks for due work.")
def worker_command(once, interval):
    """Send queued email over SMTP (SUPPORTAPP_MAIL_URL), retrying failures with backoff,
    and roll up tracked events for the reports (every few seconds:
    TRACKING_WORKER_ROLLUP_SECONDS).

    Ctrl-C or SIGTERM stops it after the message in flight. Any number of workers may run
    on PostgreSQL; run one on SQLite.
    """
    stop = threading.Event()
    # The handler only sets the flag, so a message being sent is finished, then recorded.
    # The work runs in a thread of its own: a handler runs in the main thread, and setting
    # the Event there while that thread held the Event's own lock (inside stop.wait) would
    # deadlock, and the worker would never stop.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    log.info("worker started (%s)", "once" if once else f"every {interval:g} s")
    app, failed = current_app._get_current_object(), []
    work = threading.Thread(target=_work, args=(app, stop, interval, once, failed),
                            name="worker")
    work.start()
    while work.is_alive():
        work.join(0.5)
    if failed:
        raise click.ClickException(f"the worker stopped on {failed[0]}")
    log.info("worker stopped")


def _work(app, stop, interval, once, failed):
    with app.app_context():
        try:
            run_worker(stop, interval=interval, once=once)
        except Exception as exc:  # the class only: its text may hold a reader's data
            failed.append(type(exc).__name__)
            raise
