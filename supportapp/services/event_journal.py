"""A per-process, append-only journal between the beacon and the database.

A beacon's events are one line appended to this process's journal file (one `write`; once
it returns, the line is the operating system's, so it survives the process being killed).
About every second a background thread closes the file, marks it ready and loads ready files
into the database in batches; any process of the same host also loads the files of a
process that died. Each batch is recorded under a key of its own, so a file loaded twice
(a crash between the commit and the file's removal) counts once.
"""
import atexit
import hashlib
import json
import os
import re
import secrets
import socket
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from supportapp.services.tracking import TrackedEvent, record_events

HOST = re.sub(r"[^A-Za-z0-9_]", "_", socket.gethostname())  # no "-" or "." in file names
BATCH_EVENTS = 1000
FIELDS = ("kind", "story_id", "appeal_id", "variant_id", "reader_id", "dedup_key")


def _line(events):
    at = datetime.now(UTC).isoformat()
    rows = [[getattr(e, f) for f in FIELDS] for e in events]
    return (json.dumps({"at": at, "events": rows}, separators=(",", ":")) + "\n").encode()


def _events_in(path):
    """Events of every complete line; a torn last line (a crash mid-write) is skipped."""
    events = []
    for raw in Path(path).read_bytes().splitlines():
        try:
            line = json.loads(raw)
            at = datetime.fromisoformat(line["at"])
            events.extend(TrackedEvent(*row, at=at) for row in line["events"])
        except (ValueError, KeyError, TypeError):
            continue
    return events


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _owner(name):
    """(host, pid, incarnation) of a journal file's process now: its claimer, else its writer.

    The incarnation tells a process apart from an earlier one that had the same pid.
    """
    try:
        if ".claimed-" in name:
            host, pid, incarnation = name.split(".claimed-", 1)[1].split("-")
        else:
            _prefix, host, pid, incarnation = name.split(".", 1)[0].split("-")
        return host, int(pid), incarnation.split("_")[0]
    except ValueError:
        return None, None, None  # not one of ours


def journal_directory(app):
    """The configured folder, else one per database under instance/: a journal's lines
    carry no database name, so two databases must never share a folder."""
    configured = app.config["TRACKING_JOURNAL_DIR"]
    if configured:
        return configured
    digest = hashlib.sha256(app.config["SQLALCHEMY_DATABASE_URI"].encode()).hexdigest()[:12]
    return str(Path(app.instance_path) / f"tracking-journal-{digest}")


class EventJournal:
    def __init__(self):
        self._lock = threading.Lock()
        self._fd = self._path = self._pid = self._directory = self._app = None
        self._incarnation = secrets.token_hex(4)
        self._sequence = 0

    def append(self, events, app, directory, interval):
        """Append one line for these events; raises OSError if the file cannot be written."""
        line = _line(events)
        with self._lock:
            self._app = app
            if self._pid != os.getpid():
                self._start(interval)
            if self._directory != directory:
                self._close_current()
                self._directory = directory
                Path(directory).mkdir(parents=True, exist_ok=True)
            if self._fd is None:
                self._open()
            os.write(self._fd, line)

    def _start(self, interval):
        # A new process (or a forked worker): its own file and its own flusher thread.
        self._fd = self._path = None
        self._pid = os.getpid()
        self._incarnation = secrets.token_hex(4)
        threading.Thread(target=self._run, args=(interval,), daemon=True,
                         name="event-journal").start()

    def _open(self):
        self._sequence += 1
        name = f"events-{HOST}-{self._pid}-{self._incarnation}_{self._sequence}.jsonl"
        self._path = os.path.join(self._directory, name)
        self._fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def _close_current(self):
        if self._fd is not None:
            os.close(self._fd)
            os.rename(self._path, self._path + ".ready")
            self._fd = self._path = None

    def _run(self, interval):
        while True:
            time.sleep(interval)
            try:
                self.drain(self._app, self._directory)
            except Exception:  # the thread must live on; the next round retries
                if self._app is not None:
                    self._app.logger.exception("event journal: drain failed")

    def drain(self, app, directory):
        """Close this process's file and load every ready or orphaned file into the database."""
        if app is None or directory is None:
            return 0
        with self._lock:
            if directory == self._directory:
                self._close_current()
        loaded = 0
        for path in self._claimable(directory):
            loaded += self._load(app, path)
        return loaded

    def _gone(self, host, pid, incarnation):
        """True when the process behind a file is known to have ended."""
        if host != HOST:
            return False  # another machine's files are that machine's to load
        if pid == os.getpid():
            return incarnation != self._incarnation
        return not _pid_alive(pid)

    def _claimable(self, directory):
        for path in sorted(Path(directory).glob("events-*")):
            name = path.name
            host, pid, incarnation = _owner(name)
            if host is None:
                continue
            ready = name.endswith(".ready") and ".claimed-" not in name
            # Ready files; files being written or loaded by a process that has ended.
            if ready or self._gone(host, pid, incarnation):
                stem = name.split(".", 1)[0]
                target = path.with_name(
                    f"{stem}.jsonl.claimed-{HOST}-{os.getpid()}-{self._incarnation}")
                try:
                    os.rename(path, target)  # atomic: one process wins each file
                except FileNotFoundError:
                    continue
                yield target

    def _load(self, app, path):
        events = _events_in(path)
        name = path.name.split(".", 1)[0]
        loaded = 0
        with app.app_context():
            for start in range(0, len(events), BATCH_EVENTS):
                batch = events[start:start + BATCH_EVENTS]
                try:
                    loaded += record_events(batch, batch_key=f"journal|{name}|{start}")
                except SQLAlchemyError:
                    from supportapp.extensions import db

                    db.session.rollback()
                    os.rename(path, path.with_name(name + ".jsonl.ready"))  # retried next round
                    raise
        path.unlink()
        return loaded


journal = EventJournal()


def record_rendered(story_id, appeal_id, variant_id, reader_id):
    """Count one appeal put into a page (server-side; every render counts)."""
    accept_events([TrackedEvent("rendered", story_id, appeal_id, variant_id, reader_id)])


def accept_events(events):
    """Take events from a request: into this process's journal, or straight to the database.

    The journal is the fast path for story pages and beacons:
    one append to a local file, moved to the database in batches about every second. With
    TRACKING_JOURNAL_SECONDS = 0, or if the journal cannot be written, events are committed
    to the database before this returns.
    """
    if not events:
        return 0
    app = current_app._get_current_object()
    interval = app.config["TRACKING_JOURNAL_SECONDS"]
    if interval > 0:
        try:
            journal.append(events, app, journal_directory(app), interval)
            return len(events)
        except OSError:
            current_app.logger.exception("event journal not writable; writing to the database")
    return record_events(events)


@atexit.register
def _drain_at_exit():
    # A normal exit (gunicorn's graceful stop, Ctrl-C) writes what this process holds.
    try:
        journal.drain(journal._app, journal._directory)
    except Exception:  # noqa: BLE001 - nothing left to report to at exit
        pass
