"""Ids that look like Stripe's (`cs_test_a1...`, `pi_3P...`, `cus_Q...`)."""

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits

# Stripe's id lengths vary by type; these are close to what the API returns.
_LENGTHS = {"cus": 14, "prod": 14, "si": 14, "req": 14, "cs_test": 58}


def new_id(prefix):
    return f"{prefix}_" + token(_LENGTHS.get(prefix, 24))


def token(length=24):
    # One call for all the random bytes: a year of renewals makes tens of thousands of ids.
    # (256 % 62 leaves the first letters slightly likelier: harmless for made-up ids.)
    return "".join(_ALPHABET[byte % len(_ALPHABET)] for byte in secrets.token_bytes(length))
