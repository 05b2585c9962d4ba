"""What this browser started: the thank-you page's details are its own, and a reader back
from Stripe's page finds the form as they left it.

A thank-you URL (`/contribute/thanks?session_id=cs_...`) ends up in access logs, browser
history and links shared by mistake. Whoever opens it must not see the donor's email or get
the customer portal (where a recurring gift can be cancelled). The browser that started the
checkout carries a signed cookie listing its recent session ids; only it gets the details.
The same cookie keeps the email the reader typed, so that cancelling on Stripe's page does
not empty the form; the email never travels in a URL.
"""
from itsdangerous import BadSignature, URLSafeTimedSerializer

CHECKOUT_COOKIE = "sa_checkouts"
KEEP_SESSIONS = 5
# A Checkout Session expires 24 hours after it is created; a reader may come back late.
MAX_AGE_SECONDS = 2 * 24 * 3600
_SALT = "supportapp.checkouts"


def _serializer(secret_key):
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def _payload(secret_key, cookie_value):
    if not cookie_value:
        return {}
    try:
        payload = _serializer(secret_key).loads(cookie_value, max_age=MAX_AGE_SECONDS)
    except (BadSignature, ValueError, TypeError):
        return {}
    return payload if isinstance(payload, dict) else {}


def started_sessions(secret_key, cookie_value):
    """The session ids this browser's cookie vouches for (empty when missing or forged)."""
    ids = _payload(secret_key, cookie_value).get("s")
    return tuple(i for i in ids if isinstance(i, str)) if isinstance(ids, list) else ()


def remembered_email(secret_key, cookie_value):
    """The email this browser last gave the form, or None."""
    email = _payload(secret_key, cookie_value).get("e")
    return email if isinstance(email, str) and len(email) <= 254 else None


def add_session(secret_key, cookie_value, session_id, email=None):
    """The cookie value that also vouches for `session_id` (the newest few are kept) and keeps
    `email` (or the one kept before)."""
    kept = [i for i in started_sessions(secret_key, cookie_value) if i != session_id]
    email = email or remembered_email(secret_key, cookie_value)
    payload = {"s": (kept + [session_id])[-KEEP_SESSIONS:]}
    if email:
        payload["e"] = email
    return _serializer(secret_key).dumps(payload)
