"""Stripe's `/v1` API: the blueprint, with the routes of `reads`, `writes` and `more`."""

from . import more, reads, writes
from .core import bp, error_response

__all__ = ["bp", "error_response", "more", "reads", "writes"]
