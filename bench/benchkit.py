"""Shared by the benchmarks in bench/: running them, gunicorn, the load generator, the machine.

Not a benchmark itself. The scripts import it as `benchkit` (they run from bench/); the
throwaway database and the flask CLI are in `benchdb`, which builds on this module.

* how a script runs: BenchError; add_load_options() and parse_load_args() for its command
  line; unwind_on_signals() and run_or_exit() (exit 2 when the benchmark could not
  measure, 130 on Ctrl-C, cleaning up on the way out); verdict() (PASS, or FAIL: exit 1);
* Gunicorn: a server on a free port in its own process group, its workers and their CPU;
* the load generator's plumbing: LoadGenerator (the script again, in its own process,
  printing JSON), Connection (a keep-alive client) and run_clients() (its threads);
* machine() for report headers and profile_label() for cProfile's functions.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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


def machine(memory=True):
    """'2 CPUs, 24 GiB RAM, Python 3.11.7, load average 0.42' for the report header.

    Without the RAM when memory is false.
    """
    parts = [f"{os.cpu_count()} CPUs"]
    if memory:
        try:
            gib = f"{os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 2**30:.0f}"
        except (ValueError, OSError):
            gib = "?"
        parts.append(f"{gib} GiB RAM")
    parts += [f"Python {sys.version.split()[0]}", f"load average {os.getloadavg()[0]:.2f}"]
    return ", ".join(parts)


# --------------------------------------------------------------------------- running a script


def _exit(signum, _frame):
    raise SystemExit(128 + signum)  # unwinds through the finally blocks that clean up


def _interrupt(_signum, _frame):
    raise KeyboardInterrupt  # unwinds through the finally blocks that clean up


def unwind_on_signals(sigterm_interrupts=False, restore_sigint=True):
    """Make SIGTERM (and Ctrl-C) unwind through the finally blocks that stop and drop things.

    SIGTERM exits with status 143, or counts as Ctrl-C when sigterm_interrupts is true.
    restore_sigint: Ctrl-C must clean up even when the shell started the script with SIGINT
    ignored (`cmd &`).
    """
    signal.signal(signal.SIGTERM, _interrupt if sigterm_interrupts else _exit)
    if restore_sigint:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def run_or_exit(benchmark, args, cleaned_up):
    """benchmark(args)'s result; else exit 2 when it could not measure, 130 on Ctrl-C.

    cleaned_up says, for the Ctrl-C message, what was stopped or dropped on the way out.
    """
    try:
        return benchmark(args)
    except BenchError as exc:
        print(f"\nBENCHMARK FAILED: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        print(f"\ninterrupted; {cleaned_up}", file=sys.stderr)
        raise SystemExit(130) from None


def verdict(failures, passed):
    """Print "FAIL: " and the failures, exit status 1; else "PASS: " and passed, 0."""
    if failures:
        print("FAIL: " + "; ".join(failures))
        return 1
    print(f"PASS: {passed}")
    return 0


def add_load_options(parser, concurrency, run, warmup, rounds):
    """--duration, --warmup, --rounds and --concurrency (default concurrency) to parser.

    run, warmup and rounds complete their help: "measured seconds per RUN", "unmeasured
    seconds WARMUP", "ROUNDS, interleaved".
    """
    parser.add_argument("--duration", type=float, default=10.0,
                        help=f"measured seconds per {run} (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0,
                        help=f"unmeasured seconds {warmup} (default 2)")
    parser.add_argument("--rounds", type=int, default=3,
                        help=f"{rounds}, interleaved (default 3)")
    parser.add_argument("--concurrency", type=int, default=concurrency,
                        help=f"concurrent keep-alive client connections (default {concurrency})")


def parse_load_args(parser, argv, *internal):
    """Parse argv for a script that runs a load generator, and check its load options.

    Adds the load generator's own options, hidden from --help: --load-generator, --port
    and the names in internal. Of the options from add_load_options(), --duration must be
    > 0, --warmup >= 0, --rounds and --concurrency >= 1.
    """
    # Internal: run as the load generator (a separate process) and print JSON.
    parser.add_argument("--load-generator", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    for name in internal:
        parser.add_argument(name, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.warmup < 0 or args.rounds < 1 or args.concurrency < 1:
        parser.error("--duration must be > 0, --warmup >= 0, --rounds and --concurrency >= 1")
    return args


# --------------------------------------------------------------------------- processes


def _proc_stat(pid):
    """(ppid, CPU seconds used) of a process, from /proc; None when it cannot be read."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            # pid (comm) state ppid ...; comm may contain spaces, so split after ')'.
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User + system CPU seconds a process has used so far (0 when it is gone)."""
    stat = _proc_stat(pid)
    return stat[1] if stat else 0.0


def child_pids(parent):
    """Pids of a process's children, from /proc (none where there is no /proc)."""
    if not os.path.isdir("/proc"):
        return []
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _proc_stat(int(entry))
            if stat and stat[0] == parent:
                pids.append(int(entry))
    return sorted(pids)


