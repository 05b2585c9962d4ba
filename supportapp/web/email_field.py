"""The one email address a reader types on a form (to get a sign-in link, a reminder): one
plain address on one line, checked before any service sees it."""
import re

from wtforms import EmailField
from wtforms.validators import Email, InputRequired, Length, ValidationError

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _no_line_breaks(form, field):
    # Checked on what was sent, before any stripping: a line break in an address is an
    # attempt to add a mail header, not a typo.
    raw = field.raw_data[0] if field.raw_data else ""
    if _CONTROL.search(raw or ""):
        raise ValidationError("Enter one email address, on one line.")


def strip_spaces(value):
    """A form filter: the value without the spaces around it."""
    return value.strip(" ") if isinstance(value, str) else value


def email_address_field(label, missing, max_length=254):
    """An EmailField that refuses line breaks, display names and lists; `missing` is what
    the reader is told when they left it empty."""
    return EmailField(label, filters=[strip_spaces], validators=[
        InputRequired(missing),
        _no_line_breaks,
        Length(max=max_length, message="That email address is too long."),
        Email("Enter an email address like name@example.com.", check_deliverability=False),
    ])
