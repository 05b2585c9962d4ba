"""A per-process, append-only journal between the beacon and the database.

A beacon's events are one line appended to this process's journal file (one `write`; once
it returns, the line is the operating system's, so it survives the process being killed).
The writer holds an exclusive lock (`flock`) on its file for as long as it writes: the file
is created under a temporary name, locked, and only then renamed into place, so no one sees
it unlocked; a finished file is renamed `.ready` before it is closed. About every second a
background thread finishes the file. Every roll-up first loads, in batches, every journal
file of the folder that it can lock: ready files, and files whose writer died (the lock died
with it), whatever host or process wrote them; the background thread loads those that no
roll-up took within LEFT_FOR_ROLLUP_SECONDS. A loader keeps the lock while it loads and
removes the file; one that dies midway leaves the file unlocked for the next. Each chunk of
BATCH_EVENTS lines is recorded under a key of its own, in the transaction that counts it
(up to CHUNKS_PER_TRANSACTION chunks share one), so a file loaded twice counts once.
"""
import atexit
import fcntl
import hashlib
import json
import os
import re
import secrets
import socket
import threading
import time
import weakref
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from supportapp.extensions import db
from supportapp.services.tracking import TrackedEvent, count_chunks, record_events

EXTENSION = "supportapp.event_journal"
DIRECTORY_EXTENSION = "supportapp.event_journal_directory"
HOST = re.sub(r"[^A-Za-z0-9_]", "_", socket.gethostname())  # no "-" or "." in file names
# A file's events are counted in chunks of BATCH_EVENTS, each under a key of its own (the
# file and the chunk's first line): a chunk counts once, however often it is loaded. Keys
# must keep naming the same lines across versions, so this stays; how many chunks share a
# transaction may change.
BATCH_EVENTS = 1000
CHUNKS_PER_TRANSACTION = 5
# Lines written before page views were recorded have one field less: page_view is None.
FIELDS = ("kind", "story_id", "appeal_id", "variant_id", "reader_id", "dedup_key", "page_view")
# Writers from before the locks (still running during an upgrade) write unlocked files: on
# this host, such a file whose process still runs and that changed lately is left alone.
UNLOCKED_GRACE_SECONDS = 600
# How long a finished file waits for a roll-up (services/tracking.roll_up loads them all)
# before the flusher thread of a web process loads it itself (see drain_quietly).
LEFT_FOR_ROLLUP_SECONDS = 10


def _not_json(value):
    raise TypeError(f"{type(value).__name__} is not JSON")


# Made once: json.dumps, and JSONEncoder.encode underneath it, make a new C encoder on every
# call (half of a story page's line, 1.7 against 1.0 µs). Writes what
# json.dumps(rows, separators=(",", ":")) writes.
_ENCODE_ROWS = json.encoder.c_make_encoder(None, _not_json, json.encoder.encode_basestring_ascii,
                                           None, ":", ",", False, False, True)


def _line(events):
    at = datetime.now(UTC).isoformat()  # digits and "-:.+T" only: nothing to escape
    rows = [event[:len(FIELDS)] for event in events]  # TrackedEvent's fields, in order
    return f'{{"at":"{at}","events":{"".join(_ENCODE_ROWS(rows, 0))}}}\n'.encode()


def _events_in(content):
    """Events of every complete line; a torn last line (a crash mid-write) is skipped."""
    lines = content.splitlines()
    try:
        # One parse for the whole file, as a JSON array of its lines: a json.loads per
        # line cost 8% of loading a file of "rendered" lines.
        return _events_of(json.loads(b"[" + b",".join(lines) + b"]"))
    except (ValueError, KeyError, TypeError):
        pass  # some line is torn or malformed: line by line, skipping those
    events = []
    for raw in lines:
        try:
            events.extend(_events_of([json.loads(raw)]))
        except (ValueError, KeyError, TypeError):
            continue
    return events


def _events_of(lines):
    events = []
    for line in lines:
        at = datetime.fromisoformat(line["at"])
        events.extend(TrackedEvent(*row, at=at) for row in line["events"])
    return events


