"""Helpers for views that are not views themselves (they may read the request)."""
