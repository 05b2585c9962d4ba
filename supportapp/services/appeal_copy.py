"""Appeal copy with placeholders, rendered so that a value can never become markup."""
import re
from functools import lru_cache

from babel import Locale
from babel.numbers import format_decimal
from markupsafe import Markup, escape

PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
KNOWN_PLACEHOLDERS = frozenset(
    {"article_count", "supporter_count", "goal_progress", "goal_raised", "goal_target"}
)
# The site's copy is English, like its dates and money (services/money.py).
COPY_LOCALE = "en"
# What a count placeholder renders to: the number with its noun, in the form that the
# locale's CLDR plural rules choose ("one", "few", "many", "other", ...; "zero" in languages
# that have it). "=0", as in ICU MessageFormat, is the wording for exactly nought.
COUNT_FORMS = {
    "article_count": {"=0": "no stories", "one": "{n} story", "other": "{n} stories"},
    "supporter_count": {"=0": "no supporters", "one": "{n} supporter",
                        "other": "{n} supporters"},
}
# For the appeal editor: what each placeholder shows. Counts get examples from COUNT_FORMS.
PLACEHOLDER_HELP = (
    ("article_count", "stories this reader opened in the last {days} days, this one included"),
    ("supporter_count", "readers who gave through this appeal since it started"),
    ("goal_progress", "share of the funding goal raised, e.g. 42%"),
    ("goal_raised", "money raised toward the goal, in the goal's currency, e.g. US$10,500"),
    ("goal_target", "the funding goal, e.g. US$25,000"),
)


@lru_cache(maxsize=16)
def _plural_form(locale):
    return Locale.parse(locale).plural_form


def count_phrase(count, forms, locale=COPY_LOCALE):
    """3, {"one": "{n} story", "other": "{n} stories"} -> "3 stories", by CLDR plural rules.

    `forms` maps "=0" and plural categories to wordings with {n} for the number (formatted
    for the locale); a category the forms lack falls back to "other".
    """
    if count == 0 and "=0" in forms:
        return forms["=0"]
    template = forms.get(_plural_form(locale)(count), forms["other"])
    return template.replace("{n}", format_decimal(count, locale=locale))


def count_values(counts, locale=COPY_LOCALE):
    """{"article_count": 1, ...} -> {"article_count": "1 story", ...} for the known counts."""
    return {name: count_phrase(count, COUNT_FORMS[name], locale)
            for name, count in counts.items() if name in COUNT_FORMS}


def placeholder_help(window_days):
    """(placeholder, what it shows) pairs for the appeal editor, counts with examples.

    `window_days` is how far back {article_count} looks (APPEAL_VIEW_WINDOW_DAYS).
    """
    help_rows = []
    for name, meaning in PLACEHOLDER_HELP:
        meaning = meaning.replace("{days}", str(window_days))
        if name in COUNT_FORMS:
            examples = ", ".join(f"“{count_phrase(n, COUNT_FORMS[name])}”" for n in (0, 1, 12))
            meaning = f"{meaning}, with its noun: {examples}"
        help_rows.append((f"{{{name}}}", meaning))
    return tuple(help_rows)


def unknown_placeholders(*texts):
    """Placeholder names used in the copy that the appeal cannot fill."""
    found = set()
    for text in texts:
        found.update(PLACEHOLDER_RE.findall(text or ""))
    return sorted(found - KNOWN_PLACEHOLDERS)


def _fill(text, values):
    def replace(match):
        name = match.group(1)
        if name in KNOWN_PLACEHOLDERS and name in values:
            return str(escape(str(values[name])))
        return match.group(0)  # unknown: shown literally, as the editor typed it

    return PLACEHOLDER_RE.sub(replace, text)


def render_heading(text, values):
    """Plain-text heading: the copy is escaped, then placeholders filled with escaped values."""
    return Markup(_fill(str(escape(text or "")), values))


def render_line(text, values):
    """A plain-text line (escaped, placeholders filled) as one paragraph of body copy."""
    return Markup("<p>%s</p>") % render_heading(text, values)


def render_body(html, values):
    """Body copy (sanitised when it was saved) with escaped placeholder values."""
    return Markup(_fill(html or "", values))
