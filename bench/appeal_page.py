"""Benchmark: what does putting the appeal into a story page cost in throughput?

    .venv/bin/python bench/appeal_page.py [--duration 10] [--rounds 3] [--concurrency 4]

Builds a throwaway SQLite database (migrations + seed) in a temporary folder, serves the
app with gunicorn (one sync worker, 127.0.0.1 on a free port) and drives
GET /stories/<slug> from a separate load-generator process for a fixed time, counting
completed 200 responses:

* phase "with": the seeded appeal (id 1) is live, every response must contain the appeal;
* phase "without": the appeal is ended (`flask appeals end 1`), no response may contain it.

Phases alternate for several rounds (A B, B A, A B, ...), gunicorn is restarted for each
measurement, and the median requests/s of each phase gives the ratio with/without. The
project's budget is a ratio of at least 0.90 (the appeal costs at most 10%); the exit
status is 1 when the ratio is below it, 2 when the benchmark itself could not run properly.

Every request comes from a new reader: no cookies are sent back, so the frequency cap
(sa_views) never hides the appeal. Requests carry browser-like headers (Accept-Language
en-US). This is a benchmark, not a test: it is not collected by pytest.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKER = b'<section class="appeal"'
DEFAULT_SLUG = "harbour-parking-fee-vote-delayed"
BUDGET = 0.90
HEADERS = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en-US,en;q=0.5",
    "Connection": "keep-alive",
}


class BenchError(RuntimeError):
    """The benchmark could not measure what it set out to measure."""


def _bin(name):
    """A tool from the project's virtualenv, else the one next to this interpreter."""
    for folder in (ROOT / ".venv" / "bin", Path(sys.executable).parent):
        candidate = folder / name
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if not found:
        raise BenchError(f"cannot find {name!r} in .venv/bin or on PATH")
    return found


# --------------------------------------------------------------------------- load generator


def run_load(host, port, path, warmup, duration, concurrency, expect_appeal):
    """Drive GET path with `concurrency` keep-alive clients; count 200s in the window.

    Runs in its own process (see `--load-generator`), so the client's CPU is not the
    server's. Every response is checked for the appeal marker, warm-up included.
    """
    start = time.monotonic()
    window_start = start + warmup
    window_end = window_start + duration
    lock = threading.Lock()
    totals = {"ok": 0, "errors": 0, "non_200": 0, "wrong_content": 0, "latency_sum": 0.0,
              "requests": 0, "first_problem": None}

    def note_problem(kind, detail):
        with lock:
            totals[kind] += 1
            if totals["first_problem"] is None:
                totals["first_problem"] = detail

    def client():
        conn = None
        ok = 0
        latency_sum = 0.0
        requests = 0
        while time.monotonic() < window_end:
            sent = time.monotonic()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(host, port, timeout=10)
                conn.request("GET", path, headers=HEADERS)
                response = conn.getresponse()
                body = response.read()
                if response.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as exc:
                if conn is not None:
                    conn.close()
                    conn = None
                note_problem("errors", f"{type(exc).__name__}: {exc}")
                time.sleep(0.05)  # do not spin on a server that is gone
                continue
            done = time.monotonic()
            requests += 1
            if response.status != 200:
                note_problem("non_200", f"HTTP {response.status} for {path}")
            elif (MARKER in body) != expect_appeal:
                what = "missing from" if expect_appeal else "present in"
                note_problem("wrong_content", f"the appeal is {what} {path} "
                                              f"({len(body)} bytes)")
            elif window_start <= done < window_end:
                ok += 1
                latency_sum += done - sent
        if conn is not None:
            conn.close()
        with lock:
            totals["ok"] += ok
            totals["latency_sum"] += latency_sum
            totals["requests"] += requests

    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        # Every request has a 10 s socket timeout, so the clients finish by then.
        thread.join(timeout=max(0.0, window_end - time.monotonic()) + 30)
    if any(thread.is_alive() for thread in threads):
        totals["errors"] += 1
        totals["first_problem"] = totals["first_problem"] or "a client thread did not finish"
    ok = totals.pop("ok")
    latency_sum = totals.pop("latency_sum")
    return dict(totals, ok=ok, duration=duration, rps=ok / duration,
                mean_latency_ms=(latency_sum / ok * 1000) if ok else None)


