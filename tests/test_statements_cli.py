"""`flask --app app statements send --year YEAR`: one statement per supporter, a progress
bar, counts at the end, nothing twice, and a clear refusal of a year it cannot send."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from supportapp.extensions import db
from supportapp.models import OutboxAttachment, OutboxMessage
from supportapp.services.clock import current_time, move_clock
from supportapp.services.mail_worker import send_due_mail
from tests.statement_helpers import gift, last_year, pdf_text, totals_in, two_currency_year


def _send(runner, year):
    return runner.invoke(args=["statements", "send", "--year", str(year)])


def _messages():
    db.session.expire_all()
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def _supporters(year):
    """Three supporters (one typing their address in two cases), a payment with no address,
    one with an address that cannot receive mail; another year's supporter."""
    two_currency_year("reader@example.com", year)
    gift("Second@Example.com", 1200, "USD", datetime(year, 4, 1, tzinfo=UTC))
    gift("second@example.com", 800, "USD", datetime(year, 8, 1, tzinfo=UTC))
    gift(None, 5000, "USD", datetime(year, 5, 5, tzinfo=UTC))
    gift("not an address", 700, "USD", datetime(year, 5, 6, tzinfo=UTC))
    gift("next.year@example.com", 700, "USD", datetime(year + 1, 1, 1, tzinfo=UTC))
    db.session.commit()


def test_send_writes_one_statement_per_supporter_then_nothing_twice(app, runner, mail_server):
    """One statement each (with its PDF) for the year's supporters, a progress bar on
    stderr, counts at the end; the worker sends them; a second run writes nothing new."""
    year = last_year()
    _supporters(year)
    result = _send(runner, year)
    assert result.exit_code == 0, result.output
    assert f"Statements for {year}" in result.stderr  # the progress bar's label
    assert result.stdout.splitlines() == [
        f"Statements for {year}: 3 queued now (the worker sends them), 0 already queued or "
        "sent before.",
        "Skipped: 1 address that cannot receive email.",
        "Skipped: 1 payment with no email address (erased, or never given).",
    ]
    messages = _messages()
    assert sorted(m.to_address for m in messages) == [
        "reader@example.com", "second@example.com", "someone.else@example.com"]
    assert {m.kind for m in messages} == {"statement"}
    assert db.session.scalar(select(func.count(OutboxAttachment.id))) == 3

    assert send_due_mail() == 3
    received = {m["To"]: m for m in mail_server.messages()}
    assert set(received) == {"reader@example.com", "second@example.com",
                             "someone.else@example.com"}
    [pdf] = received["second@example.com"].iter_attachments()
    assert totals_in(pdf_text(pdf.get_content())) == {"USD": ("$20.00", "$0.00", "$20.00")}

    again = _send(runner, year)
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines()[0] == (
        f"Statements for {year}: 0 queued now (the worker sends them), 3 already queued or "
        "sent before.")
    assert again.stdout.splitlines()[-1] == "Nothing new to send."
    assert len(_messages()) == 3
    assert send_due_mail() == 0 and mail_server.count() == 3


def test_a_run_stopped_half_way_finishes_the_rest(app, runner):
    """Statements written by an interrupted run stay written; the next run writes the
    others and counts the first ones as sent before."""
    from supportapp.services.statements import QUEUED, queue_statement

    year = last_year()
    _supporters(year)
    assert queue_statement(year, "second@example.com") == QUEUED
    result = _send(runner, year)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        f"Statements for {year}: 2 queued now (the worker sends them), 1 already queued")
    assert len(_messages()) == 3


def test_future_year_is_refused(app, runner):
    """A year still to come: a clear message, exit status 2, nothing written."""
    year = current_time().year + 1
    gift("reader@example.com", 500, "USD", datetime.now(UTC))
    db.session.commit()
    result = _send(runner, year)
    assert result.exit_code == 2
    assert f"Invalid value for '--year': {year} is in the future" in result.stderr
    assert _messages() == []


def test_the_year_not_over_is_refused_until_it_is(app, runner):
    """This year is refused (a statement sent now would miss the rest of the year); on the
    app's clock a year later, the same command sends."""
    now = current_time()
    gift("reader@example.com", 500, "USD", now - timedelta(minutes=5))
    db.session.commit()
    result = _send(runner, now.year)
    assert result.exit_code == 2
    assert f"{now.year} is not over yet" in result.stderr
    assert f"send them from 1 January {now.year + 1}" in result.stderr
    assert _messages() == []
    move_clock(timedelta(days=366))
    result = _send(runner, now.year)
    assert result.exit_code == 0, result.output
    assert [m.to_address for m in _messages()] == ["reader@example.com"]


@pytest.mark.parametrize("value", ["twenty", "2025.5", ""])
def test_year_that_is_not_a_number_is_refused(app, runner, value):
    """--year must be a whole number: click says so, exit status 2."""
    result = runner.invoke(args=["statements", "send", "--year", value])
    assert result.exit_code == 2
    assert "Invalid value for '--year'" in result.stderr
    assert "is not a valid integer" in result.stderr


def test_year_is_required(app, runner):
    result = runner.invoke(args=["statements", "send"])
    assert result.exit_code == 2 and "Missing option '--year'" in result.stderr


def test_year_before_any_record_is_refused(app, runner):
    result = _send(runner, 1999)
    assert result.exit_code == 2 and "1999 is before 2000" in result.stderr


def test_year_with_no_supporters_fails_clearly(app, runner):
    """Nobody gave that year: a clear message and exit status 1 (most likely the wrong
    year or database, which a script running it should notice); nothing written."""
    year = last_year()
    gift("reader@example.com", 500, "USD", datetime(year + 1, 1, 1, tzinfo=UTC))
    gift("pending@example.com", 500, "USD", None, status="pending")
    db.session.commit()
    result = _send(runner, year)
    assert result.exit_code == 1
    assert f"Nobody paid a gift in {year}: no statement to send." in result.stderr
    assert _messages() == []


def test_only_erased_supporters_left(app, runner):
    """Every payment of the year lost its address (erased): nothing sent, and the counts
    say why; a year with payments is not 'nobody gave', so the status is 0."""
    year = last_year()
    gift(None, 500, "USD", datetime(year, 3, 1, tzinfo=UTC))
    db.session.commit()
    result = _send(runner, year)
    assert result.exit_code == 0, result.output
    assert "Skipped: 1 payment with no email address (erased, or never given)." in \
        result.stdout
    assert result.stdout.splitlines()[-1] == "Nothing new to send."
    assert _messages() == []