def pg_backends(name):
    """Pids of PostgreSQL backends connected to the database `name` (by process title)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if title.startswith(b"postgres: ") and f" {name} ".encode() in title:
                pids.append(int(entry.name))
    return pids


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """gunicorn serving `app` on 127.0.0.1 at a free port, in its own process group.

    options go first on gunicorn's command line (workers, threads, worker class). When it
    exits before answering, the error shows the end of its log (log_in_errors) or names
    the log file.
    """

    def __init__(self, env, log_path, app, *options, log_in_errors=True):
        self.port = free_port()
        self.log_in_errors = log_in_errors
        self.log = open(log_path, "ab")  # closed in stop()
        command = [tool("gunicorn"), *options, "--bind", f"127.0.0.1:{self.port}",
                   "--log-level", "warning", app]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)

    def wait_healthy(self, timeout=30, workers=0):
        """Until /healthz answers 200 and (when workers is given) that many workers are up."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                where = (f":\n{self.log_tail()}" if self.log_in_errors
                         else f"; see {self.log.name}")
                raise BenchError(f"gunicorn exited with {self.process.returncode}{where}")
            try:
                response, _body = Connection(self.port, timeout=2).get_once("/healthz")
                up = len(self.worker_pids()) if workers else 0
                if response.status == 200 and up >= workers:
                    return
                last = f"HTTP {response.status}" + (f", {up} workers" if workers else "")
            except (OSError, http.client.HTTPException) as exc:
                last = f"{type(exc).__name__}: {exc}"
            time.sleep(0.1)
        raise BenchError(f"gunicorn did not answer /healthz within {timeout} s ({last})")

    def log_tail(self, chars=3000):
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-chars:]

    def worker_pids(self):
        """Pids of the master's children (its workers)."""
        return child_pids(self.process.pid)

    def workers_cpu_seconds(self):
        """CPU seconds used so far by the workers, or None when there are none to be seen."""
        pids = self.worker_pids()
        return sum(cpu_seconds(pid) for pid in pids) if pids else None

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()  # gunicorn's master stops its workers on SIGTERM
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)  # the group this script started
                self.process.wait(timeout=10)
        self.log.close()


ROLLUP_WHERE = {"worker": "a `flask worker` process beside gunicorn",
                "thread": "the gunicorn workers' own roll-up threads (no `flask worker`)"}


def add_rollup_option(parser):
    """--rollup worker|thread: where the benchmark's app rolls up tracked events."""
    parser.add_argument("--rollup", choices=tuple(ROLLUP_WHERE), default="worker",
                        help="who rolls up tracked events (and loads the web workers' "
                             "journals): a `flask worker` beside gunicorn, as in the README's "
                             "production set-up (default), or the app's own thread in each "
                             "gunicorn worker, as when no worker runs")


class FlaskWorker:
    """`flask --app app worker` beside the server, as in the README's production set-up (it
    does the roll-ups there), in its own process group; its output goes to log_path."""

    def __init__(self, env, log_path):
        self.log = open(log_path, "ab")  # closed in stop()
        self.process = subprocess.Popen([tool("flask"), "--app", "app", "worker"], cwd=ROOT,
                                        env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    @classmethod
    def for_rollup(cls, rollup, env, log_path):
        """(the worker or None, the environment for gunicorn) for --rollup: with a worker,
        the app's own roll-up thread is off, as in production."""
        if rollup != "worker":
            return None, env
        return cls(env, log_path), dict(env, SUPPORTAPP_TRACKING_ROLLUP_SECONDS="0")

    def cpu_seconds(self):
        """CPU seconds the worker has used so far."""
        return cpu_seconds(self.process.pid)

    def check_running(self):
        """BenchError when the worker has exited (its log's end says why)."""
        if self.process.poll() is not None:
            self.log.flush()
            tail = Path(self.log.name).read_text(errors="replace")[-2000:]
            raise BenchError(f"flask worker exited with {self.process.returncode}:\n{tail}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()  # finishes the batch in hand, then exits
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.log.close()


# --------------------------------------------------------------------------- load generator


class LoadGenerator:
    """The benchmark script again with --load-generator OPTIONS, in its own process.

    Runs apart from the benchmark so that the client's CPU is not the server's; it prints
    its counts as JSON, which result() returns.
    """

    def __init__(self, script, options, timeout):
        command = [sys.executable, str(Path(script).resolve()), "--load-generator", *options]
        self.timeout = timeout
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)

    def result(self):
        try:
            stdout, stderr = self.process.communicate(timeout=self.timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        if self.process.returncode != 0:
            raise BenchError(f"load generator failed ({self.process.returncode}):\n{stderr}")
        return json.loads(stdout)


class Connection:
    """A keep-alive HTTP connection to 127.0.0.1:port, opened again when it was closed."""

    def __init__(self, port, timeout=10):
        self.port, self.timeout = port, timeout
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        """(response, body) of one request; on a failure the connection is closed and the
        OSError or HTTPException raised."""
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                       timeout=self.timeout)
            self.conn.request(method, path, body=body, headers=headers or {})
            response = self.conn.getresponse()
            data = response.read()
            if response.will_close:
                self.close()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        return response, data

    def get_once(self, path, headers=None):
        """GET path on a connection of its own, closed afterwards."""
        try:
            return self.request("GET", path, headers=headers)
        finally:
            self.close()

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def run_clients(client, concurrency, window_end):
    """client(index) in `concurrency` threads; True when all of them finished.

    Every request has a 10 s socket timeout, so the clients finish by 30 s after the end
    of the measured window.
    """
    threads = [threading.Thread(target=client, args=(index,), daemon=True)
               for index in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.0, window_end - time.monotonic()) + 30)
    return not any(thread.is_alive() for thread in threads)


# --------------------------------------------------------------------------- profiles


def profile_label(func):
    """cProfile's (filename, line, name) as 'path:line(name)', the path shortened."""
    filename, line, name = func
    for prefix in (str(ROOT) + "/", "site-packages/", "python3.11/"):
        if prefix in filename:
            filename = filename.split(prefix, 1)[1]
    return f"{filename}:{line}({name})"
