"""Appeal copy with placeholders, rendered so that a value can never become markup."""
import re

from markupsafe import Markup, escape

PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
KNOWN_PLACEHOLDERS = frozenset(
    {"article_count", "supporter_count", "goal_progress", "goal_raised", "goal_target"}
)


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


def render_body(html, values):
    """Body copy (sanitised when it was saved) with escaped placeholder values."""
    return Markup(_fill(html or "", values))
