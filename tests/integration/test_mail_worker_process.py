"""`flask --app app worker` as real processes against the test database and a real SMTP
server: killed in the middle, two at once, stopped with SIGTERM."""
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from supportapp.extensions import db
from supportapp.models import OutboxMessage
from supportapp.services.outbox import queue_email
from tests.conftest import child_env

ROOT = Path(__file__).resolve().parents[2]
SENT_LINE = re.compile(r"outbox \d+ test sent")


def _queue(template, count):
    for n in range(count):
        queue_email(f"note:{n}", "test", f"reader{n}@example.com", template, n=n,
                    link=f"https://news.example/notes/{n}")
    db.session.commit()


def _start_worker(app, mail_server, *args, lease_seconds=2):
    env = child_env(DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
                    SUPPORTAPP_MAIL_URL=mail_server.url,
                    SUPPORTAPP_MAIL_LEASE_SECONDS=str(lease_seconds))
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker", *args],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _read_until(worker, text):
    """The worker's output up to the line holding `text` (the end, if it exits first): a
    loaded machine may take seconds to import the app."""
    lines = []
    for line in worker.stdout:
        lines.append(line)
        if text in line:
            break
    return "".join(lines)


def _statuses():
    db.session.rollback()  # a fresh look at what the workers wrote
    rows = db.session.execute(select(OutboxMessage.status, func.count())
                              .group_by(OutboxMessage.status)).all()
    return dict(rows)


def _wait(condition, timeout=90, what="the workers"):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not done after {timeout} s"
        time.sleep(0.05)


def _stored_message_ids():
    return set(db.session.scalars(select(OutboxMessage.message_id)))


def test_worker_killed_in_the_middle_and_restarted_loses_nothing(app, mail_server,
                                                                 note_template):
    """500 messages, the worker SIGKILLed after some have arrived and started again: every
    message arrives, and at most one (the one in flight at the kill) arrives twice."""
    _queue(note_template, 500)
    mail_server.slow_down(0.002)  # so that the kill lands in the middle on any machine
    first = _start_worker(app, mail_server, "--interval", "0.2")
    assert mail_server.wait_for(150, timeout=90), "the first worker sent too little"
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    arrived_at_kill = mail_server.count()
    assert arrived_at_kill < 500, "the kill came after everything was sent"

    second = _start_worker(app, mail_server, "--interval", "0.2")
    try:
        _wait(lambda: _statuses() == {"sent": 500})
    finally:
        second.send_signal(signal.SIGTERM)
        output = second.communicate(timeout=30)[0]
    assert second.returncode == 0, output[-3000:]
    counts = mail_server.message_ids()
    assert set(counts) == _stored_message_ids()
    assert sum(counts.values()) - len(counts) <= 1, counts.most_common(3)


def test_two_workers_on_postgresql_never_send_a_message_twice(app, mail_server,
                                                              note_template):
    """Two workers started together share 200 messages (FOR UPDATE SKIP LOCKED): both send
    some, and each message arrives exactly once."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("several workers at once are for PostgreSQL; SQLite takes one")
    _queue(note_template, 200)
    mail_server.slow_down(0.01)  # both are still at it when the slower one starts
    workers = [_start_worker(app, mail_server, "--once", lease_seconds=300) for _ in range(2)]
    outputs = [worker.communicate(timeout=120)[0] for worker in workers]
    assert [w.returncode for w in workers] == [0, 0], [o[-2000:] for o in outputs]
    sent_by_each = [len(SENT_LINE.findall(output)) for output in outputs]
    assert sum(sent_by_each) == 200 and min(sent_by_each) > 0, sent_by_each
    counts = mail_server.message_ids()
    assert set(counts) == _stored_message_ids() and set(counts.values()) == {1}
    assert _statuses() == {"sent": 200}


def test_sigterm_finishes_the_message_in_flight_then_exits(app, mail_server, note_template):
    """SIGTERM while a message is being sent: that message is delivered and recorded, the
    rest of the batch goes back to the queue, and the worker exits 0."""
    _queue(note_template, 5)
    mail_server.slow_down(1.5)
    worker = _start_worker(app, mail_server, "--interval", "0.2", lease_seconds=60)
    _wait(lambda: mail_server.handler.data_started >= 1, timeout=60, what="the worker")
    worker.send_signal(signal.SIGTERM)
    output = worker.communicate(timeout=30)[0]
    assert worker.returncode == 0, output[-3000:]
    assert "worker stopped" in output
    assert mail_server.count() == 1
    assert _statuses() == {"sent": 1, "queued": 4}
    assert db.session.scalar(select(func.max(OutboxMessage.attempts))
                             .where(OutboxMessage.status == "queued")) == 0


def test_a_signal_at_any_moment_of_the_wait_stops_the_worker(app, mail_server):
    """Idle workers looking every 0.1 s, each sent SIGTERM at a different moment: each
    exits 0 promptly. (Setting the stop flag from the handler while the main thread held
    the flag's own lock used to hang the worker for good.)"""
    for delay in (0.5, 0.73, 0.91, 1.17, 1.43):
        worker = _start_worker(app, mail_server, "--interval", "0.1")
        started = _read_until(worker, "worker started")  # the handlers are in place
        time.sleep(delay)  # into the loop, at a different moment each time
        worker.send_signal(signal.SIGTERM)
        output = started + worker.communicate(timeout=20)[0]
        assert worker.returncode == 0 and "worker stopped" in output, output[-2000:]
