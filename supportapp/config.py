"""Settings, read from environment variables when the app is built.

`.env` is read only by the entry points (app.py, scripts/run_dev.py, and the `flask` command
itself), through `load_dotenv_files`, never by `create_app`: tests and other code that build
an app get exactly the environment they were given.
"""
import os
import secrets
from decimal import Decimal, InvalidOperation
from pathlib import Path

from supportapp.mail_settings import mail_settings

SUPPORTED_CURRENCIES = ("USD", "EUR", "GBP", "CAD", "AUD")


class ConfigError(RuntimeError):
    """Raised when the environment cannot produce a safe configuration."""


def _flag(name, default="0"):
    return os.environ.get(name, default).strip().lower() in {"1", "true", "yes", "on"}


def _int(name, default):
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def _days_after(name, default):
    """`3,7` -> (3, 7): days after an event, each 1 to 60, in increasing order; empty: ()."""
    raw = os.environ.get(name, default)
    try:
        days = tuple(int(part) for part in raw.replace(" ", "").split(",") if part)
    except ValueError:
        days = None
    if days is None or not all(1 <= day <= 60 for day in days) \
            or list(days) != sorted(set(days)):
        raise ConfigError(f"{name} must be days in increasing order, each 1 to 60, "
                          f"like {default} (empty: none), got {raw!r}")
    return days


def _origins(raw):
    # "https://a.example, https://b.example/" -> ("https://a.example", "https://b.example")
    return tuple(o.strip().rstrip("/").lower() for o in raw.replace(" ", ",").split(",")
                 if o.strip())


# With no STRIPE_SECRET_KEY the app talks to the local Stripe emulator
# (`python -m stripe_emulator`).
EMULATOR_API_BASE = "http://127.0.0.1:12111"
EMULATOR_SECRET_KEY = "sk_test_emulator"
EMULATOR_WEBHOOK_SECRET = "whsec_local_emulator"
DEFAULT_FEES = "2.9%+0.30"
TEST_KEY_PREFIXES = ("sk_test_", "rk_test_")


def _fees(raw):
    """`2.9%+0.30, GBP:1.5%+0.20` -> {"USD": (Decimal("0.029"), 30), ..., "GBP": (...)}."""
    fees, default = {}, None
    for entry in (e.strip() for e in raw.split(",") if e.strip()):
        currency, _, rule = entry.rpartition(":")
        percent, plus, fixed = rule.replace(" ", "").partition("%+")
        try:
            rate, fixed_minor = Decimal(percent) / 100, Decimal(fixed) * 100
            valid = plus and 0 <= rate < 1 and 0 <= fixed_minor == int(fixed_minor)
        except (InvalidOperation, ValueError, OverflowError):
            valid = False
        if not valid:
            raise ConfigError(f"SUPPORTAPP_FEES: cannot read {entry!r}; "
                              "write e.g. 2.9%+0.30 or GBP:1.5%+0.20")
        if currency and currency.upper() not in SUPPORTED_CURRENCIES:
            raise ConfigError(f"SUPPORTAPP_FEES: unknown currency {currency!r}")
        if currency:
            fees[currency.upper()] = (rate, int(fixed_minor))
        else:
            default = (rate, int(fixed_minor))
    default = default or _fees(DEFAULT_FEES)["USD"]
    return {code: fees.get(code, default) for code in SUPPORTED_CURRENCIES}


DEFAULT_FUNDING_USES = (
    "A reporter at every council, school board and harbour commission meeting|"
    "Public records requests, and the fees and lawyers they sometimes need|"
    "Keeping every story free to read, for everyone in Port Alder and the bay")


def _lines(raw):
    return tuple(line.strip() for line in raw.split("|") if line.strip())


# Gifts in other currencies count toward an appeal's funding goal at these rates: what one
# unit of each currency is worth in GOAL_RATE_REFERENCE. Approximate mid-market rates of
# mid-2025, rounded to two places: a ticker is a progress bar, not a ledger, and a euro
# counted at roughly its worth is nearer the truth than a euro not counted at all. The
# dashboard shows them beside every goal; set SUPPORTAPP_GOAL_RATES to your own.
GOAL_RATE_REFERENCE = "USD"
DEFAULT_GOAL_RATES = "EUR:1.16,GBP:1.34,CAD:0.72,AUD:0.65"
MAX_GOAL_RATE = Decimal(1000)
GOAL_RATE_MAX_DECIMALS = 6


