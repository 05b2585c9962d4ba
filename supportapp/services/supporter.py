"""The signed supporter cookie: readers who gave recently do not see the appeal."""
import time
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

SUPPORTER_COOKIE = "sa_supporter"
ONE_OFF_QUIET_DAYS = 90
# A recurring gift hides the appeal while it lasts; the cookie itself outlives any period.
RECURRING_COOKIE_DAYS = 400
_SALT = "supportapp.supporter"


@dataclass(frozen=True)
class SupporterClaim:
    frequency: str  # "one_off", "monthly" or "annual"
    subscription_id: str | None
    issued_at: int

    @property
    def recurring(self):
        return self.frequency != "one_off"


def _serializer(secret_key):
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def make_supporter_token(secret_key, frequency, subscription_id=None):
    """A signed, tamper-proof value for the supporter cookie."""
    return _serializer(secret_key).dumps({"f": frequency, "s": subscription_id})


def cookie_max_age(frequency):
    """Seconds the supporter cookie should live for this kind of gift."""
    days = ONE_OFF_QUIET_DAYS if frequency == "one_off" else RECURRING_COOKIE_DAYS
    return days * 24 * 3600


def read_supporter_token(secret_key, token, now=None):
    """The claim in a supporter cookie, or None when missing, forged or expired."""
    if not token:
        return None
    now = now if now is not None else time.time()
    try:
        payload, issued = _serializer(secret_key).loads(token, return_timestamp=True)
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(payload, dict) or payload.get("f") not in ("one_off", "monthly", "annual"):
        return None
    claim = SupporterClaim(payload["f"], payload.get("s"), int(issued.timestamp()))
    if now - claim.issued_at > cookie_max_age(claim.frequency):
        return None
    return claim


def is_quiet_supporter(claim, subscription_is_active=None):
    """True when this supporter should not be asked again.

    One-off: for 90 days after the gift. Recurring: while the subscription lasts;
    subscription_is_active(subscription_id) answers that (None means not known yet,
    which keeps the supporter quiet, since the gift was just made).
    """
    if claim is None:
        return False
    if not claim.recurring or subscription_is_active is None or not claim.subscription_id:
        return True
    return subscription_is_active(claim.subscription_id) is not False
