"""Builders for Stripe objects, one module per area.

Each builder returns a complete object with exactly the keys of the same
resource in Stripe's fixtures (shared/stripe/fixtures3.json), with values
set the way the current API (2026-10-28.endive) sets them.
"""
