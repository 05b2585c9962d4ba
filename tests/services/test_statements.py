"""Year-end statements: what is on one, its PDF read back, its email over real SMTP with
the PDF attached, and nothing for an erased supporter."""
import io
from datetime import UTC, datetime

from pypdf import PdfReader
from sqlalchemy import select

from supportapp.extensions import db
from supportapp.models import OutboxAttachment, OutboxMessage
from supportapp.services import statements
from supportapp.services.erasure import erase_supporter
from supportapp.services.mail_worker import send_due_mail
from supportapp.services.statement_pdf import render_statement_pdf
from supportapp.services.supporter_email import email_digest
from tests.statement_helpers import gift, last_year, pdf_text, totals_in, two_currency_year

READER = "reader@example.com"
NOTE = "The Harbour Ledger Society is a registered charity. No goods or services were given."


def _org(app):
    app.config.update(ORG_LEGAL_NAME="Harbour Ledger Society", RECEIPT_NOTE=NOTE,
                      ORG_ADDRESS="1 Harbour Street, Port Alder, BC 00000")


def test_statement_pdf_totals_two_currencies_and_a_refund(app):
    """Done when: a supporter with gifts in two currencies and refunds; the PDF, read back
    with pypdf, lists each gift of the year and the totals per currency, refunds deducted."""
    _org(app)
    year = last_year()
    two_currency_year(READER, year)
    statement = statements.statement_for(READER, year)
    text = pdf_text(render_statement_pdf(statement))
    assert totals_in(text) == {"EUR": ("€45.50", "€5.50", "€40.00"),
                               "GBP": ("£27.25", "£7.25", "£20.00")}
    assert f"Statement of gifts {year}" in text and f"For: {READER}" in text
    gifts = text.split("Date Gift Amount Currency Refunded Status\n", 1)[1].split("\nTotals")[0]
    assert gifts.splitlines() == [
        f"January 15, {year} Monthly €10.00 EUR No Paid",
        f"February 15, {year} Monthly €10.00 EUR No Paid",
        f"March 15, {year} One-off €25.50 EUR €5.50 Partly refunded",
        f"June 15, {year} One-off £20.00 GBP No Paid",
        f"September 15, {year} One-off £7.25 GBP £7.25 Refunded",
    ]
    assert "Harbour Ledger Society" in text and "1 Harbour Street, Port Alder" in text
    assert NOTE in text
    assert f"what you paid in {year} less what was refunded to you" in text
    assert f"January 1 to December 31, {year} (UTC)" in text
    assert "not over" not in text


def test_disputed_payment_is_listed_not_counted(app):
    """A disputed payment appears, marked, and stays out of the totals; the PDF says so."""
    year = last_year()
    gift(READER, 1000, "USD", datetime(year, 5, 1, tzinfo=UTC))
    gift(READER, 5000, "USD", datetime(year, 6, 1, tzinfo=UTC), status="disputed")
    db.session.commit()
    statement = statements.statement_for(READER, year)
    assert [(t.currency, t.paid_minor, t.total_minor) for t in statement.totals] == [
        ("USD", 1000, 1000)]
    text = pdf_text(render_statement_pdf(statement))
    assert "Disputed (not counted)" in text
    assert "A disputed payment is listed but not counted in the totals." in text
    assert totals_in(text) == {"USD": ("$10.00", "$0.00", "$10.00")}


def test_year_is_a_utc_calendar_year(app):
    """The last second of 31 December counts; the first of 1 January is next year's."""
    year = last_year() - 1
    gift(READER, 100, "CAD", datetime(year, 1, 1, tzinfo=UTC))
    gift(READER, 200, "CAD", datetime(year, 12, 31, 23, 59, 59, tzinfo=UTC))
    gift(READER, 400, "CAD", datetime(year + 1, 1, 1, tzinfo=UTC))
    db.session.commit()
    statement = statements.statement_for("Reader@Example.COM", year)
    assert [line.amount_minor for line in statement.lines] == [100, 200]
    assert statements.statement_years(READER) == [year + 1, year]
    assert statements.statement_for(READER, year - 1) is None