def _goal_rate(entry):
    currency, colon, number = (part.strip() for part in entry.partition(":"))
    try:
        rate = Decimal(number)
        valid = colon and rate.is_finite() and 0 < rate <= MAX_GOAL_RATE \
            and rate.as_tuple().exponent >= -GOAL_RATE_MAX_DECIMALS
    except InvalidOperation:
        valid = False
    if not valid:
        raise ConfigError(f"SUPPORTAPP_GOAL_RATES: cannot read {entry!r}; write e.g. "
                          f"EUR:1.08,GBP:1.27 (what one unit is worth in {GOAL_RATE_REFERENCE}, "
                          f"above 0, at most {MAX_GOAL_RATE} and "
                          f"{GOAL_RATE_MAX_DECIMALS} decimals)")
    return currency.upper(), rate


def _goal_rates(raw):
    """`EUR:1.08,GBP:1.27` -> {"USD": Decimal("1"), "EUR": Decimal("1.08"), "GBP": ...}.

    Empty: no rates, so only gifts in a goal's own currency count toward it.
    """
    rates = {}
    for entry in (e.strip() for e in raw.split(",") if e.strip()):
        currency, rate = _goal_rate(entry)
        if currency not in SUPPORTED_CURRENCIES:
            raise ConfigError(f"SUPPORTAPP_GOAL_RATES: unknown currency {currency!r}; "
                              f"supported: {', '.join(SUPPORTED_CURRENCIES)}")
        if currency in rates:
            raise ConfigError(f"SUPPORTAPP_GOAL_RATES: {currency} is given twice")
        if currency == GOAL_RATE_REFERENCE and rate != 1:
            raise ConfigError(f"SUPPORTAPP_GOAL_RATES: rates are in {GOAL_RATE_REFERENCE}, "
                              f"so {GOAL_RATE_REFERENCE} can only be 1")
        rates[currency] = rate
    if rates:
        rates.setdefault(GOAL_RATE_REFERENCE, Decimal(1))
    return rates


def _hosts(raw):
    # "news.example, .news.example" -> ["news.example", ".news.example"]; unset -> None (any)
    hosts = [h.strip().lower() for h in raw.replace(" ", ",").split(",") if h.strip()]
    return hosts or None


def _stripe_settings():
    key = os.environ.get("STRIPE_SECRET_KEY", "").strip()
    emulator = not key
    return {
        "STRIPE_SECRET_KEY": key or EMULATOR_SECRET_KEY,
        "STRIPE_API_BASE": os.environ.get("STRIPE_API_BASE", "").strip()
        or (EMULATOR_API_BASE if emulator else ""),
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET", "").strip()
        or (EMULATOR_WEBHOOK_SECRET if emulator else ""),
        "STRIPE_USES_EMULATOR": emulator,
        "ALLOW_LIVE_KEYS": _flag("SUPPORTAPP_ALLOW_LIVE_KEYS"),
        "FEES": _fees(os.environ.get("SUPPORTAPP_FEES", DEFAULT_FEES)),
        # One-off -> monthly: a reader about to give 25 once is offered 25 / 5 = 5 a month.
        "MONTHLY_OFFER_DIVISOR": _int("SUPPORTAPP_MONTHLY_OFFER_DIVISOR", 5),
        "MAX_AMOUNT_MINOR": _int("SUPPORTAPP_MAX_AMOUNT_MINOR", 1_000_000),
        "CHECKOUT_RATE_LIMIT": os.environ.get("SUPPORTAPP_CHECKOUT_RATE_LIMIT",
                                              "10 per minute;50 per hour"),
        "THANKS_RATE_LIMIT": os.environ.get("SUPPORTAPP_THANKS_RATE_LIMIT", "30 per minute"),
        "WEBHOOK_RATE_LIMIT": os.environ.get("SUPPORTAPP_WEBHOOK_RATE_LIMIT", "600 per minute"),
        "CAPTCHA_VERIFIER": os.environ.get("SUPPORTAPP_CAPTCHA_VERIFIER", "").strip() or None,
    }


