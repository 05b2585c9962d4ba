"""Template filters and globals: dates and money formatted with Babel, codes as words."""
from babel.dates import format_date
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from supportapp.config import SUPPORTED_CURRENCIES
from supportapp.extensions import db
from supportapp.labels import label
from supportapp.models.story import section_display_name
from supportapp.services import giving
from supportapp.services.money import decimal_string, format_money


def register(app):
    app.add_template_filter(long_date, "long_date")
    app.add_template_filter(section_display_name, "section_name")
    app.add_template_filter(format_money, "money")
    app.add_template_filter(decimal_string, "decimal")
    app.add_template_filter(label, "label")
    app.add_template_global(SUPPORTED_CURRENCIES, "supported_currencies")
    app.add_template_global(giving.FREQUENCIES, "giving_frequencies")
    app.add_template_global(giving.FREQUENCY_LABELS, "frequency_labels")
    app.add_template_global(giving.AMOUNT_LEGENDS, "amount_legends")
    app.add_template_global(giving.PER_PERIOD, "per_period")
    app.add_template_global(giving.PRESELECTED_INDEX, "preselected_index")
    app.add_template_filter(giving.with_period, "with_period")
    app.context_processor(site_context)


def long_date(value):
    return format_date(value, format="long", locale="en") if value else ""


def _nav_sections():
    from supportapp.services.stories import list_sections

    # Error pages render this too, including the one for a database that is down.
    try:
        return list_sections()
    except SQLAlchemyError:
        db.session.rollback()
        return []


def site_context():
    return {
        "site_name": current_app.config["SITE_NAME"],
        "site_tagline": current_app.config["SITE_TAGLINE"],
        "nav_sections": _nav_sections,
    }
