"""Settings, read from environment variables (and an optional `.env`) when the app is built."""
import os
import secrets
from pathlib import Path

from dotenv import load_dotenv

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


def load_config(instance_path):
    """Build the settings mapping from the environment; `.env` fills in what is unset."""
    load_dotenv(override=False)
    env = os.environ.get("SUPPORTAPP_ENV", "development")
    default_db = f"sqlite:///{Path(instance_path) / 'supportapp.db'}"
    return {
        "SUPPORTAPP_ENV": env,
        "SECRET_KEY": _secret_key(instance_path, env),
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL", default_db),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SITE_NAME": os.environ.get("SUPPORTAPP_SITE_NAME", "The Harbour Ledger"),
        "SITE_TAGLINE": os.environ.get(
            "SUPPORTAPP_SITE_TAGLINE", "Independent news for Port Alder and the bay"
        ),
        "STORIES_PER_PAGE": _int("SUPPORTAPP_STORIES_PER_PAGE", 20),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env == "production",
        "REMEMBER_COOKIE_SECURE": env == "production",
        "PREFERRED_URL_SCHEME": "https" if env == "production" else "http",
        "RATELIMIT_STORAGE_URI": os.environ.get("REDIS_URL", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOG_LEVEL": os.environ.get("SUPPORTAPP_LOG_LEVEL", "INFO"),
        "DEBUG_FLAG": _flag("FLASK_DEBUG"),
    }
