"""What the reader chose, checked before Stripe hears of it: the appeal's one-click POST and
the contribution form read the same fields."""
import re
import secrets

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, StringField
from wtforms.validators import Email, Length, Optional, ValidationError

from supportapp.config import SUPPORTED_CURRENCIES
from supportapp.services.beacon import valid_page_view_id
from supportapp.services.checkout import CheckoutOrder
from supportapp.services.giving import DEFAULT_FREQUENCY, FREQUENCIES
from supportapp.services.pricing import (
    MIN_AMOUNT_MINOR,
    AmountError,
    check_limits,
    parse_amount,
)
from supportapp.services.reminders import reminder_from_reference

_SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# Fields a reader may simply not have filled in yet.
_ASKABLE = ("frequency", "amount", "currency")
CHOICE_FIELDS = ("frequency", "amount", "currency", "story", "appeal", "variant", "reminder",
                 "pv")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def id_or_none(value):
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


class ChoiceForm(FlaskForm):
    """Frequency, amount and currency, and which appeal the reader came from.

    Each frequency's amount buttons have a name of their own (`amount_monthly`), so the
    amount charged is always the one shown for the chosen frequency, with or without
    script; `amount` is the plain value of a link (`/contribute?amount=5`).
    """

    frequency = StringField("How often?", filters=[_strip])
    amount = StringField("Amount", filters=[_strip])
    amount_one_off = StringField(filters=[_strip])
    amount_monthly = StringField(filters=[_strip])
    amount_annual = StringField(filters=[_strip])
    amount_custom = StringField("Other amount", filters=[_strip])
    currency = StringField("Currency", filters=[_strip])
    shown_currency = HiddenField(filters=[_strip])  # the currency the buttons were drawn in
    story = HiddenField()
    appeal = HiddenField()
    variant = HiddenField()
    pv = HiddenField()  # the appeal's page view: the funnel's key for a reader without an id
    reminder = HiddenField()  # a reminder email's signed reference (services/reminders.py)
    nonce = HiddenField()
    website = StringField("Leave this field empty")  # honeypot: people never see it

    amount_minor = None  # set by validate_amount

    @property
    def is_bot(self):
        return bool((self.website.data or "").strip())

    @property
    def chosen_amount_text(self):
        """What the reader typed, else the button they chose for their frequency."""
        button = getattr(self, f"amount_{self.frequency.data}", None)
        return ((self.amount_custom.data or "").strip()
                or ((button.data if button is not None else "") or "").strip()
                or (self.amount.data or "").strip())

    def chosen_amount_minor(self):
        """The chosen amount in minor units if it reads as one of at least 1.00, else None."""
        try:
            minor = parse_amount(self.chosen_amount_text)
        except AmountError:
            return None
        return minor if minor >= MIN_AMOUNT_MINOR else None

    @property
    def button_in_other_currency(self):
        """True when a preset button was chosen while it showed another currency (the reader
        switched currency with no script to redraw the buttons)."""
        shown = (self.shown_currency.data or "").upper()
        return (not (self.amount_custom.data or "").strip() and shown in SUPPORTED_CURRENCIES
                and shown != (self.currency.data or "").strip().upper())

    def choice(self):
        """The choice as plain link parameters (nothing personal), for a prefilled page."""
        values = {name: getattr(self, name).data for name in CHOICE_FIELDS}
        values["amount"] = self.chosen_amount_text
        return {name: value for name, value in values.items() if value}

    def validate_frequency(self, field):
        if field.data not in FREQUENCIES:
            raise ValidationError("Choose one-off, monthly or annual.")

    def validate_currency(self, field):
        field.data = (field.data or "").strip().upper()
        if field.data not in SUPPORTED_CURRENCIES:
            raise ValidationError("Choose one of " + ", ".join(SUPPORTED_CURRENCIES) + ".")

    def validate_amount(self, field):
        currency = (self.currency.data or "").strip().upper()
        try:
            minor = parse_amount(self.chosen_amount_text)
            check_limits(minor, currency if currency in SUPPORTED_CURRENCIES else "USD",
                         current_app.config["MAX_AMOUNT_MINOR"])
        except AmountError as exc:
            raise ValidationError(str(exc)) from exc
        if self.button_in_other_currency:
            raise ValidationError(f"The amounts are now in {currency}: please choose one again.")
        self.amount_minor = minor

    def validate_story(self, field):
        if field.data and not (_SLUG_RE.match(field.data) and len(field.data) <= 200):
            field.data = ""  # an attribution we cannot use is dropped, not held against the reader

    def order(self, reader_id, email=None, cover_fees=False):
        return CheckoutOrder(
            frequency=self.frequency.data, amount_minor=self.amount_minor,
            currency=self.currency.data, email=email, cover_fees=cover_fees,
            story=self.story.data or None, appeal_id=id_or_none(self.appeal.data),
            variant_id=id_or_none(self.variant.data), reader_id=reader_id,
            page_view=valid_page_view_id(self.pv.data),
            reminder_id=reminder_from_reference(self.reminder.data),
        )


class QuickGiveForm(ChoiceForm):
    """The appeal's button: one click to Stripe's page, which asks for the email. A story page
    holds no session, so this form carries no CSRF token; the view checks where the POST came
    from instead (web/origin.py)."""

    class Meta:
        csrf = False

    @property
    def nonce_or_none(self):
        """The nonce the appeal's script drew for this page view, if it sent one."""
        return self.nonce.data if _NONCE_RE.match(self.nonce.data or "") else None


class ContributeForm(ChoiceForm):
    """The full contribution form: the choice, an optional email and the fee cover."""

    email = EmailField("Email address (optional)", filters=[_strip], validators=[
        Optional(),
        Email("Enter an email address like name@example.com.", check_deliverability=False),
        Length(max=254, message="That email address is too long."),
    ])
    cover_fees = BooleanField("Add the card fees so the newsroom receives the full amount")

    def prepare(self, default_currency="USD"):
        """Ready the form for display: defaults where nothing was chosen, and a nonce (the
        idempotency key of one submission) kept across re-displays of the same form."""
        if not _NONCE_RE.match(self.nonce.data or ""):
            self.nonce.data = secrets.token_urlsafe(24)
        if self.frequency.data not in FREQUENCIES and not self.frequency.errors:
            self.frequency.data = DEFAULT_FREQUENCY
        if (self.currency.data or "").upper() in SUPPORTED_CURRENCIES:
            self.currency.data = self.currency.data.upper()
        elif not self.currency.errors:
            self.currency.data = default_currency
        self.amount.data = self.chosen_amount_text
        self.shown_currency.data = self.currency.data
        return self

    def validate_nonce(self, field):
        if not _NONCE_RE.match(field.data or ""):
            raise ValidationError("Please confirm your contribution.")

    def error_status(self):
        """200 when the reader only has something left to choose, 400 when input is wrong."""
        for name in self.errors:
            if name in ("nonce", "csrf_token"):
                continue  # a stale or missing form: the reader confirms once more
            if name not in _ASKABLE:
                return 400
            raw = getattr(self, name).raw_data
            empty = not self.chosen_amount_text if name == "amount" else not (
                raw and str(raw[0]).strip())
            if not empty and not (name == "amount" and self.button_in_other_currency):
                return 400
        return 200

    def contribution(self, reader_id):
        """The CheckoutOrder this form asks for."""
        return self.order(reader_id, email=(self.email.data or "").strip() or None,
                          cover_fees=bool(self.cover_fees.data))
