"""The forms of the manage pages. The choices they offer (frequencies, pause lengths, cancel
reasons) are the services' own; the services refuse anything else with the reason."""
import re

from flask_wtf import FlaskForm
from wtforms import EmailField, StringField
from wtforms.validators import Email, InputRequired, Length, ValidationError

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _no_line_breaks(form, field):
    # Checked on what was sent, before any stripping: a line break in an address is an
    # attempt to add a mail header, not a typo.
    raw = field.raw_data[0] if field.raw_data else ""
    if _CONTROL.search(raw or ""):
        raise ValidationError("Enter one email address, on one line.")


def _strip(value):
    return value.strip(" ") if isinstance(value, str) else value


class RequestLinkForm(FlaskForm):
    email = EmailField("Email address", filters=[_strip], validators=[
        InputRequired("Enter the email address you gave with."),
        _no_line_breaks,
        Length(max=254, message="That email address is too long."),
        Email("Enter an email address like name@example.com.", check_deliverability=False),
    ])


class ChangeGiftForm(FlaskForm):
    amount = StringField("Amount", filters=[_strip])
    frequency = StringField("How often?")


class PauseForm(FlaskForm):
    months = StringField("Take a break for")


class CancelForm(FlaskForm):
    reason = StringField("Why are you cancelling? (optional)")


class ConfirmForm(FlaskForm):
    """A button that needs only its CSRF token: resume, replace the card, download, erase,
    sign out."""
