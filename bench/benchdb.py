"""Shared by the benchmarks in bench/: a throwaway database, the flask CLI, the app in-process.

Not a benchmark itself. The scripts import it as `benchdb` (they run from bench/); what
is not about the database (gunicorn, the load generator, signals, the machine) is in
`benchkit`.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager

from benchkit import ROOT, BenchError, tool

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
PG_DATABASE = "bench_supportapp"
PG_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def postgres_reachable():
    import psycopg

    try:
        with psycopg.connect(f"{PG_SERVER}/postgres", connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception:  # any failure means "not reachable" here
        return False
    return True


def default_database(kind):
    """kind, else "postgresql" when 127.0.0.1:5432 answers, else "sqlite"."""
    return kind or ("postgresql" if postgres_reachable() else "sqlite")


def _pg_admin(sql):
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(sql)


class Database:
    """The throwaway database in a temporary folder `tmp` (prefix: its name's start).

    Created on enter, dropped and the folder deleted on exit. SQLite: a file in the folder.
    PostgreSQL: database `pg_name` (default `bench_supportapp`) on 127.0.0.1:5432, dropped
    WITH (FORCE) first and last, so only one benchmark may use a name at a time.
    """

    def __init__(self, kind, prefix, pg_name=PG_DATABASE):
        if not PG_NAME_RE.match(pg_name):  # it goes into DROP DATABASE unquoted
            raise BenchError(f"not a plain PostgreSQL database name: {pg_name!r}")
        self.kind, self.prefix, self.pg_name = kind, prefix, pg_name

    def __enter__(self):
        self._folder = tempfile.TemporaryDirectory(prefix=self.prefix)
        self.tmp = self._folder.name
        # The event journal goes with the database: beacons of a dropped bench database must
        # not wait in instance/ for the next run. Inherited by gunicorn and the flask CLI.
        os.environ["SUPPORTAPP_TRACKING_JOURNAL_DIR"] = os.path.join(self.tmp, "journal")
        if self.kind == "postgresql":
            self.url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{self.pg_name}"
            self.label = f"PostgreSQL database {self.pg_name} at 127.0.0.1:5432"
            try:
                _pg_admin(f"DROP DATABASE IF EXISTS {self.pg_name} WITH (FORCE)")
                _pg_admin(f"CREATE DATABASE {self.pg_name}")
            except BaseException:
                self._folder.cleanup()
                raise
        else:
            self.url = f"sqlite:///{self.tmp}/bench.db"
            self.label = f"SQLite (WAL) in {self.tmp}"
        return self

    def __exit__(self, *exc):
        os.environ.pop("SUPPORTAPP_TRACKING_JOURNAL_DIR", None)
        try:
            if self.kind == "postgresql":
                _pg_admin(f"DROP DATABASE IF EXISTS {self.pg_name} WITH (FORCE)")
        finally:
            self._folder.cleanup()

    def part(self, name):
        """URL of a separate, empty part of this database for one data set.

        PostgreSQL: a schema `name` in the bench database, made the connection's search_path;
        SQLite: another file beside the first. Parts let one process compare data sets
        run by run, so a machine busy with other work slows each of them alike.
        """
        if self.kind != "postgresql":
            return self.url.replace("/bench.db", f"/bench-{name}.db")
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/{self.pg_name}", autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {name}")
        return f"{self.url}?options=-csearch_path%3D{name}"

    def server_version(self):
        if self.kind != "postgresql":
            import sqlite3

            return f"SQLite {sqlite3.sqlite_version}"
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres") as conn:
            return "PostgreSQL " + conn.execute("SHOW server_version").fetchone()[0]


# --------------------------------------------------------------------------- the flask CLI


def app_env(url, **settings):
    """Environment for the flask CLI and gunicorn on the database at url (no debug mode)."""
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="bench", **settings,
               PYTHONDONTWRITEBYTECODE="1")
    env.pop("FLASK_DEBUG", None)
    return env


def flask_cli(env, *args, timeout=180):
    """Run `flask --app app ARGS` in the project with env; its output, or BenchError."""
    command = [tool("flask"), "--app", "app", *args]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=timeout, check=False)
    if result.returncode != 0:
        raise BenchError(f"`flask --app app {' '.join(args)}` failed "
                         f"({result.returncode}):\n{result.stdout}{result.stderr}")
    return result.stdout.strip()


def migrate_and_seed(env):
    """`flask db upgrade` and `flask seed` on the database that env names."""
    flask_cli(env, "db", "upgrade")
    # No holdback for the seeded appeal: the benchmarks check that every page carries it,
    # and each request is a new reader, 5% of whom the default holdback would show none.
    flask_cli({**env, "SUPPORTAPP_DEFAULT_HOLDBACK_PERCENT": "0"}, "seed")


# --------------------------------------------------------------------------- the app in-process


def enter_project():
    """Work from the project: its folder the cwd, its packages importable, settings defaulted."""
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ.setdefault("SUPPORTAPP_LOG_LEVEL", "WARNING")


def release(app):
    """Close the app's database session and connection pool."""
    from supportapp.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


class AppOnDb:
    """The app in this process on the bench database at url, rate limiting off."""

    def __init__(self, url):
        from supportapp import create_app

        self.app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False,
                               "TRACKING_ROLLUP_SECONDS": 0})

    def close(self):
        release(self.app)


@contextmanager
def timed_statements(engine):
    """A list that fills with (seconds, statement, parameters) per cursor.execute on engine."""
    from sqlalchemy import event

    seen = []

    def before(conn, _cursor, _statement, _parameters, _context, _many):
        conn.info["bench_started"] = time.perf_counter()

    def after(conn, _cursor, statement, parameters, _context, _many):
        seen.append((time.perf_counter() - conn.info.pop("bench_started"), statement,
                     parameters))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
