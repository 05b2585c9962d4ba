"""`make reset`: start `make run` from nothing. Removes, without asking, the development
database (when it is a SQLite file) with its tracking journal, the Stripe emulator's state
file and the local mail under instance/mail/, and says what it removed.

A database that is not a SQLite file (DATABASE_URL pointing at PostgreSQL) is left alone:
it may be shared, and dropping it is a decision this command does not make for you.
Nothing is removed while `make run` is running (its emulator holds the state file).
"""
import os
import shutil
import sqlite3
import sys
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.run_dev import EMULATOR_STATE_FILE, INSTANCE  # noqa: E402  (after the path)
from supportapp.config import load_config, load_dotenv_files  # noqa: E402
from supportapp.services.event_journal import journal_directory  # noqa: E402

# SQLite's companions of a database file (rollback journal, write-ahead log, its index).
SQLITE_SUFFIXES = ("", "-journal", "-wal", "-shm")


def emulator_is_running(state_file):
    """True when an emulator holds the state file (it opens it in exclusive mode)."""
    if not state_file.exists():
        return False
    db = sqlite3.connect(state_file, timeout=0)
    try:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        db.close()


def sqlite_file(database_uri):
    """The file of a SQLite URL, else None (another database, or SQLite in memory)."""
    url = make_url(database_uri)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def reset(config, instance, state_file):
    """Remove what `make run` made; (paths removed, descriptions of what was kept)."""
    removed, kept = [], []
    database = sqlite_file(config["SQLALCHEMY_DATABASE_URI"])
    if database is None:
        where = make_url(config["SQLALCHEMY_DATABASE_URI"]).render_as_string()  # no password
        kept.append(f"the database at {where} (not a SQLite file: drop it yourself if you "
                    "mean to)")
    else:
        for suffix in SQLITE_SUFFIXES:
            _remove(Path(f"{database}{suffix}"), removed)
        app = SimpleNamespace(config=config, instance_path=str(instance))
        _remove(Path(journal_directory(app)), removed)
    for suffix in SQLITE_SUFFIXES:
        _remove(Path(f"{state_file}{suffix}"), removed)
    _remove(Path(instance) / "mail", removed)
    return removed, kept


def _remove(path, removed):
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    else:
        return
    removed.append(path)


def main():
    os.chdir(ROOT)  # relative SQLite paths mean the same here as under `make run`
    load_dotenv_files()
    if emulator_is_running(EMULATOR_STATE_FILE):
        print("make reset: the Stripe emulator is running (is `make run` still up?). "
              "Stop it first; nothing was removed.", file=sys.stderr)
        return 1
    removed, kept = reset(load_config(str(INSTANCE)), INSTANCE, EMULATOR_STATE_FILE)
    for path in removed:
        print(f"removed {os.path.relpath(path, ROOT)}")
    for what in kept:
        print(f"kept {what}")
    if not removed:
        print("nothing to remove: already reset")
    return 0


if __name__ == "__main__":
    sys.exit(main())
