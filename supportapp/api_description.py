"""The OpenAPI description of the API (openapi.yaml beside this module), read once per app.

tests/test_openapi.py runs schemathesis against every operation it describes, so a change to
/api/events, /api/appeal or /api/reports/* that it does not follow fails the suite.
"""
from pathlib import Path

import yaml
from flask import current_app

EXTENSION = "supportapp.api_description"
DESCRIPTION_FILE = Path(__file__).resolve().parent / "openapi.yaml"


def init_app(app):
    """Read the description now: a broken file stops the app at start, not at a request."""
    app.extensions[EXTENSION] = yaml.safe_load(DESCRIPTION_FILE.read_text(encoding="utf-8"))


def api_description():
    """The current app's OpenAPI description, as a dict."""
    return current_app.extensions[EXTENSION]
