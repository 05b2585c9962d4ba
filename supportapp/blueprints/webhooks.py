"""POST /stripe/webhook: Stripe's events, verified on the raw body, stored, then applied."""
from flask import Blueprint, current_app, request

from supportapp.extensions import csrf, limiter
from supportapp.request_guard import reads_own_body
from supportapp.services.payments import SignatureError, verify_webhook
from supportapp.services.stripe_events import RetryLater, receive_event

bp = Blueprint("webhooks", __name__)


def _webhook_limit():
    return current_app.config["WEBHOOK_RATE_LIMIT"]


@bp.post("/stripe/webhook")
@reads_own_body
@csrf.exempt  # signed by Stripe instead
@limiter.limit(_webhook_limit)
def stripe_webhook():
    if not current_app.config.get("STRIPE_WEBHOOK_SECRET"):
        current_app.logger.error("STRIPE_WEBHOOK_SECRET is not set; webhook refused")
        return {"error": "webhook secret not configured"}, 503
    try:
        event = verify_webhook(request.get_data(), request.headers.get("Stripe-Signature"))
    except SignatureError:
        return {"error": "invalid signature"}, 400
    except (ValueError, RecursionError):
        return {"error": "body is not JSON"}, 400
    try:
        result = receive_event(event)
    except RetryLater:
        return {"error": "not applied; retry later"}, 500
    return {"received": True, "result": result}, 200
