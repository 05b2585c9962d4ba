"""The emulator's Flask app factory."""

import logging

from flask import Flask, request
from werkzeug.exceptions import HTTPException

from . import api, control, pages, sepa
from .state import EmulatorState
from .wire import StripeError

log = logging.getLogger(__name__)


def create_emulator(forward_to=None, webhook_secret=None, state_file=None, **options):
    """A WSGI app that emulates Stripe; its state is `app.extensions["stripe_emulator"]`.

    `state_file` keeps the state in that SQLite file across restarts (None: in
    memory). `options` are `retry_days` and `after_retries` (failed renewals, see
    state.py), `async_delay` (seconds before a SEPA debit settles, see sepa.py),
    and the webhook retries (`retry_base`, `retry_cap`, `max_attempts`,
    `timeout`), e.g. to keep tests fast.
    """
    app = Flask(__name__)
    state = EmulatorState(forward_to, webhook_secret, state_file, **options)
    app.extensions["stripe_emulator"] = state
    state.settler = sepa.Settler(app, state)
    state.settler.start()
    app.register_blueprint(api.bp)
    app.register_blueprint(control.bp)
    app.register_blueprint(pages.bp)
    register_error_handlers(app)
    return app


def register_error_handlers(app):
    app.register_error_handler(StripeError, _stripe_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)


def _stripe_error(error):
    if request.path.startswith(("/c/", "/p/")):
        return pages.page_error(error)
    return api.error_response(error)


def _http_error(error):
    if request.path.startswith("/v1") and error.code in (404, 405):
        # Stripe answers an unknown route or method the same way.
        return _stripe_error(
            StripeError(
                f"Unrecognized request URL ({request.method}: {request.path}). Please see "
                "https://stripe.com/docs or we can help at https://support.stripe.com/.",
                status=404,
            )
        )
    if request.path.startswith(("/v1", "/_emulator")):
        return _stripe_error(StripeError(error.description, status=error.code))
    return error


def _unexpected_error(error):
    log.exception("stripe emulator bug while handling %s %s", request.method, request.path)
    return _stripe_error(
        StripeError(
            "The Stripe emulator hit an internal error; see its log.", status=500, type="api_error"
        )
    )
