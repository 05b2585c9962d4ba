"""Response headers that every page carries."""
from urllib.parse import urlsplit

from flask import current_app

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: https:",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'self'",
    ]
)
# Chrome applies form-action to the redirect that follows a form POST, so the pages a
# form hands the reader to (Checkout, the customer portal) must be listed.
STRIPE_FORM_TARGETS = ("https://checkout.stripe.com", "https://billing.stripe.com")


def content_security_policy(config):
    """The CSP, with form-action allowing this site, Stripe and the configured API base."""
    targets = ["'self'", *STRIPE_FORM_TARGETS]
    base = urlsplit(config.get("STRIPE_API_BASE") or "")
    if base.scheme in ("http", "https") and base.netloc:
        targets.append(f"{base.scheme}://{base.netloc}")
    return f"{CONTENT_SECURITY_POLICY}; form-action {' '.join(targets)}"


def add_security_headers(response):
    """Set CSP and the usual hardening headers unless a view chose its own."""
    policies = current_app.extensions.setdefault("supportapp_csp", {})
    base = current_app.config.get("STRIPE_API_BASE")
    if base not in policies:
        policies[base] = content_security_policy(current_app.config)
    response.headers.setdefault("Content-Security-Policy", policies[base])
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    return response


def safe_local_path(target, default):
    """`target` when it is a path on this site ("/dashboard/x?y=1"), else `default`.

    Refuses anything a browser could take to another host: "//evil", "/\\evil", "https://...",
    and control characters that some browsers strip before parsing.
    """
    target = target or ""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return default
    parts = urlsplit(target)
    return default if parts.scheme or parts.netloc else target