# --------------------------------------------------------------------------- orchestration


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _proc_stat(pid):
    """(ppid, CPU seconds used) of a process, from /proc; None where there is no /proc."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def workers_cpu_seconds(master_pid):
    """CPU seconds used so far by the gunicorn master's worker processes, or None."""
    if not os.path.isdir("/proc"):
        return None
    total = None
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _proc_stat(int(entry))
            if stat and stat[0] == master_pid:
                total = (total or 0.0) + stat[1]
    return total


def flask_cli(env, *args, timeout=120):
    command = [_bin("flask"), "--app", "app", *args]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=timeout, check=False)
    if result.returncode != 0:
        raise BenchError(f"`flask --app app {' '.join(args)}` failed "
                         f"({result.returncode}):\n{result.stdout}{result.stderr}")
    return result.stdout.strip()


class Server:
    """One gunicorn master (and its worker) in its own process group."""

    def __init__(self, env, workers, worker_class, log_path):
        self.port = free_port()
        self.log = open(log_path, "ab")  # closed in stop()
        command = [_bin("gunicorn"), "--workers", str(workers), "--worker-class", worker_class,
                   "--bind", f"127.0.0.1:{self.port}", "--log-level", "warning", "app:app"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)

    def wait_healthy(self, timeout=30):
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn exited with {self.process.returncode}:\n"
                                 f"{self.log_tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                response = conn.getresponse()
                response.read()
                conn.close()
                if response.status == 200:
                    return
                last = f"HTTP {response.status}"
            except (OSError, http.client.HTTPException) as exc:
                last = f"{type(exc).__name__}: {exc}"
            time.sleep(0.1)
        raise BenchError(f"gunicorn did not answer /healthz within {timeout} s ({last})")

    def log_tail(self, chars=3000):
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-chars:]

    def check_page(self, path, expect_appeal):
        """One request before the run: fail at once if the page is not what the phase needs."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", path, headers=HEADERS)
            response = conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise BenchError(f"GET {path} failed: {type(exc).__name__}: {exc}") from exc
        finally:
            conn.close()
        if response.status != 200:
            raise BenchError(f"GET {path} answered HTTP {response.status}")
        if (MARKER in body) != expect_appeal:
            state = "missing from" if expect_appeal else "still in"
            raise BenchError(f"the appeal ({MARKER.decode()}...) is {state} {path}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()  # gunicorn's master stops its workers on SIGTERM
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)  # the group this script started
                self.process.wait(timeout=10)
        self.log.close()


def measure(args, phase, server):
    """Run the load generator once, in its own process, against the server.

    Also notes the CPU time the gunicorn workers spent, per response (warm-up included):
    a figure that other load on the machine disturbs much less than requests/s.
    """
    command = [sys.executable, str(Path(__file__).resolve()), "--load-generator",
               "--port", str(server.port), "--slug", args.slug, "--warmup", str(args.warmup),
               "--duration", str(args.duration), "--concurrency", str(args.concurrency),
               "--expect", phase]
    cpu_before = workers_cpu_seconds(server.process.pid)
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False,
                            timeout=args.warmup + args.duration + 60)
    cpu_after = workers_cpu_seconds(server.process.pid)
    if result.returncode != 0:
        raise BenchError(f"load generator failed ({result.returncode}):\n{result.stderr}")
    stats = json.loads(result.stdout)
    problems = stats["errors"] + stats["non_200"] + stats["wrong_content"]
    if problems or stats["ok"] == 0:
        raise BenchError(
            f"phase {phase!r}: {stats['ok']} good responses, {stats['errors']} connection "
            f"errors, {stats['non_200']} non-200, {stats['wrong_content']} with the wrong "
            f"content; first problem: {stats['first_problem']}"
        )
    stats["cpu_ms"] = None
    if cpu_before is not None and cpu_after is not None and stats["requests"]:
        stats["cpu_ms"] = (cpu_after - cpu_before) * 1000 / stats["requests"]
    return stats


def set_phase(env, phase):
    """Make appeal 1 live (phase "with") or ended (phase "without") in the database."""
    flask_cli(env, "appeals", "activate" if phase == "with" else "end", "1")


def benchmark(args):
    results = {"with": [], "without": []}
    cpu = {"with": [], "without": []}
    with tempfile.TemporaryDirectory(prefix="appeal-bench-") as tmp:
        env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp}/bench.db", SECRET_KEY="bench",
                   PYTHONDONTWRITEBYTECODE="1")
        env.pop("FLASK_DEBUG", None)
        flask_cli(env, "db", "upgrade")
        flask_cli(env, "seed")
        current = "with"  # the seed leaves appeal 1 live
        set_phase(env, current)
        log_path = Path(tmp) / "gunicorn.log"
        print(f"story: /stories/{args.slug}; gunicorn --workers {args.workers} --worker-class "
              f"{args.worker_class}; {args.concurrency} keep-alive clients; "
              f"{args.warmup:g} s warm-up + {args.duration:g} s per run; {args.rounds} rounds")
        print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
              f"load average {os.getloadavg()[0]:.2f} at start")
        for round_number in range(args.rounds):
            order = ("with", "without") if round_number % 2 == 0 else ("without", "with")
            for phase in order:
                if phase != current:
                    set_phase(env, phase)
                    current = phase
                server = Server(env, args.workers, args.worker_class, log_path)
                try:
                    server.wait_healthy()
                    server.check_page(f"/stories/{args.slug}", phase == "with")
                    stats = measure(args, phase, server)
                finally:
                    server.stop()
                results[phase].append(stats["rps"])
                cpu_note = ""
                if stats["cpu_ms"] is not None:
                    cpu[phase].append(stats["cpu_ms"])
                    cpu_note = f", worker CPU {stats['cpu_ms']:.2f} ms/response"
                print(f"  round {round_number + 1} {phase:<7} appeal: "
                      f"{stats['rps']:8.1f} req/s  ({stats['ok']} responses, mean latency "
                      f"{stats['mean_latency_ms']:.2f} ms{cpu_note})", flush=True)
    return results, cpu


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0,
                        help="measured seconds per run (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0,
                        help="unmeasured seconds of load before each run (default 2)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="runs of each phase, interleaved (default 3)")
    parser.add_argument("--concurrency", type=int, default=4,
                        help="concurrent keep-alive client connections (default 4)")
    parser.add_argument("--slug", default=DEFAULT_SLUG, help="story to request")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers (default 1)")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class")
    parser.add_argument("--budget", type=float, default=BUDGET,
                        help=f"lowest acceptable ratio with/without (default {BUDGET})")
    # Internal: run as the load generator (a separate process) and print JSON.
    parser.add_argument("--load-generator", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--expect", choices=("with", "without"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.warmup < 0 or args.rounds < 1 or args.concurrency < 1:
        parser.error("--duration must be > 0, --warmup >= 0, --rounds and --concurrency >= 1")
    return args


def _terminate(_signum, _frame):
    raise KeyboardInterrupt  # unwinds through the finally blocks that stop gunicorn


def main(argv=None):
    args = parse_args(argv)
    if args.load_generator:
        stats = run_load("127.0.0.1", args.port, f"/stories/{args.slug}", args.warmup,
                         args.duration, args.concurrency, args.expect == "with")
        print(json.dumps(stats))
        return 0
    signal.signal(signal.SIGTERM, _terminate)
    try:
        results, cpu = benchmark(args)
    except BenchError as exc:
        print(f"\nBENCHMARK FAILED: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted; gunicorn stopped", file=sys.stderr)
        return 130
    with_rps = statistics.median(results["with"])
    without_rps = statistics.median(results["without"])
    ratio = with_rps / without_rps
    print(f"\nmedian with appeal:    {with_rps:8.1f} req/s")
    print(f"median without appeal: {without_rps:8.1f} req/s")
    print(f"ratio with/without:    {ratio:8.3f}  (cost {100 * (1 - ratio):.1f}%)")
    if cpu["with"] and cpu["without"]:
        cpu_with, cpu_without = statistics.median(cpu["with"]), statistics.median(cpu["without"])
        print(f"worker CPU per response: {cpu_with:.2f} ms with, {cpu_without:.2f} ms without "
              f"(CPU-bound ratio {cpu_without / cpu_with:.3f}; a cross-check, less disturbed "
              "by other load)")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    if ratio < args.budget:
        print(f"FAIL: the appeal costs more than {100 * (1 - args.budget):.0f}% of throughput "
              f"(ratio {ratio:.3f} < {args.budget:.2f})")
        return 1
    print(f"PASS: ratio {ratio:.3f} >= {args.budget:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
