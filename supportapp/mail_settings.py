"""Mail settings, read from the environment with the rest of config.py's.

SUPPORTAPP_MAIL_URL says where the worker sends mail, in one value:
`smtp://user:password@host:587?starttls=1` (or `smtps://...:465` for TLS from the start).
Development and the tests use the local mail server (aiosmtpd) at smtp://127.0.0.1:1025.
"""
import os
from email.utils import parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

DEV_MAIL_URL = "smtp://127.0.0.1:1025"
DEV_MAIL_FROM = "The Harbour Ledger <supporters@harbour-ledger.example>"
DEV_PUBLIC_URL = "http://127.0.0.1:5000"
SMTP_TIMEOUT_SECONDS = 20
# The worker's retries: the first after MAIL_RETRY_SECONDS, each next one twice as late, never
# more than MAIL_RETRY_MAX_SECONDS apart; the message is given up after MAIL_MAX_ATTEMPTS
# tries. These defaults keep trying for about 17 hours, through a mail server's bad night.
DEFAULT_MAX_ATTEMPTS = 12
DEFAULT_RETRY_SECONDS = 60
DEFAULT_RETRY_MAX_SECONDS = 4 * 3600
# How long a worker holds the messages it took; one that dies lets them go after this.
DEFAULT_LEASE_SECONDS = 300


def _error(message):
    from supportapp.config import ConfigError

    return ConfigError(message)


def _flag(values, name):
    return (values.get(name) or ["0"])[0].strip().lower() in {"1", "true", "yes", "on"}


def _whole_number(name, default, minimum):
    raw = os.environ.get(name, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise _error(f"{name} must be a whole number of at least {minimum}, got {raw!r}")
    return value


def worker_settings():
    """How often and how long the worker tries a message, and how long it holds one."""
    retry = _whole_number("SUPPORTAPP_MAIL_RETRY_SECONDS", DEFAULT_RETRY_SECONDS, 1)
    return {
        "MAIL_MAX_ATTEMPTS": _whole_number("SUPPORTAPP_MAIL_MAX_ATTEMPTS",
                                           DEFAULT_MAX_ATTEMPTS, 1),
        "MAIL_RETRY_SECONDS": retry,
        "MAIL_RETRY_MAX_SECONDS": _whole_number("SUPPORTAPP_MAIL_RETRY_MAX_SECONDS",
                                                max(DEFAULT_RETRY_MAX_SECONDS, retry), retry),
        "MAIL_LEASE_SECONDS": _whole_number("SUPPORTAPP_MAIL_LEASE_SECONDS",
                                            DEFAULT_LEASE_SECONDS, 1),
    }


def parse_mail_url(url):
    """`smtp://user:pass@host:587?starttls=1` -> Flask-Mailman's MAIL_* settings."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise _error("SUPPORTAPP_MAIL_URL must look like smtp://user:password@host:587"
                     "?starttls=1 (or smtps://...:465)")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 25)
    except ValueError as exc:
        raise _error("SUPPORTAPP_MAIL_URL has a port that is not a number") from exc
    query = parse_qs(parts.query)
    return {
        "MAIL_SERVER": parts.hostname,
        "MAIL_PORT": port,
        "MAIL_USERNAME": unquote(parts.username) if parts.username else None,
        "MAIL_PASSWORD": unquote(parts.password) if parts.password else None,
        "MAIL_USE_SSL": parts.scheme == "smtps",
        "MAIL_USE_TLS": parts.scheme == "smtp" and _flag(query, "starttls"),
        "MAIL_TIMEOUT": SMTP_TIMEOUT_SECONDS,
    }


def _address(name, raw, required):
    raw = (raw or "").strip()
    if not raw:
        if required:
            raise _error(f"{name} must be set when SUPPORTAPP_ENV=production")
        return None
    if "\r" in raw or "\n" in raw or "@" not in parseaddr(raw)[1]:
        raise _error(f"{name} must be an email address, e.g. Newsroom <news@example.org>")
    return raw


def mail_settings(env):
    """The mail and newsroom settings; production must name its own mail server, sender and
    public address (the development defaults would send nowhere useful)."""
    production = env == "production"
    url = os.environ.get("SUPPORTAPP_MAIL_URL", "").strip()
    if production and not url:
        raise _error("SUPPORTAPP_MAIL_URL must be set when SUPPORTAPP_ENV=production")
    public_url = os.environ.get("SUPPORTAPP_PUBLIC_URL", "").strip().rstrip("/")
    if production and not public_url.startswith("https://"):
        raise _error("SUPPORTAPP_PUBLIC_URL must be this site's https:// address in production "
                     "(links in emails use it)")
    return {
        **parse_mail_url(url or DEV_MAIL_URL),
        **worker_settings(),
        "MAIL_FROM": _address("SUPPORTAPP_MAIL_FROM", os.environ.get("SUPPORTAPP_MAIL_FROM"),
                              production) or DEV_MAIL_FROM,
        "MAIL_REPLY_TO": _address("SUPPORTAPP_MAIL_REPLY_TO",
                                  os.environ.get("SUPPORTAPP_MAIL_REPLY_TO"), False),
        "PUBLIC_URL": public_url or DEV_PUBLIC_URL,
        "ORG_LEGAL_NAME": os.environ.get("SUPPORTAPP_ORG_LEGAL_NAME", "").strip() or None,
        "ORG_ADDRESS": os.environ.get(
            "SUPPORTAPP_ORG_ADDRESS", "1 Harbour Street, Port Alder, BC 00000").strip(),
        "RECEIPT_NOTE": os.environ.get("SUPPORTAPP_RECEIPT_NOTE", "").strip(),
    }
