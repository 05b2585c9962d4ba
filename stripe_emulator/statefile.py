"""The store's SQLite file (`--state-file`): every object, in creation order, with its
private data, the idempotency keys, and a few settings.

One row per object holds its API shape and its private data as JSON. The store writes
the rows a request changed in one transaction before the request answers, so a killed
emulator leaves the file as it was after the last answered call (SQLite's journal
makes each commit all or nothing). The file is opened in exclusive locking mode: a
second emulator on the same file fails at start instead of drifting apart from the
first one.
"""

import json
import sqlite3
from pathlib import Path

SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS object (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    body TEXT NOT NULL,
    private TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS setting (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


_SQLITE_HEADER = b"SQLite format 3\x00"


class StateFileError(Exception):
    """The state file cannot be used (another emulator holds it, another format, damaged)."""


def _check_header(path):
    """Refuse a file that is not SQLite at all before SQLite opens it."""
    try:
        with open(path, "rb") as file:
            head = file.read(len(_SQLITE_HEADER))
    except FileNotFoundError:
        return
    if head and head != _SQLITE_HEADER:
        raise StateFileError(f"{path} is not a state file of the Stripe emulator (not SQLite).")


def _parsed(text, where, path):
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        raise StateFileError(
            f"{path} is damaged: the row of {where!r} is not valid JSON; remove it to start "
            "empty."
        ) from None


def _unusable(path, error):
    if "locked" in str(error):
        return f"{path} cannot be opened ({error}): is another emulator using it?"
    return f"{path} cannot be read as a state file ({error}); remove it to start empty."


def dumps(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class StateFile:
    def __init__(self, path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _check_header(self.path)
        # The store lock serialises every use, from request threads and the webhook thread.
        # A short busy timeout: the only other user can be a second emulator, which must
        # fail fast rather than wait for this one to stop.
        self._db = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=0.5
        )
        try:
            # Everything is read and checked before anything is written: a file that is
            # refused is left exactly as it was.
            self._db.execute("PRAGMA locking_mode=EXCLUSIVE")
            self._loaded = self._read_existing()
            self._prepare()
        except (sqlite3.DatabaseError, StateFileError) as error:
            self._db.close()
            if isinstance(error, StateFileError):
                raise
            raise StateFileError(_unusable(self.path, error)) from None

    def _read_existing(self):
        """The rows of a file written before, checked; ([], {}) for a new file."""
        tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master")}
        if not tables:
            return [], {}
        if not {"object", "idempotency", "setting"} <= tables:
            raise StateFileError(f"{self.path} is not a state file of the Stripe emulator.")
        version = self.setting("schema_version")
        if version != SCHEMA_VERSION:
            raise StateFileError(
                f"{self.path} was written by another version of the emulator "
                f"(format {version}, this one reads {SCHEMA_VERSION}); remove it to start "
                "empty."
            )
        offset = self.setting("clock_offset")
        if offset is not None and not offset.lstrip("-").isdigit():
            raise StateFileError(f"{self.path} is damaged: clock_offset is {offset!r}.")
        rows = self._db.execute("SELECT id, type, body, private FROM object ORDER BY seq")
        keys = self._db.execute("SELECT key, body FROM idempotency")
        objects = [
            (i, t, body, private, _parsed(body, i, self.path), _parsed(private, i, self.path))
            for i, t, body, private in rows
        ]
        return objects, {key: _parsed(body, key, self.path) for key, body in keys}

    def _prepare(self):
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk before the API call that made it answers.
        self._db.execute("PRAGMA synchronous=FULL")
        with self._transaction():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            if self.setting("schema_version") is None:
                self._set("schema_version", SCHEMA_VERSION)

    def _transaction(self):
        return _Transaction(self._db)

    def load(self):
        """The objects found at start, in creation order, as (id, type, body JSON,
        private JSON, body, private), and the idempotency keys {key: saved answer}. Once:
        the store keeps them from then on, so the file forgets its copy."""
        loaded, self._loaded = self._loaded, ([], {})
        return loaded

    def write(self, objects, keys):
        """Insert or update `objects` [(id, type, body json, private json)] (new ones in
        creation order) and idempotency `keys` {key: json}, in one transaction."""
        with self._transaction():
            self._db.executemany(
                "INSERT INTO object (id, type, body, private) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET body = excluded.body, private = excluded.private",
                objects,
            )
            self._db.executemany(
                "INSERT OR REPLACE INTO idempotency (key, body) VALUES (?, ?)", keys.items()
            )

    def clear(self):
        with self._transaction():
            self._db.execute("DELETE FROM object")
            self._db.execute("DELETE FROM idempotency")

    def setting(self, name):
        row = self._db.execute("SELECT value FROM setting WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def save_setting(self, name, value):
        with self._transaction():
            self._set(name, value)

    def _set(self, name, value):
        self._db.execute(
            "INSERT OR REPLACE INTO setting (name, value) VALUES (?, ?)", (name, value)
        )

    def close(self):
        self._db.close()


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK when the block raises."""

    def __init__(self, db):
        self._db = db

    def __enter__(self):
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb):
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")
