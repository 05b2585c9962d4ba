"""How steady is this machine? One canary process per CPU times a fixed piece of work.

    .venv/bin/python bench/machine_speed.py [--seconds 30]

A virtual machine's CPUs can run at about half their speed for seconds at a time while the
host is busy elsewhere, and the guest is not told: this 2-core machine reports no steal
time, its work just takes longer. A latency target at 80% of a peak then measures the host
whenever the speed drops below 80% of the speed the peak was measured at: the server's
capacity falls below the offered load and a queue builds. Run this before a latency
benchmark (or beside a run's figures) to see what the machine was doing.

Each canary is pinned to one CPU and, every 20 ms, times the work by its own CPU clock:
waiting behind other processes of the guest does not count, the host taking the CPU away
does. It costs about 2% of each CPU. The report gives the work's cost at full speed (its
10th percentile), its median, and in which half-seconds the machine as a whole (the mean
over the CPUs of each one's median) ran below 80% of full speed (`#`). On this machine the cost
was about 0.45-0.5 ms at full speed and 0.8-0.9 ms in the slow spells, whether the other
CPU was idle or busy, so the spells are the host's, not the guest's own load.

    SpeedCanaries(folder)                 start one canary per CPU this process may use
    canaries.samples()                    [(cpu, monotonic time, CPU seconds of the work)],
                                          once stopped
    full_speed_cost(samples)              the work's cost at full speed: its 10th percentile
    slow_steps(samples, window, base)     per half-second of window: below SPEED_SHARE of
                                          full speed?
"""
from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

INTERVAL = 0.02  # seconds between samples
STEP = 0.5  # seconds per judged step
SPEED_SHARE = 0.8  # below this share of full speed is "slow": the latency benchmark's share


def _work():
    total = 0
    for number in range(20_000):  # about 0.45 ms on this machine at full speed
        total += number
    return total


def _canary(cpu, out_path):
    """Pinned to cpu, time _work() every INTERVAL until SIGTERM; samples to out_path."""
    os.sched_setaffinity(0, {cpu})
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    with open(out_path, "w") as out:
        due = time.monotonic()
        while not stopping:
            # After a stall, start afresh rather than run back to back to catch up.
            due = max(due + INTERVAL, time.monotonic())
            time.sleep(max(0.0, due - time.monotonic()))
            started, cpu_before = time.monotonic(), time.thread_time()
            _work()
            out.write(f"{started:.6f} {time.thread_time() - cpu_before:.7f}\n")


class SpeedCanaries:
    """One canary process per CPU this process may run on, their samples in folder."""

    def __init__(self, folder):
        self.paths, self.processes = {}, []
        for cpu in sorted(os.sched_getaffinity(0)):
            path = self.paths[cpu] = Path(folder) / f"canary-{cpu}.txt"
            self.processes.append(subprocess.Popen(
                [sys.executable, __file__, "--cpu", str(cpu), "--out", str(path)],
                start_new_session=True))

    def samples(self):
        """[(cpu, monotonic time, CPU seconds of the fixed work)] once stopped."""
        found = []
        for cpu, path in self.paths.items():
            try:
                lines = path.read_text().splitlines()
            except FileNotFoundError:
                continue
            for line in lines:
                parts = line.split()
                if len(parts) == 2:  # the last line may be half-written
                    found.append((cpu, float(parts[0]), float(parts[1])))
        return found

    def stop(self):
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def full_speed_cost(samples):
    """The work's cost at the machine's full speed: the 10th percentile of all samples
    (None without samples); a median would move with how busy the host was."""
    costs = sorted(cost for _cpu, _at, cost in samples)
    return costs[len(costs) // 10] if costs else None


def slow_steps(samples, window, base):
    """For each STEP seconds of window (start, end) that has samples, in order: whether it
    was slow, that is whether the mean over the CPUs of the work's median cost in it
    exceeds base / SPEED_SHARE (the machine as a whole below SPEED_SHARE of the speed base
    was measured at). The mean, because a server process may run on either CPU."""
    start, end = window
    steps = {}
    for cpu, at, cost in samples:
        if start <= at < end:
            steps.setdefault(int((at - start) / STEP), {}).setdefault(cpu, []).append(cost)
    return [statistics.mean(map(statistics.median, steps[step].values())) > base / SPEED_SHARE
            for step in sorted(steps)]


def _report(seconds):
    with tempfile.TemporaryDirectory(prefix="machine-speed-") as folder:
        canaries = SpeedCanaries(folder)
        started = time.monotonic()
        try:
            time.sleep(seconds)
        finally:
            canaries.stop()
        samples = canaries.samples()
    if not samples:
        raise SystemExit("the canaries recorded nothing")
    base = full_speed_cost(samples)
    median = statistics.median(cost for _cpu, _at, cost in samples)
    slow = slow_steps(samples, (started, started + seconds), base)
    print(f"{len(samples)} samples on {len(canaries.paths)} CPUs; the work's cost: "
          f"{base * 1000:.3f} ms at full speed (10th percentile), median {median * 1000:.3f} "
          f"ms; below {SPEED_SHARE:.0%} of full speed in {sum(slow)} of {len(slow)} "
          "half-seconds:")
    print("".join("#" if step else "." for step in slow))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0,
                        help="how long to watch the machine (default 30)")
    parser.add_argument("--cpu", type=int, help=argparse.SUPPRESS)  # internal: one canary
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cpu is not None:
        _canary(args.cpu, args.out)
    elif args.seconds <= 0:
        parser.error("--seconds must be > 0")
    else:
        try:
            _report(args.seconds)
        except KeyboardInterrupt:
            print("interrupted; the canaries are stopped", file=sys.stderr)
            return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
