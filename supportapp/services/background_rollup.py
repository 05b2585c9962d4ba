"""The app's roll-up thread: folds tracked events into the report tables when no worker does.

Reports only read the daily funnels, so something must roll up at least every
TRACKING_ROLLUP_SECONDS. The worker (`flask worker`) does, as one of its jobs; without a
worker, each process of the app runs this daemon thread, started by its first request (so a
gunicorn worker forked from a preloading master starts its own). Every thread and worker looks
every half interval and rolls up only if nobody (in any process) has for half an interval,
so several processes share the work instead of repeating it: on PostgreSQL concurrent
roll-ups are safe anyway (SKIP LOCKED), and on SQLite the busy timeout serialises them; the
thread holds no lock of the app's while it waits for the database, so nothing deadlocks.
TRACKING_ROLLUP_SECONDS = 0 turns the thread off (tests, and deployments running a worker
that want no second writer).
"""
import atexit
import os
import threading
import weakref

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from supportapp.extensions import db
from supportapp.logs import log_throttled
from supportapp.services.tracking import roll_up_if_due

EXTENSION = "supportapp.background_rollup"
STOP_WAIT_SECONDS = 10


class BackgroundRollup:
    """One app's roll-up thread in this process: started once, stopped by stop() or at exit."""

    def __init__(self, app):
        self._app = app
        self._lock = threading.Lock()
        self._pid = None
        self._thread = None
        self._stop = threading.Event()

    def ensure_started(self):
        """Start the thread in this process unless it runs or the setting turns it off."""
        seconds = self._app.config["TRACKING_ROLLUP_SECONDS"]
        if seconds <= 0 or self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            # A forked process inherits the flag but not the thread: it starts its own.
            self._pid, self._stop = os.getpid(), threading.Event()
            me = weakref.ref(self)  # the thread must not keep the app alive
            self._thread = threading.Thread(target=_run, args=(me, self._stop, seconds / 2),
                                            daemon=True, name="background-rollup")
            self._thread.start()
            atexit.register(_stop_at_exit, me)

    @property
    def running(self):
        """True while this process's thread lives."""
        return self._thread is not None and self._thread.is_alive() and \
            self._pid == os.getpid()

    def stop(self, timeout=STOP_WAIT_SECONDS):
        """Ask the thread to finish after the batch in hand, and wait for it."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread() and \
                self._pid == os.getpid():
            thread.join(timeout)

    def run_once(self, stop):
        """One look: roll up if due; failures are logged, and the next look retries."""
        with self._app.app_context():
            try:
                roll_up_if_due(stop)
            except SQLAlchemyError as exc:
                db.session.rollback()
                # The class only: a database error's text carries the statement's values.
                log_throttled(self._app, self._app.logger, "background-rollup",
                              "roll-up failed on the database (%s); trying again",
                              type(exc).__name__)
            except Exception:  # the thread must live on
                db.session.rollback()
                self._app.logger.exception("roll-up failed")
            finally:
                db.session.remove()


def _run(rollup_ref, stop, interval):
    while not stop.wait(interval):
        rollup = rollup_ref()
        if rollup is None:
            return  # its app is gone
        rollup.run_once(stop)
        del rollup


def _stop_at_exit(rollup_ref):
    # gunicorn's graceful stop, Ctrl-C: let a roll-up in hand finish its batch.
    rollup = rollup_ref()
    if rollup is not None:
        rollup.stop()


def init_app(app):
    """Give the app its roll-up thread (started by its first request) and the hook that
    starts it."""
    rollup = app.extensions[EXTENSION] = BackgroundRollup(app)
    app.before_request(rollup.ensure_started)


def background_rollup(app=None):
    """The roll-up thread of an app (the current one by default)."""
    return (app or current_app).extensions[EXTENSION]