def journal_directory(app):
    """The configured folder, else one per database under instance/: a journal's lines
    carry no database name, so two databases must never share a folder."""
    configured = app.config["TRACKING_JOURNAL_DIR"]
    if configured:
        return configured
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    extensions = getattr(app, "extensions", None)
    if extensions is None:  # settings alone, as `make reset` (scripts/reset_dev.py) passes
        return _per_database(uri, app.instance_path)
    named = extensions.setdefault(DIRECTORY_EXTENSION, {})  # a hash per beacon otherwise
    if uri not in named:
        named[uri] = _per_database(uri, app.instance_path)
    return named[uri]


def _per_database(uri, instance_path):
    digest = hashlib.sha256(uri.encode()).hexdigest()[:12]
    return str(Path(instance_path) / f"tracking-journal-{digest}")


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _lockless_writer_may_run(path):
    """True for an unfinished file of another process on this host that still runs and that
    changed in the last UNLOCKED_GRACE_SECONDS (see there)."""
    try:
        _prefix, host, pid, _rest = path.name.split(".", 1)[0].split("-", 3)
        pid = int(pid)
    except ValueError:
        return False
    age = _seconds_since_written(path)
    if age is None or host != HOST or pid == os.getpid() or path.name.endswith(".ready"):
        return False
    return _pid_alive(pid) and age < UNLOCKED_GRACE_SECONDS


def _seconds_since_written(path):
    """How long ago path was last written, or None when it has gone."""
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return None


def _written_before(path, seconds):
    """True when path was last written at least `seconds` ago (False when it has gone)."""
    if seconds <= 0:
        return True
    age = _seconds_since_written(path)
    return age is not None and age >= seconds


