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


class StateFileError(Exception):
    """The state file cannot be used (another emulator holds it, or another format)."""


def dumps(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class StateFile:
    def __init__(self, path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # The store lock serialises every use, from request threads and the webhook thread.
        # A short busy timeout: the only other user can be a second emulator, which must
        # fail fast rather than wait for this one to stop.
        self._db = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=0.5
        )
        try:
            self._prepare()
        except sqlite3.OperationalError as error:
            self._db.close()
            raise StateFileError(
                f"{self.path} cannot be opened ({error}): is another emulator using it?"
            ) from None

    def _prepare(self):
        self._db.execute("PRAGMA locking_mode=EXCLUSIVE")
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk before the API call that made it answers.
        self._db.execute("PRAGMA synchronous=FULL")
        with self._transaction():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            version = self.setting("schema_version")
            if version is None:
                self._set("schema_version", SCHEMA_VERSION)
            elif version != SCHEMA_VERSION:
                raise StateFileError(
                    f"{self.path} was written by another version of the emulator "
                    f"(format {version}, this one reads {SCHEMA_VERSION}); remove it to start "
                    "empty."
                )

    def _transaction(self):
        return _Transaction(self._db)

    def load(self):
        """Rows (id, type, body JSON, private JSON) in creation order, and the
        idempotency keys {key: saved answer}."""
        rows = self._db.execute("SELECT id, type, body, private FROM object ORDER BY seq")
        keys = self._db.execute("SELECT key, body FROM idempotency")
        return rows.fetchall(), {key: json.loads(body) for key, body in keys}

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
