"""Which Checkout Sessions this browser started: the thank-you page's details are theirs only.

A thank-you URL (`/contribute/thanks?session_id=cs_...`) ends up in access logs, browser
history and links shared by mistake. Whoever opens it must not see the donor's email or get
the customer portal (where a recurring gift can be cancelled). The browser that started the
checkout carries a signed cookie listing its recent session ids; only it gets the details.
"""
from itsdangerous import BadSignature, URLSafeTimedSerializer

CHECKOUT_COOKIE = "sa_checkouts"
KEEP_SESSIONS = 5
# A Checkout Session expires 24 hours after it is created; a reader may come back late.
MAX_AGE_SECONDS = 2 * 24 * 3600
_SALT = "supportapp.checkouts"


def _serializer(secret_key):
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def started_sessions(secret_key, cookie_value):
    """The session ids this browser's cookie vouches for (empty when missing or forged)."""
    if not cookie_value:
        return ()
    try:
        ids = _serializer(secret_key).loads(cookie_value, max_age=MAX_AGE_SECONDS)
    except (BadSignature, ValueError, TypeError):
        return ()
    return tuple(i for i in ids if isinstance(i, str)) if isinstance(ids, list) else ()


def add_session(secret_key, cookie_value, session_id):
    """The cookie value that also vouches for `session_id` (the newest few are kept)."""
    kept = [i for i in started_sessions(secret_key, cookie_value) if i != session_id]
    return _serializer(secret_key).dumps((kept + [session_id])[-KEEP_SESSIONS:])
