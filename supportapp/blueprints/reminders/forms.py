"""The "Remind me later" form: an address, a month from the ones offered, and consent."""
import re

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, StringField
from wtforms.validators import DataRequired, Email, InputRequired, Length, ValidationError

from supportapp.services.reminders import (
    MAX_EMAIL_LENGTH,
    ReminderRefused,
    check_month,
    month_label,
    month_value,
    months_offered,
    next_month,
    parse_month,
)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _no_line_breaks(form, field):
    # Checked on what was sent, before any stripping: a line break in an address is an
    # attempt to add a mail header, not a typo.
    raw = field.raw_data[0] if field.raw_data else ""
    if _CONTROL.search(raw or ""):
        raise ValidationError("Enter one email address, on one line.")


def _strip(value):
    return value.strip(" ") if isinstance(value, str) else value


class RemindForm(FlaskForm):
    email = EmailField("Your email address", filters=[_strip], validators=[
        InputRequired("Enter the email address to send the reminder to."),
        _no_line_breaks,
        Length(max=MAX_EMAIL_LENGTH, message="That email address is too long."),
        Email("Enter an email address like name@example.com.", check_deliverability=False),
    ])
    month = StringField("Remind me in")
    consent = BooleanField(validators=[DataRequired(
        "Tick the box to agree to the reminder email, or leave this form.")])
    story = HiddenField()
    appeal = HiddenField()
    variant = HiddenField()
    website = StringField("Leave this field empty")  # honeypot: people never see it

    @property
    def is_bot(self):
        return bool((self.website.data or "").strip())

    def validate_month(self, field):
        try:
            check_month(field.data)
        except ReminderRefused as exc:
            raise ValidationError(exc.message) from exc

    def month_choices(self):
        """(value, label, selected) for each month offered; the one asked for is chosen, or
        next month."""
        offered = months_offered()
        asked = parse_month(self.month.data)
        chosen = asked if asked in offered else next_month()
        return [(month_value(m), month_label(m), m == chosen) for m in offered]


def remind_form(args):
    """The form as a link prefills it: the story, appeal, variant and month it names."""
    return RemindForm(formdata=None, data={
        name: args.get(name) for name in ("story", "appeal", "variant", "month")
        if isinstance(args.get(name), str)})
