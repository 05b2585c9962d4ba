"""The `/v1` machinery: authentication, parameters, idempotency, rendering.

`endpoint(...)` wraps each view so that a view only sees validated params
and returns a stored object; everything Stripe does around a call (secret
key check, `expand[]`, `Idempotency-Key`, `Request-Id`, error objects)
happens here, under the store lock, so each call is atomic.
"""

import json
import re
from functools import wraps

from flask import Blueprint, Response, current_app, request

from .. import expand
from ..events import current_request
from ..ids import new_id
from ..params import validate
from ..shapes.common import API_VERSION, list_object
from ..wire import StripeError, decode_pairs

bp = Blueprint("stripe_api", __name__, url_prefix="/v1")

_SECRET_KEY = re.compile(r"^(sk|rk)_test_\w+$")


def state():
    return current_app.extensions["stripe_emulator"]


def endpoint(fields, result_type):
    """Wrap a view `fn(state, params, **url_args)` that returns a stored object.

    `fields` is the params schema; `result_type` is the object type the view
    returns ("list:x" for lists), which tells `expand[]` what can be expanded.
    """

    def decorator(fn):
        @wraps(fn)
        def view(**url_args):
            emulator = state()
            pairs = _raw_pairs()
            with emulator.store.transaction():
                replay = _replay(emulator, pairs)
                if replay is not None:
                    return replay
                params = validate(decode_pairs(pairs), fields)
                expand.check(result_type, params.get("expand", []))
                status, body = _execute(emulator, fn, params, url_args)
                _remember(emulator, pairs, status, body)
            return _json(status, body)

        # The params a view takes, for whoever lists the API (the fuzz test, the docs).
        view.params_schema = fields
        return view

    return decorator


def render(emulator, obj, paths=None):
    """The response body for a stored object (or list object), expanded."""
    def resolve(object_id):
        return emulator.store.get(object_id, include_deleted=True)

    return expand.render(obj, paths, resolve, lambda o, f: _include(emulator, o, f))


def _include(emulator, obj, field):
    """Fields Stripe only returns on request (`expand[]=line_items`)."""
    private = emulator.store.private[obj["id"]]
    if field == "line_items":
        return list_object(private["line_items"], f"/v1/checkout/sessions/{obj['id']}/line_items")
    payments = [emulator.store.get(i) for i in private["payments"]]
    return list_object(payments, f"/v1/invoice_payments?invoice={obj['id']}")


def _execute(emulator, fn, params, url_args):
    token = current_request.set((request.environ["stripe.request_id"], _idempotency_key()))
    try:
        result = fn(emulator, params, **url_args)
        return 200, render(emulator, result, params.get("expand"))
    except StripeError as error:
        if error.status != 402:
            raise  # refused before anything happened: not kept for idempotency
        return error.status, error.to_dict()
    finally:
        current_request.reset(token)


def _raw_pairs():
    pairs = list(request.args.items(multi=True))
    if request.method == "POST":
        if request.content_length and request.mimetype != "application/x-www-form-urlencoded":
            raise StripeError(
                f"Invalid request: unsupported Content-Type {request.mimetype}. Stripe's v1 "
                "API takes application/x-www-form-urlencoded bodies."
            )
        pairs += list(request.form.items(multi=True))
    return pairs


def _idempotency_key():
    return request.headers.get("Idempotency-Key") if request.method == "POST" else None


def _fingerprint(pairs):
    # Lists, not tuples: the fingerprint is kept as JSON in a state file.
    return [request.method, request.path, sorted([key, value] for key, value in pairs)]


def _replay(emulator, pairs):
    key = _idempotency_key()
    if not key:
        return None
    if len(key) > 255:
        raise StripeError(
            "Idempotency keys can be at most 255 characters long.", param="Idempotency-Key"
        )
    saved = emulator.store.replay(key)
    if saved is None:
        return None
    fingerprint, status, body = saved
    if fingerprint != _fingerprint(pairs):
        raise StripeError(
            "Keys for idempotent requests can only be used with the same parameters they "
            f"were first used with. Try using a key other than '{key}' if you meant to "
            "execute a different request.",
            type="idempotency_error",
        )
    response = _json(status, body)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _remember(emulator, pairs, status, body):
    key = _idempotency_key()
    if key:
        emulator.store.remember(key, [_fingerprint(pairs), status, body])


def _json(status, body):
    return Response(json.dumps(body, indent=2), status=status, mimetype="application/json")


@bp.before_request
def _authenticate():
    request.environ["stripe.request_id"] = new_id("req")
    key = _api_key()
    if not key:
        raise StripeError(
            "You did not provide an API key. You need to provide your API key in the "
            "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
            "YOUR_SECRET_KEY').",
            status=401,
        )
    if not _SECRET_KEY.match(key):
        raise StripeError(
            f"Invalid API Key provided: {key[:8]}***{key[-4:]}. The Stripe emulator takes "
            "test mode secret or restricted keys (sk_test_..., rk_test_...).",
            status=401,
        )


def _api_key():
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[len("Bearer ") :].strip()
    if request.authorization and request.authorization.type == "basic":
        return request.authorization.username  # curl -u sk_test_...:
    return None


@bp.after_request
def _stripe_headers(response):
    response.headers["Request-Id"] = request.environ.get("stripe.request_id", "")
    response.headers["Stripe-Version"] = API_VERSION
    return response


def error_response(error):
    return _json(error.status, error.to_dict())
