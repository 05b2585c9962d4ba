"""Shared by the benchmarks in bench/: a throwaway database, the flask CLI, the machine.

Not a benchmark itself. The scripts import it as `benchdb` (they run from bench/).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
PG_DATABASE = "bench_supportapp"


class BenchError(RuntimeError):
    """The benchmark could not measure what it set out to measure."""


def tool(name):
    """A program from the project's virtualenv, else next to this interpreter, else PATH."""
    for folder in (ROOT / ".venv" / "bin", Path(sys.executable).parent):
        if (folder / name).exists():
            return str(folder / name)
    found = shutil.which(name)
    if not found:
        raise BenchError(f"cannot find {name!r} in .venv/bin or on PATH")
    return found


def postgres_reachable():
    import psycopg

    try:
        with psycopg.connect(f"{PG_SERVER}/postgres", connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception:  # any failure means "not reachable" here
        return False
    return True


def _pg_admin(sql):
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(sql)


class Database:
    """The throwaway database: created on enter, dropped on exit (SQLite: a file in tmp).

    PostgreSQL: database `bench_supportapp` on 127.0.0.1:5432, dropped WITH (FORCE) first
    and last, so only one benchmark may use it at a time.
    """

    def __init__(self, kind, tmp):
        self.kind = kind
        if kind == "postgresql":
            self.url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_DATABASE}"
            self.label = f"PostgreSQL database {PG_DATABASE} at 127.0.0.1:5432"
        else:
            self.url = f"sqlite:///{tmp}/bench.db"
            self.label = f"SQLite (WAL) in {tmp}"

    def __enter__(self):
        if self.kind == "postgresql":
            _pg_admin(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
            _pg_admin(f"CREATE DATABASE {PG_DATABASE}")
        return self

    def __exit__(self, *exc):
        if self.kind == "postgresql":
            _pg_admin(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")

    def part(self, name):
        """URL of a separate, empty part of this database for one data set.

        PostgreSQL: a schema `name` in the bench database, made the connection's search_path;
        SQLite: another file beside the first. Parts let one process compare data sets
        run by run, so a machine busy with other work slows each of them alike.
        """
        if self.kind != "postgresql":
            return self.url.replace("/bench.db", f"/bench-{name}.db")
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/{PG_DATABASE}", autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {name}")
        return f"{self.url}?options=-csearch_path%3D{name}"

    def server_version(self):
        if self.kind != "postgresql":
            import sqlite3

            return f"SQLite {sqlite3.sqlite_version}"
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres") as conn:
            return "PostgreSQL " + conn.execute("SHOW server_version").fetchone()[0]


def flask_cli(env, *args, timeout=180):
    """Run `flask --app app ARGS` in the project with env; its output, or BenchError."""
    command = [tool("flask"), "--app", "app", *args]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=timeout, check=False)
    if result.returncode != 0:
        raise BenchError(f"`flask --app app {' '.join(args)}` failed "
                         f"({result.returncode}):\n{result.stdout}{result.stderr}")
    return result.stdout.strip()


def machine():
    """'2 CPUs, 24 GiB RAM, Python 3.11.7, load average 0.42' for the report header."""
    try:
        gib = f"{os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 2**30:.0f}"
    except (ValueError, OSError):
        gib = "?"
    return (f"{os.cpu_count()} CPUs, {gib} GiB RAM, Python {sys.version.split()[0]}, "
            f"load average {os.getloadavg()[0]:.2f}")
