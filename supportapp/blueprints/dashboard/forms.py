"""Dashboard forms: sign-in, staff accounts, finding a supporter, and an appeal with its
variants."""
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from supportapp.config import MAX_HOLDBACK_PERCENT, SUPPORTED_CURRENCIES
from supportapp.labels import ALLOCATION_LABELS, ROLE_LABELS
from supportapp.models.appeal import ALLOCATION_MODES
from supportapp.models.staff import ROLES
from supportapp.services.appeals import MAX_LINE_LENGTH
from supportapp.services.giving import FREQUENCIES, FREQUENCY_LABELS
from supportapp.services.pricing import AmountError, parse_amount

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
MAX_VARIANTS = 10


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


ROLE_CHOICES = [SelectChoice(r, ROLE_LABELS[r]) for r in ROLES]


class StaffCreateForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    role = SelectField("Role", choices=ROLE_CHOICES, default="viewer")
    password = PasswordField("Password (at least 10 characters)", validators=[DataRequired()])


class StaffRoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


class SupporterSearchForm(FlaskForm):
    email = EmailField("Supporter's email address", validators=[DataRequired(), Length(max=320)],
                       filters=[lambda value: value.strip() if isinstance(value, str) else value])


class StatementDownloadForm(FlaskForm):
    """A supporter's statement of one year: the address travels in the POST body, never
    in the URL."""

    # Not "email": the page's search field already goes by that name.
    supporter = HiddenField(validators=[DataRequired(), Length(max=320)])
    year = IntegerField("Year", validators=[InputRequired("Choose a year.")])


def parse_amount_list(text):
    """'5, 10, 12.50' -> [500, 1000, 1250]; commas or spaces between amounts; Decimal only."""
    pieces = [p for p in (text or "").replace(",", " ").split() if p]
    try:
        return [parse_amount(p) for p in pieces]
    except AmountError as exc:
        raise ValueError(f"{text.strip()!r}: {exc}") from exc


def _amount_list(_form, field):
    try:
        parse_amount_list(field.data)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


class PresetsForm(Form):
    """One text field per currency and frequency, e.g. `USD_monthly`: blank means the defaults."""

    @staticmethod
    def key(currency, frequency):
        return f"{currency}_{frequency}"


for _currency in SUPPORTED_CURRENCIES:
    for _frequency in FREQUENCIES:
        setattr(PresetsForm, PresetsForm.key(_currency, _frequency), StringField(
            f"{_currency} {FREQUENCY_LABELS[_frequency].lower()}",
            validators=[Optional(), Length(max=200), _amount_list]))


class VariantForm(Form):
    id = HiddenField()
    name = StringField("Variant name", validators=[DataRequired(), Length(max=100)])
    heading = StringField("Heading", validators=[DataRequired(), Length(max=300)])
    body = TextAreaField("Body (paragraphs, <em>, <strong>, links)", validators=[Length(max=5000)])
    no_supporters_line = TextAreaField(
        "While no one has given: a line shown instead of the body (blank: the body)",
        validators=[Length(max=MAX_LINE_LENGTH)])
    cta_label = StringField("Button label", validators=[DataRequired(), Length(max=100)])
    presets = FormField(PresetsForm)
    default_frequency = SelectField(
        "Default frequency", choices=[SelectChoice(f, FREQUENCY_LABELS[f]) for f in FREQUENCIES],
        default="monthly")
    weight = IntegerField("Traffic weight", default=1, validators=[InputRequired()])
    is_control = BooleanField("Control (the wording others are compared with)")
    remove = BooleanField("Remove this variant")


def _sections(_form, field):
    if any(len(s) > 100 for s in (field.data or "").split(",")):
        raise ValidationError("a section name is at most 100 characters")


class AppealForm(FlaskForm):
    name = StringField("Name (staff only)", validators=[DataRequired(), Length(max=200)])
    starts_at = DateTimeLocalField("Starts (UTC)", format=DATETIME_FORMAT,
                                   validators=[Optional()])
    ends_at = DateTimeLocalField("Ends (UTC)", format=DATETIME_FORMAT, validators=[Optional()])
    placement_paragraph = IntegerField(
        "Insert after paragraph (blank: at the end of the story)",
        validators=[Optional(), NumberRange(min=1, max=1000)])
    target_sections = StringField("Only in sections (comma-separated; blank: all)",
                                  validators=[Length(max=2000), _sections])
    excluded_sections = StringField("Never in sections (comma-separated)",
                                    validators=[Length(max=2000), _sections])
    goal_amount = StringField("Funding goal (blank: no ticker)",
                              validators=[Optional(), Length(max=20)])
    goal_currency = SelectField("Goal currency", choices=list(SUPPORTED_CURRENCIES),
                                default="USD")
    goal_label = StringField("Goal label", validators=[Length(max=300)])
    ticker_threshold = StringField("Show the ticker once this much is raised (blank or 0: always)",
                                   validators=[Optional(), Length(max=20)])
    allocation = SelectField(
        "How readers are split", default="fixed",
        choices=[SelectChoice(m, ALLOCATION_LABELS[m]) for m in ALLOCATION_MODES])
    floor_percent = IntegerField("Bandit: each variant keeps at least this share of readers (%)",
                                 default=0, validators=[Optional(), NumberRange(min=0, max=100)])
    holdback_percent = IntegerField(
        "Holdback: readers shown no appeal, in percent (blank: unchanged)",
        validators=[Optional(), NumberRange(
            min=0, max=MAX_HOLDBACK_PERCENT,
            message=f"The holdback must be a whole percent from 0 to {MAX_HOLDBACK_PERCENT}.")])
    variants = FieldList(FormField(VariantForm), min_entries=1, max_entries=MAX_VARIANTS)
    # Not saved: which variant and currency the live preview shows.
    preview_variant = IntegerField("Preview variant", default=0, validators=[Optional()])
    preview_currency = SelectField("Preview currency", choices=list(SUPPORTED_CURRENCIES),
                                   default="USD")
    preview_supporters = IntegerField("Supporters (blank: as now)", validators=[Optional()])

    def validate_goal_amount(self, field):
        _amount(self, field)

    def validate_ticker_threshold(self, field):
        _amount(self, field)


def _amount(_form, field):
    try:
        parse_amount(field.data)
    except AmountError as exc:
        raise ValidationError(str(exc)) from exc