# The most days ahead each notice may go: a renewal notice a year early would tell of the
# renewal before last; a card notice over a quarter ahead is one that readers put aside.
NOTICE_DAY_LIMITS = {"RENEWAL_NOTICE_DAYS": 60, "CARD_EXPIRY_NOTICE_DAYS": 90}
# Percent of readers an appeal holds back (shows none) unless its editor or the setting says
# otherwise, and the most it may: past half, most readers would lose the appeal.
DEFAULT_HOLDBACK_PERCENT = 5
MAX_HOLDBACK_PERCENT = 50
# An appeal seen longer ago than this hardly explains a gift.
MAX_INFLUENCE_DAYS = 90


def check_config(config):
    """Refuse settings that would be unsafe to run with; the message says which and why."""
    key = config.get("STRIPE_SECRET_KEY") or ""
    if not key.startswith(TEST_KEY_PREFIXES) and not config.get("ALLOW_LIVE_KEYS"):
        raise ConfigError(
            "STRIPE_SECRET_KEY is not a test-mode key (sk_test_... or rk_test_...). "
            "supportapp refuses live keys unless SUPPORTAPP_ALLOW_LIVE_KEYS=1 is set."
        )
    if config.get("SUPPORTAPP_ENV") == "production" and not config.get("STRIPE_WEBHOOK_SECRET"):
        raise ConfigError("STRIPE_WEBHOOK_SECRET must be set when SUPPORTAPP_ENV=production")
    if config.get("SUPPORTAPP_ENV") == "production" and not config.get("TRUSTED_HOSTS"):
        raise ConfigError("SUPPORTAPP_TRUSTED_HOSTS must be set when SUPPORTAPP_ENV=production "
                          "(the host names this site answers to, e.g. news.example)")
    if config.get("TRUSTED_PROXIES", 0) < 0:
        raise ConfigError("SUPPORTAPP_TRUSTED_PROXIES must be 0 or more")
    if not 0 <= config.get("MONTHLY_OFFER_DIVISOR", 0) <= 100:
        raise ConfigError("SUPPORTAPP_MONTHLY_OFFER_DIVISOR must be 0 (no offer) to 100")
    if config.get("MAX_AMOUNT_MINOR", 0) < 100:
        raise ConfigError("SUPPORTAPP_MAX_AMOUNT_MINOR must be at least 100 (1.00)")
    if not 0 <= config.get("DEFAULT_HOLDBACK_PERCENT", 0) <= MAX_HOLDBACK_PERCENT:
        raise ConfigError("SUPPORTAPP_DEFAULT_HOLDBACK_PERCENT must be from 0 to "
                          f"{MAX_HOLDBACK_PERCENT}")
    for name in ("INFLUENCE_ONE_OFF_DAYS", "INFLUENCE_RECURRING_DAYS"):
        if not 0 <= config.get(name, 0) <= MAX_INFLUENCE_DAYS:
            raise ConfigError(f"SUPPORTAPP_{name} must be from 0 (never) to {MAX_INFLUENCE_DAYS}")
    for name, most in NOTICE_DAY_LIMITS.items():
        if not 0 <= config.get(name, 0) <= most:
            raise ConfigError(f"SUPPORTAPP_{name} must be 0 (no notices) to {most} days")


# An unreachable database host (not a refused port) must fail a request within seconds, not
# hold a worker for the operating system's TCP timeout of minutes.
DATABASE_CONNECT_TIMEOUT_SECONDS = 5


def engine_options(config):
    """SQLAlchemy engine options for the configured database."""
    options = {"pool_pre_ping": True, **config.get("SQLALCHEMY_ENGINE_OPTIONS", {})}
    if config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        connect_args = options.setdefault("connect_args", {})
        connect_args.setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT_SECONDS)
    return options


