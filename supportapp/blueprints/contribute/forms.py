"""The contribution form: what the reader chose, checked before Stripe hears of it."""
import re
import secrets

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, StringField
from wtforms.validators import Email, InputRequired, Length, ValidationError

from supportapp.config import SUPPORTED_CURRENCIES
from supportapp.services.checkout import FREQUENCY_NAMES, CheckoutOrder
from supportapp.services.pricing import (
    MIN_AMOUNT_MINOR,
    AmountError,
    check_limits,
    parse_amount,
)

_SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# Fields a reader may simply not have filled in yet (the appeal sends no email).
_ASKABLE = ("frequency", "amount", "currency", "email")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _id_or_none(value):
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


class ContributeForm(FlaskForm):
    frequency = StringField("How often?", filters=[_strip])
    amount = StringField("Amount", filters=[_strip])
    amount_custom = StringField("Other amount", filters=[_strip])
    currency = StringField("Currency", filters=[_strip])
    email = EmailField("Email address", filters=[_strip], validators=[
        InputRequired("Enter your email address; Stripe sends your receipt there."),
        Email("Enter an email address like name@example.com.", check_deliverability=False),
        Length(max=254, message="That email address is too long."),
    ])
    cover_fees = BooleanField("Add the card fees so the newsroom receives the full amount")
    story = HiddenField()
    appeal = HiddenField()
    variant = HiddenField()
    nonce = HiddenField()
    website = StringField("Leave this field empty")  # honeypot: people never see it

    amount_minor = None  # set by validate_amount

    def prepare(self, default_currency="USD"):
        """Ready the form for display: defaults where nothing was chosen, and a nonce (the
        idempotency key of one submission) kept across re-displays of the same form."""
        if not _NONCE_RE.match(self.nonce.data or ""):
            self.nonce.data = secrets.token_urlsafe(24)
        if self.frequency.data not in FREQUENCY_NAMES and not self.frequency.errors:
            self.frequency.data = "monthly"
        if (self.currency.data or "").upper() in SUPPORTED_CURRENCIES:
            self.currency.data = self.currency.data.upper()
        elif not self.currency.errors:
            self.currency.data = default_currency
        if self.amount_custom.data:
            self.amount.data = self.amount_custom.data
        return self

    @property
    def is_bot(self):
        return bool((self.website.data or "").strip())

    @property
    def chosen_amount_text(self):
        return (self.amount_custom.data or "").strip() or (self.amount.data or "").strip()

    def chosen_amount_minor(self):
        """The chosen amount in minor units if it reads as one of at least 1.00, else None."""
        try:
            minor = parse_amount(self.chosen_amount_text)
        except AmountError:
            return None
        return minor if minor >= MIN_AMOUNT_MINOR else None

    def validate_frequency(self, field):
        if not field.data:
            raise ValidationError("Choose one-off, monthly or annual.")
        if field.data not in FREQUENCY_NAMES:
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
        self.amount_minor = minor

    def validate_story(self, field):
        if field.data and not (_SLUG_RE.match(field.data) and len(field.data) <= 200):
            field.data = ""  # an attribution we cannot use is dropped, not held against the reader

    def validate_nonce(self, field):
        if not _NONCE_RE.match(field.data or ""):
            raise ValidationError("Please confirm your contribution.")

    def error_status(self):
        """200 when the reader only has something left to fill in, 400 when input is wrong."""
        for name in self.errors:
            if name in ("nonce", "csrf_token"):
                continue  # a stale or missing form: the reader confirms once more
            if name not in _ASKABLE:
                return 400
            raw = getattr(self, name).raw_data
            empty = not self.chosen_amount_text if name == "amount" else not (
                raw and str(raw[0]).strip())
            if not empty:
                return 400
        return 200

    def order(self, reader_id):
        return CheckoutOrder(
            frequency=self.frequency.data, amount_minor=self.amount_minor,
            currency=self.currency.data, email=self.email.data.strip(),
            cover_fees=bool(self.cover_fees.data), story=self.story.data or None,
            appeal_id=_id_or_none(self.appeal.data), variant_id=_id_or_none(self.variant.data),
            reader_id=reader_id,
        )
