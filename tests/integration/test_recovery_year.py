"""A scripted year for 300 supporters on the emulator's clock, a day at a time.

200 give monthly ($5) and 100 yearly ($50); a tenth (20 monthly, 10 annual) pay with the
0341 card, which pays at checkout and is declined on renewals. Of those, some replace their
card the day after the first email, some the day after the first follow-up, the rest never.
Webhooks reach the app for real, the worker's jobs run every day on the app's clock (moved
with the emulator's), and every email goes through a real SMTP server. At the end the
dashboard's recovery figures must equal the script's own count, and each supporter must
have had exactly the recovery emails the script says: each once, none after a payment.
"""
import csv
import email
import email.policy
import io
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from supportapp.services.clock import current_time, move_clock
from supportapp.services.fulfilment import HANDLERS
from tests.integration.conftest import CARD_OK, CARD_RENEWAL_FAILS
from tests.integration.test_recovery_emulator import Year, _link, _replace_card_through

# The production database; the rules themselves run on both elsewhere.
pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

MONTHLY, ANNUAL = 200, 100
# Who pays with the 0341 card, and what they do about the failure.
PLANS = {
    **{n: "after_first_email" for n in range(0, 8)},
    **{n: "after_first_followup" for n in range(8, 14)},
    **{n: "never" for n in range(14, 20)},
    **{n: "after_first_email" for n in range(MONTHLY, MONTHLY + 5)},
    **{n: "never" for n in range(MONTHLY + 5, MONTHLY + 10)},
}
FAILED, REMINDER, LAST, THANKS = "failed", "reminder", "last reminder", "thanks"
# What each plan must have received, in order, and nothing else about the failure.
EXPECTED_EMAILS = {
    "after_first_email": [FAILED, THANKS],
    "after_first_followup": [FAILED, REMINDER, THANKS],
    "never": [FAILED, REMINDER, LAST],
}
DAYS = 366 + 16  # a year, and the last annual failure's retries (days 3, 8 and 15) after it


def _kind(subject):
    """The recovery email a subject names, or None for any other email."""
    if subject.endswith("did not go through"):
        return FAILED
    if subject.startswith("Reminder: "):
        return REMINDER
    if subject.startswith("Last reminder: "):
        return LAST
    if subject.startswith("Thank you: ") and subject.endswith("is back on track"):
        return THANKS
    return None


def _email(n):
    return f"supporter{n}@example.com"


def _sign_up_everyone(live):
    """300 gifts through /contribute and the emulator's Checkout; {n: renewal's month}."""
    renews = {}
    for n in range(MONTHLY + ANNUAL):
        if n % 50 == 0:
            live.settle()
        monthly = n < MONTHLY
        session_id = live.start_checkout(frequency="monthly" if monthly else "annual",
                                         amount="5" if monthly else "50", email=_email(n))
        card = CARD_RENEWAL_FAILS if n in PLANS else CARD_OK
        assert live.pay(session_id, card=card).json()["status"] == "complete"
        if n in PLANS:
            sub = live.stripe.v1.subscriptions.retrieve(live.subscription_of(session_id))
            renews[n] = datetime.fromtimestamp(sub["items"].data[0].current_period_end, UTC)
    live.settle()
    return renews


class ScriptedYear(Year):
    """Year, reading only the messages that arrived since the last look: a year's mail is
    thousands of receipts, too many to parse again every day."""

    def new_mail(self):
        paths = sorted(self.mail.folder.glob("*.eml"))  # named by arrival time
        fresh, self.seen = paths[self.seen:], len(paths)
        return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                for path in fresh]


class Script:
    """What happened to each failing supporter, as their mailbox shows it."""

    def __init__(self, live, year):
        self.live, self.year = live, year
        self.emails = defaultdict(list)  # n -> recovery email kinds, in order
        self.after_payment = []  # (n, kind): a recovery email after the card paid
        self.paid = set()
        self.due = []  # (n, link): card replacements to make tomorrow
        self.number = {_email(n): n for n in PLANS}

    def read_mail(self):
        """File each new recovery email; plan tomorrow's card replacements."""
        for message in self.year.new_mail():
            kind = _kind(message["Subject"])
            n = self.number.get(str(message["To"]))
            if kind is None or n is None:
                continue
            if n in self.paid and kind != THANKS:
                self.after_payment.append((n, kind))
            self.emails[n].append(kind)
            plan = PLANS[n]
            if (plan, kind) in {("after_first_email", FAILED),
                                ("after_first_followup", REMINDER)}:
                self.due.append((n, _link(message)))

    def replace_cards(self):
        """Yesterday's readers of an email replace their card through its link."""
        due, self.due = self.due, []
        for n, link in due:
            answer = _replace_card_through(self.live, link)
            assert answer.status_code == 200, (n, answer.text[:300])
            self.paid.add(n)
        if due:
            self.live.settle()


def _expected_figures(renews):
    """The script's own count: {(month, currency): (failed, recovered, recovered_late,
    lost, open, money recovered in cents)}."""
    figures = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    for n, plan in PLANS.items():
        row = figures[(renews[n].strftime("%Y-%m"), "USD")]
        row[0] += 1
        if plan == "never":
            row[3] += 1
        else:
            row[1] += 1
            row[5] += 500 if n < MONTHLY else 5000
    return {key: tuple(row) for key, row in figures.items()}


def _dashboard_figures(client, first, last):
    answer = client.get(f"/dashboard/export/recovery.csv?start={first}&end={last}")
    assert answer.status_code == 200, answer.data[:300]
    rows = list(csv.DictReader(io.StringIO(answer.data.decode())))
    return {(row["month"], row["currency"]): (
        int(row["failed"]), int(row["recovered"]), int(row["recovered_late"]),
        int(row["lost"]), int(row["open"]), int(Decimal(row["money_recovered"]) * 100))
        for row in rows if row["currency"]}


def test_a_year_of_300_supporters(app, live, mail_server, staff_client):
    """The dashboard's recovery figures equal the script's count; every recovery email that
    should have gone out went out once, in order, and none after a payment."""
    live.control("/config", events=",".join(HANDLERS))  # what the app's endpoint listens to
    live.settle_seconds = 300  # a month's renewals at once
    year = ScriptedYear(live, mail_server)
    renews = _sign_up_everyone(live)
    year.work()
    year.new_mail()  # receipts
    script = Script(live, year)
    for _ in range(DAYS):
        script.replace_cards()
        year.advance(days=1)
        year.work()
        script.read_mail()

    for n, plan in PLANS.items():
        assert script.emails[n] == EXPECTED_EMAILS[plan], (n, plan)
    assert script.after_payment == []
    assert max(mail_server.message_ids().values()) == 1

    move_clock(current_time(live.app) - current_time(app), app)
    months = sorted(month for month, _ in _expected_figures(renews))
    shown = _dashboard_figures(staff_client("viewer"), months[0], months[-1])
    assert shown == _expected_figures(renews)
    assert Counter(PLANS.values()) == {"after_first_email": 13, "after_first_followup": 6,
                                       "never": 11}
    assert sum(row[0] for row in shown.values()) == 30
    assert timedelta(days=DAYS - 1) < current_time(app) - datetime.now(UTC)
