"""The worker's settings: defaults, overrides, and values that would make no sense refused."""
import pytest

from supportapp.config import ConfigError
from supportapp.mail_settings import worker_settings


def test_defaults_try_for_about_17_hours():
    """Unset: 12 tries, 60 s doubling to at most 4 hours apart, a 5-minute lease."""
    assert worker_settings() == {"MAIL_MAX_ATTEMPTS": 12, "MAIL_RETRY_SECONDS": 60,
                                 "MAIL_RETRY_MAX_SECONDS": 14400, "MAIL_LEASE_SECONDS": 300}


def test_each_can_be_set(monkeypatch):
    """Every setting comes from its SUPPORTAPP_MAIL_* variable."""
    for name, value in (("MAX_ATTEMPTS", "3"), ("RETRY_SECONDS", "5"),
                        ("RETRY_MAX_SECONDS", "40"), ("LEASE_SECONDS", "30")):
        monkeypatch.setenv(f"SUPPORTAPP_MAIL_{name}", value)
    assert worker_settings() == {"MAIL_MAX_ATTEMPTS": 3, "MAIL_RETRY_SECONDS": 5,
                                 "MAIL_RETRY_MAX_SECONDS": 40, "MAIL_LEASE_SECONDS": 30}


@pytest.mark.parametrize("name, value", [
    ("SUPPORTAPP_MAIL_MAX_ATTEMPTS", "0"), ("SUPPORTAPP_MAIL_MAX_ATTEMPTS", "many"),
    ("SUPPORTAPP_MAIL_RETRY_SECONDS", "-1"), ("SUPPORTAPP_MAIL_LEASE_SECONDS", "0"),
    ("SUPPORTAPP_MAIL_RETRY_MAX_SECONDS", "30"),  # shorter than the first wait (60 s)
    ("SUPPORTAPP_MAIL_LEASE_SECONDS", "2.5"),
])
def test_nonsense_is_refused_with_the_variable_named(monkeypatch, name, value):
    """A value that is not a whole number, or too small, stops start-up naming the setting."""
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        worker_settings()
