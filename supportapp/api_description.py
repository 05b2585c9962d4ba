"""The OpenAPI description of the API (openapi.yaml beside this module), read once per app,
when first asked for.

Read on first use, not at start: only GET /api/openapi.json needs it, and reading it loads
PyYAML and keeps the parsed description, which no reader's request should carry in a web
worker's memory. tests/test_openapi.py reads it and runs schemathesis against every
operation it describes, so a broken file or a change to /api/events, /api/appeal or
/api/reports/* that it does not follow fails the suite.
"""
from pathlib import Path

from flask import current_app

EXTENSION = "supportapp.api_description"
DESCRIPTION_FILE = Path(__file__).resolve().parent / "openapi.yaml"


def init_app(app):
    """Make the app's slot for the description (filled on first use)."""
    app.extensions[EXTENSION] = None


def api_description():
    """The current app's OpenAPI description, as a dict."""
    app = current_app._get_current_object()
    if app.extensions[EXTENSION] is None:
        import yaml  # only this route needs PyYAML

        # Two threads may both read it the first time; each gets an equal dict.
        app.extensions[EXTENSION] = yaml.safe_load(DESCRIPTION_FILE.read_text(encoding="utf-8"))
    return app.extensions[EXTENSION]