def _take(path):
    """A read-only descriptor of path holding its lock, or None if someone else holds it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held, named = os.fstat(fd), os.stat(path)
        if (held.st_dev, held.st_ino) == (named.st_dev, named.st_ino):
            return fd
    except (BlockingIOError, FileNotFoundError):
        pass  # a live writer or another loader has it, or it was renamed or loaded meanwhile
    os.close(fd)
    return None


def _read_all(fd):
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


class EventJournal:
    """One app's journal in this process: its open file, its flusher thread, its exit hook."""

    def __init__(self, app):
        self._app = app
        self._lock = threading.Lock()
        self._file = self._path = self._pid = self._directory = None
        self._incarnation = secrets.token_hex(4)
        self._sequence = 0
        self._exit_hook = self._database_away = False

    def append(self, events, directory, interval):
        """Append one line for these events; raises OSError if the file cannot be written."""
        line = _line(events)
        with self._lock:
            if self._pid != os.getpid():
                self._start(interval)
            if self._directory != directory:
                self._finish_current()
                self._directory = directory
                Path(directory).mkdir(parents=True, exist_ok=True)
            if self._file is None:
                self._open()
            self._file.write(line)

    def _start(self, interval):
        # A new process (or a forked worker): its own file, flusher thread and exit hook.
        if self._file is not None:
            self._file.close()  # the parent's file: its lock stays with the parent's copy
        self._file = self._path = None
        self._pid = os.getpid()
        self._incarnation = secrets.token_hex(4)
        me = weakref.ref(self)  # neither the thread nor the hook keeps the app alive
        threading.Thread(target=_flush_every, args=(me, interval), daemon=True,
                         name="event-journal").start()
        if not self._exit_hook:  # a forked worker inherits its parent's registration
            atexit.register(_drain_at_exit, me)
            self._exit_hook = True

    def _open(self):
        self._sequence += 1
        name = f"events-{HOST}-{self._pid}-{self._incarnation}_{self._sequence}.jsonl"
        path = os.path.join(self._directory, name)
        temporary = os.path.join(self._directory, f".{name}.tmp")  # loaders never look there
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.rename(temporary, path)
        self._file, self._path = os.fdopen(fd, "ab", buffering=0), path

    def _finish_current(self):
        if self._file is None:
            return
        try:
            os.rename(self._path, self._path + ".ready")  # ready before it is unlocked
        finally:
            self._file.close()
            self._file = self._path = None

    def close(self):
        """Finish this process's file (ready for any loader); appends open a new one."""
        with self._lock:
            self._finish_current()

    def drain(self, directory, older_than=0):
        """Finish this process's file and load every file that can be taken into the database
        (with older_than, only those last written at least that many seconds ago)."""
        if directory is None:
            return 0
        with self._lock:
            if directory == self._directory:
                self._finish_current()
        loaded = 0
        for path in sorted(Path(directory).glob("events-*")):
            if _lockless_writer_may_run(path) or not _written_before(path, older_than):
                continue
            fd = _take(path)
            if fd is not None:
                try:
                    loaded += self._load(path, fd)
                finally:
                    os.close(fd)  # unlocks: after a failure, the next round retries
        return loaded

    def _load(self, path, fd):
        events = _events_in(_read_all(fd))
        name = path.name.split(".", 1)[0]
        loaded = 0
        chunks = [(f"journal|{name}|{start}", events[start:start + BATCH_EVENTS])
                  for start in range(0, len(events), BATCH_EVENTS)]
        with self._app.app_context():
            for first in range(0, len(chunks), CHUNKS_PER_TRANSACTION):
                try:
                    loaded += count_chunks(chunks[first:first + CHUNKS_PER_TRANSACTION])
                except SQLAlchemyError:
                    db.session.rollback()
                    raise
        path.unlink(missing_ok=True)
        return loaded

    def drain_quietly(self):
        """drain() for the flusher thread: failures are logged, the next round retries.

        It loads only files nobody has loaded for LEFT_FOR_ROLLUP_SECONDS: a roll-up loads
        every file first (the worker's every few seconds), so with a worker the web
        processes only finish their files, and loading stays out of the processes that
        answer readers. Without one, the files wait that long at most.
        """
        try:
            self.drain(self._directory, older_than=LEFT_FOR_ROLLUP_SECONDS)
        except SQLAlchemyError as exc:
            if not self._database_away:  # one line per outage, not one per second
                self._app.logger.warning("event journal: database unreachable (%s); "
                                         "files kept for the next round", type(exc).__name__)
            self._database_away = True
            return
        except Exception:  # the thread must live on
            self._app.logger.exception("event journal: drain failed")
            return
        if self._database_away:
            self._app.logger.info("event journal: loading again")
            self._database_away = False


def _flush_every(journal_ref, interval):
    while True:
        time.sleep(interval)
        journal = journal_ref()
        if journal is None:
            return  # its app is gone
        journal.drain_quietly()
        del journal


def _drain_at_exit(journal_ref):
    # A normal exit (gunicorn's graceful stop, Ctrl-C) writes what this process holds.
    journal = journal_ref()
    if journal is None:
        return
    try:
        journal.drain(journal._directory)
    except Exception:  # noqa: BLE001 - nothing left to report to at exit
        journal.close()  # at least ready for another process to load


def init_app(app):
    """Give the app its own journal (started by its first append)."""
    app.extensions[EXTENSION] = EventJournal(app)


def app_journal(app=None):
    """The journal of an app (the current one by default)."""
    return (app or current_app).extensions[EXTENSION]


def record_rendered(story_id, appeal_id, variant_id, reader_id, page_view=None):
    """Count one appeal put into a page (server-side; the roll-up counts it once per reader,
    or per page view without a reader id, story, variant and day)."""
    accept_events([TrackedEvent("rendered", story_id, appeal_id, variant_id, reader_id,
                                page_view=page_view)])


def record_held_back(story_id, appeal_id, reader_id):
    """Count one reader of a story held back from its appeal (shown none): the "no appeal"
    arm, variant 0, that the variants' lift is measured against."""
    accept_events([TrackedEvent("holdback", story_id, appeal_id, 0, reader_id)])


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
            app_journal(app).append(events, journal_directory(app), interval)
            return len(events)
        except OSError:
            current_app.logger.exception("event journal not writable; writing to the database")
    return record_events(events)
