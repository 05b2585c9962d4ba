"""The forms of the manage pages. The choices they offer (frequencies, pause lengths, cancel
reasons) are the services' own; the services refuse anything else with the reason."""
from flask_wtf import FlaskForm
from wtforms import StringField

from supportapp.web.email_field import email_address_field, strip_spaces


class RequestLinkForm(FlaskForm):
    email = email_address_field("Email address", "Enter the email address you gave with.")


class ChangeGiftForm(FlaskForm):
    amount = StringField("Amount", filters=[strip_spaces])
    frequency = StringField("How often?")


class PauseForm(FlaskForm):
    months = StringField("Take a break for")


class CancelForm(FlaskForm):
    reason = StringField("Why are you cancelling? (optional)")


class ConfirmForm(FlaskForm):
    """A button that needs only its CSRF token: resume, replace the card, download, erase,
    sign out."""