def _secret_key(instance_path, env):
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if env == "production":
        raise ConfigError("SECRET_KEY must be set when SUPPORTAPP_ENV=production")
    # A development key that survives restarts, so sessions and signed cookies stay valid.
    path = Path(instance_path) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def load_dotenv_files():
    """For entry points only: fill unset variables from the nearest `.flaskenv` and `.env`.

    The same files and rule as the `flask` command (searched from the working directory up;
    variables already set win), so `flask --app app`, `gunicorn app:app` and `make run` agree,
    and FLASK_SKIP_DOTENV=1 turns it off for all of them. True when a file set something.
    """
    from flask.cli import load_dotenv
    from flask.helpers import get_load_dotenv

    return get_load_dotenv() and load_dotenv()


def load_config(instance_path):
    """Build the settings mapping from the environment (`.env` is the entry points' job)."""
    env = os.environ.get("SUPPORTAPP_ENV", "development")
    default_db = f"sqlite:///{Path(instance_path) / 'supportapp.db'}"
    return {
        "SUPPORTAPP_ENV": env,
        "SECRET_KEY": _secret_key(instance_path, env),
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL", default_db),
        "SITE_NAME": os.environ.get("SUPPORTAPP_SITE_NAME", "The Harbour Ledger"),
        "SITE_TAGLINE": os.environ.get(
            "SUPPORTAPP_SITE_TAGLINE", "Independent news for Port Alder and the bay"
        ),
        "STORIES_PER_PAGE": _int("SUPPORTAPP_STORIES_PER_PAGE", 20),
        # How long a shared cache (CDN, proxy) may keep a page without the appeal, in seconds
        # (web/http_cache.py); pages with the appeal are never kept.
        "PUBLIC_PAGE_MAX_AGE": _int("SUPPORTAPP_PUBLIC_PAGE_MAX_AGE", 60),
        # What readers' money pays for, on /support: lines separated by "|".
        "FUNDING_USES": _lines(os.environ.get("SUPPORTAPP_FUNDING_USES", DEFAULT_FUNDING_USES)),
        # Far above any form of ours (the appeal editor, every field full, is about 600 kB and
        # 220 fields) and any Stripe event; more is refused with 413 before it is parsed.
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        "MAX_FORM_PARTS": 1000,
        "MAX_FORM_MEMORY_SIZE": 100_000,  # bytes in one field; a variant's body is 5,000 chars
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env == "production",
        "REMEMBER_COOKIE_SECURE": env == "production",
        "PREFERRED_URL_SCHEME": "https" if env == "production" else "http",
        "APPEAL_MAX_VIEWS": _int("SUPPORTAPP_APPEAL_MAX_VIEWS", 4),
        "APPEAL_VIEW_WINDOW_DAYS": _int("SUPPORTAPP_APPEAL_VIEW_WINDOW_DAYS", 30),
        "APPEAL_DISMISS_DAYS": _int("SUPPORTAPP_APPEAL_DISMISS_DAYS", 7),
        # A gift made another way (/support, the masthead, a reminder) is "influenced" by an
        # appeal the reader saw on a story within these days (services/gift_attribution.py).
        # A new appeal's holdback (readers shown no appeal, to measure its lift), 0 to 50.
        "DEFAULT_HOLDBACK_PERCENT": _int("SUPPORTAPP_DEFAULT_HOLDBACK_PERCENT",
                                         DEFAULT_HOLDBACK_PERCENT),
        "INFLUENCE_ONE_OFF_DAYS": _int("SUPPORTAPP_INFLUENCE_ONE_OFF_DAYS", 7),
        "INFLUENCE_RECURRING_DAYS": _int("SUPPORTAPP_INFLUENCE_RECURRING_DAYS", 14),
        "APPEAL_CACHE_SECONDS": _int("SUPPORTAPP_APPEAL_CACHE_SECONDS", 15),
        "APPEAL_PROGRESS_CACHE_SECONDS": _int("SUPPORTAPP_APPEAL_PROGRESS_CACHE_SECONDS", 60),
        "CONTENT_STAMP_SECONDS": _int("SUPPORTAPP_CONTENT_STAMP_SECONDS", 1),
        "GOAL_RATES": _goal_rates(os.environ.get("SUPPORTAPP_GOAL_RATES", DEFAULT_GOAL_RATES)),
        "BEACON_RATE_LIMIT": os.environ.get("SUPPORTAPP_BEACON_RATE_LIMIT", "600 per minute"),
        "TRACKING_JOURNAL_SECONDS": _int("SUPPORTAPP_TRACKING_JOURNAL_SECONDS", 1),
        # Unset: a folder per database under instance/ (see services/event_journal.py).
        "TRACKING_JOURNAL_DIR": os.environ.get("SUPPORTAPP_TRACKING_JOURNAL_DIR") or None,
        "TRACKING_LOOKUP_SECONDS": _int("SUPPORTAPP_TRACKING_LOOKUP_SECONDS", 60),
        # Reports read funnels rolled up at most this long ago (a worker job, else a thread
        # of the app: services/background_rollup.py); 0 turns the app's thread off.
        "TRACKING_ROLLUP_SECONDS": _int("SUPPORTAPP_TRACKING_ROLLUP_SECONDS", 60),
        # The worker rolls up when nobody has for half of this: every pass or two, so each
        # roll-up is a few seconds' events, not a minute's burst taken from the web workers.
        "TRACKING_WORKER_ROLLUP_SECONDS": _int("SUPPORTAPP_TRACKING_WORKER_ROLLUP_SECONDS", 4),
        # Report tables and appeal test statistics, kept per period and data version.
        "REPORT_CACHE_SECONDS": _int("SUPPORTAPP_REPORT_CACHE_SECONDS", 300),
        "EMBED_RATE_LIMIT": os.environ.get("SUPPORTAPP_EMBED_RATE_LIMIT", "300 per minute"),
        "LOGIN_RATE_LIMIT": os.environ.get("SUPPORTAPP_LOGIN_RATE_LIMIT", "10 per minute"),
        # "Manage my support": sign-in links asked for per client address, and per email
        # address (whoever asks); then link openings and changes per client address.
        "MANAGE_LINK_RATE_LIMIT": os.environ.get("SUPPORTAPP_MANAGE_LINK_RATE_LIMIT",
                                                 "5 per minute;20 per hour"),
        "MANAGE_LINK_EMAIL_RATE_LIMIT": os.environ.get(
            "SUPPORTAPP_MANAGE_LINK_EMAIL_RATE_LIMIT", "3 per 15 minutes;10 per day"),
        "MANAGE_RATE_LIMIT": os.environ.get("SUPPORTAPP_MANAGE_RATE_LIMIT", "30 per minute"),
        # "Remind me later" sign-ups kept per client address.
        "REMINDER_RATE_LIMIT": os.environ.get("SUPPORTAPP_REMINDER_RATE_LIMIT",
                                              "5 per minute;20 per hour"),
        # A renewal that failed: its first email at once, a follow-up on each of these days
        # after the failure while the invoice is unpaid (services/recovery.py).
        "RECOVERY_FOLLOWUP_DAYS": _days_after("SUPPORTAPP_RECOVERY_FOLLOWUP_DAYS", "3,7"),
        "EMBED_ORIGINS": _origins(os.environ.get("SUPPORTAPP_EMBED_ORIGINS", "")),
        # Host headers outside this list are refused (400) before they can reach a link.
        "TRUSTED_HOSTS": _hosts(os.environ.get("SUPPORTAPP_TRUSTED_HOSTS", "")),
        # How many proxies in front set X-Forwarded-For/-Proto/-Host (ProxyFix).
        "TRUSTED_PROXIES": _int("SUPPORTAPP_TRUSTED_PROXIES", 0),
        "RATELIMIT_STORAGE_URI": os.environ.get("REDIS_URL", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOG_LEVEL": os.environ.get("SUPPORTAPP_LOG_LEVEL", "INFO"),
        # Development: where the local mail server (python -m devmail, started by `make run`)
        # keeps what it receives, and what /_dev/mail lists.
        "DEV_MAIL_DIR": str(Path(instance_path) / "mail"),
        # Keeping supporters (services/notices.py): days before an annual renewal that its
        # notice is due, and before a renewal that a card expiring first is told of (0: off).
        "RENEWAL_NOTICE_DAYS": _int("SUPPORTAPP_RENEWAL_NOTICE_DAYS", 7),
        "CARD_EXPIRY_NOTICE_DAYS": _int("SUPPORTAPP_CARD_EXPIRY_NOTICE_DAYS", 30),
        **_stripe_settings(),
        **mail_settings(env),
    }
