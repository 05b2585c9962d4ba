"""The worker's loop: run every due job, wait, again, until told to stop.

`flask --app app worker` runs it. A job is a function `job(stop)` that does the work due
now and returns early once `stop` (a threading.Event) is set; jobs run one after another,
so none may run long without looking at `stop`. Scheduled work (roll-ups, follow-ups,
reminders) joins the outbox here, as one more function in JOBS.
"""
import logging
import traceback

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from supportapp.extensions import db
from supportapp.logs import log_throttled
from supportapp.services.bandit_reweighting import reweight_bandits
from supportapp.services.mail_worker import send_due_mail
from supportapp.services.notices import send_card_expiry_notices, send_renewal_notices
from supportapp.services.recovery import send_due_followups
from supportapp.services.reminders import send_due_reminders
from supportapp.services.tracking import roll_up_often

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_SECONDS = 2.0
# Jobs that write email come before the one that sends it, so a pass sends what it wrote.
# The roll-up (reports read only what it folded) acts at most every half
# TRACKING_WORKER_ROLLUP_SECONDS.
JOBS = (roll_up_often, send_due_reminders, send_due_followups, send_renewal_notices,
        send_card_expiry_notices, send_due_mail, reweight_bandits)


def run_due_jobs(stop, jobs=JOBS):
    """Run each job once; one that fails is logged, and the next one still runs."""
    for job in jobs:
        if stop.is_set():
            return
        try:
            job(stop)
        except SQLAlchemyError as exc:
            db.session.rollback()
            # The class only: a database error's text carries the statement's values.
            log_throttled(current_app, log, f"worker-db:{job.__name__}",
                          "worker: %s failed on the database (%s); trying again",
                          job.__name__, type(exc).__name__)
        except Exception as exc:
            db.session.rollback()
            # Where it failed, without the message, which may hold a reader's data.
            log.error("worker: %s failed with %s\n%s", job.__name__, type(exc).__name__,
                      "".join(traceback.format_tb(exc.__traceback__)).rstrip())


def run_worker(stop, interval=DEFAULT_INTERVAL_SECONDS, once=False, jobs=JOBS):
    """Run the due jobs every `interval` seconds until `stop` is set (or once)."""
    while True:
        run_due_jobs(stop, jobs)
        # End the pass's last read: an open transaction while it waits would hold back
        # PostgreSQL's clean-up of the rows roll-ups delete (the inbox), and bloat it.
        db.session.rollback()
        if once or stop.wait(interval):
            return
