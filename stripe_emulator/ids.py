"""Ids that look like Stripe's (`cs_test_a1...`, `pi_3P...`, `cus_Q...`)."""

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits

# Stripe's id lengths vary by type; these are close to what the API returns.
_LENGTHS = {"cus": 14, "prod": 14, "si": 14, "req": 14, "cs_test": 58}


def new_id(prefix):
    length = _LENGTHS.get(prefix, 24)
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def token(length=24):
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))
