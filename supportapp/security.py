"""Response headers that every page carries, and which proxies in front are trusted."""
from urllib.parse import urlsplit

from flask import current_app
from werkzeug.middleware.proxy_fix import ProxyFix

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
# A year, the shortest that browsers' preload lists accept; subdomains are the newsroom's
# business, so they are not included.
HSTS = "max-age=31536000"
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
    if current_app.config["SUPPORTAPP_ENV"] == "production":
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def trust_proxies(app):
    """Behind N proxies (SUPPORTAPP_TRUSTED_PROXIES), take the client address, scheme and
    host from the last N X-Forwarded-* entries: rate limits key on that address, and links
    to this site use that scheme. Entries a client added before them are ignored."""
    count = app.config["TRUSTED_PROXIES"]
    if count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count,
                                x_port=count)


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
