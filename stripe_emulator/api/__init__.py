"""Stripe's `/v1` API: the blueprint, with the routes of `reads` and `writes`."""

from . import reads, writes
from .core import bp, error_response

__all__ = ["bp", "error_response", "reads", "writes"]
