"""Builders for Stripe objects, one module per area.

Each builder returns a complete object with exactly the keys of the same
resource in Stripe's fixtures (`openapi/fixtures3.json` of github.com/stripe/openapi,
release v2436; the project's tests keep a copy in tests/fixtures/stripe/), with values
set the way the current API (2026-10-28.endive) sets them.
"""
