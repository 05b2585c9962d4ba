"""The "Remind me later" form: an address, a month from the ones offered, and consent."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import DataRequired, ValidationError

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
from supportapp.web.email_field import email_address_field


class RemindForm(FlaskForm):
    email = email_address_field("Your email address",
                                "Enter the email address to send the reminder to.",
                                max_length=MAX_EMAIL_LENGTH)
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