def test_this_years_statement_says_it_is_not_over(app):
    """Downloaded while the year goes on, the statement covers up to today and says so."""
    now = datetime.now(UTC)
    gift(READER, 1500, "AUD", now.replace(month=1, day=2))
    db.session.commit()
    statement = statements.statement_for(READER, now.year, now=now)
    assert not statement.complete
    text = pdf_text(render_statement_pdf(statement))
    assert "is not over: gifts made later this year are not on this statement" in text
    assert statements.statement_choices(READER) == [(now.year, f"{now.year} (so far)")]


def test_statement_email_arrives_with_the_pdf_attached(app, mail_server):
    """Queued once, sent by the worker's code over real SMTP: text and HTML with the gifts
    and totals, and the same statement as a PDF attachment."""
    _org(app)
    year = last_year()
    two_currency_year(READER, year)
    assert statements.queue_statement(year, READER) == statements.QUEUED
    assert statements.queue_statement(year, READER.upper()) == statements.ALREADY
    assert send_due_mail() == 1
    [received] = mail_server.messages()
    assert received["To"] == READER
    assert received["Subject"] == f"Your statement of gifts to The Harbour Ledger for {year}"
    assert received.get_content_type() == "multipart/mixed"
    text = received.get_body(("plain",)).get_content()
    html = received.get_body(("html",)).get_content()
    assert "- EUR: paid €45.50, refunded €5.50, total €40.00" in text
    assert "- GBP: paid £27.25, refunded £7.25, total £20.00" in text
    assert f"- September 15, {year}: £7.25 GBP, one-off, refunded, £7.25 refunded" in text
    assert NOTE in text and "Harbour Ledger Society" in text
    assert "€40.00" in html and NOTE in html and "Harbour Ledger Society" in html
    [attachment] = list(received.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"statement-{year}.pdf"
    content = attachment.get_content()
    assert content.startswith(b"%PDF-")
    assert totals_in(pdf_text(content)) == {"EUR": ("€45.50", "€5.50", "€40.00"),
                                            "GBP": ("£27.25", "£7.25", "£20.00")}
    assert PdfReader(io.BytesIO(content)).metadata.title == f"Statement of gifts {year}"
    message = db.session.scalar(select(OutboxMessage))
    assert (message.kind, message.status) == ("statement", "sent")
    assert message.key == f"statement:{year}:{email_digest(READER)}"  # no address in it


def test_erased_supporter_gets_no_statement(app, fake_stripe):
    """Erasing removes a queued statement's PDF and stops it; afterwards their gifts carry
    no address, so no statement is written for them (nor for one erased meanwhile)."""
    year = last_year()
    two_currency_year(READER, year)
    gift("gone@example.com", 300, "USD", datetime(year, 7, 1, tzinfo=UTC))
    db.session.commit()
    assert statements.queue_statement(year, READER) == statements.QUEUED
    assert db.session.scalar(select(OutboxAttachment.id)) is not None
    erase_supporter(READER)
    db.session.expire_all()
    assert db.session.scalars(select(OutboxAttachment)).all() == []
    message = db.session.scalar(select(OutboxMessage))
    assert message.status == "given_up" and message.to_address == email_digest(READER)
    run = statements.plan_statements(year)
    assert run.addresses == ["gone@example.com", "someone.else@example.com"]
    assert run.without_address == 5  # the reader's paid gifts of the year
    erase_supporter("gone@example.com")  # between the plan and their turn
    assert statements.queue_statement(year, "gone@example.com") == statements.NO_GIFTS
    assert statements.queue_statement(year, READER) == statements.ALREADY
    assert db.session.scalar(select(db.func.count(OutboxMessage.id))) == 1


def test_unusable_address_is_skipped(app):
    """An address that cannot be a recipient gets nothing written."""
    year = last_year()
    assert statements.queue_statement(year, "two@example.com, three@example.com") == \
        statements.UNUSABLE_ADDRESS
    assert db.session.scalars(select(OutboxMessage)).all() == []
