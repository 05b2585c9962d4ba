"""What a slug or a database id in a URL may look like, checked before any view runs.

Anything else never reaches the database: PostgreSQL refuses a NUL character in text and
an integer past 2**31 - 1 with errors that would otherwise surface as 500s.
"""
from werkzeug.routing import BaseConverter, IntegerConverter, ValidationError

from supportapp.services.stories import MAX_SLUG_LENGTH, SLUG_PATTERN

MAX_DATABASE_ID = 2**31 - 1  # the largest INTEGER, the type of every id column
_MAX_ID_DIGITS = len(str(MAX_DATABASE_ID))


class SlugConverter(BaseConverter):
    """`<slug:name>`: lower-case ASCII words joined by dashes, like story and section slugs."""

    regex = SLUG_PATTERN

    def to_python(self, value):
        if len(value) > MAX_SLUG_LENGTH:
            raise ValidationError()
        return value


class DatabaseIdConverter(IntegerConverter):
    """`<id:name>`: a whole number from 1 to MAX_DATABASE_ID; anything else is a 404."""

    regex = r"[0-9]+"  # ASCII digits only; \d would also take other scripts' digits

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=MAX_DATABASE_ID)

    def to_python(self, value):
        if len(value) > _MAX_ID_DIGITS:  # before int(), which refuses 4,300 digits with a 500
            raise ValidationError()
        return super().to_python(value)


def database_id(text):
    """A query-string id as an int, for `request.args.get(name, type=database_id)`.

    Raises ValueError (so `get` answers its default) unless `text` is 1 to MAX_DATABASE_ID
    written in ASCII digits.
    """
    text = text or ""
    if not (text.isascii() and text.isdigit() and len(text) <= _MAX_ID_DIGITS):
        raise ValueError("not a database id")
    value = int(text)
    if not 1 <= value <= MAX_DATABASE_ID:
        raise ValueError("not a database id")
    return value


def register(app):
    """Make `<slug:...>` and `<id:...>` available to every blueprint's routes."""
    app.url_map.converters["slug"] = SlugConverter
    app.url_map.converters["id"] = DatabaseIdConverter
