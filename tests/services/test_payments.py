"""The Stripe client's configuration: test keys only, the emulator when no key is set."""
import pytest

from supportapp.config import ConfigError
from supportapp.services import payments
from tests.conftest import make_app


@pytest.mark.parametrize("key", ["sk_live_abc", "rk_live_abc", "pk_test_abc", "nonsense"])
def test_live_or_odd_keys_refused(database_url, key):
    """A key that is not a test-mode secret key stops the app from starting, saying why."""
    with pytest.raises(ConfigError, match="SUPPORTAPP_ALLOW_LIVE_KEYS"):
        make_app(database_url, STRIPE_SECRET_KEY=key)


def test_live_key_allowed_explicitly(database_url):
    """SUPPORTAPP_ALLOW_LIVE_KEYS=1 lets a live key through."""
    app = make_app(database_url, STRIPE_SECRET_KEY="sk_live_abc", ALLOW_LIVE_KEYS=True)
    assert app.config["STRIPE_SECRET_KEY"] == "sk_live_abc"


def test_env_without_key_uses_emulator(monkeypatch, tmp_path):
    """No STRIPE_SECRET_KEY: the emulator's address, key and webhook secret are the defaults."""
    from supportapp.config import load_config

    for name in ("STRIPE_SECRET_KEY", "STRIPE_API_BASE", "STRIPE_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    config = load_config(str(tmp_path))
    assert config["STRIPE_API_BASE"] == "http://127.0.0.1:12111"
    assert config["STRIPE_SECRET_KEY"] == "sk_test_emulator"
    assert config["STRIPE_WEBHOOK_SECRET"] == "whsec_local_emulator"


def test_env_with_test_key_talks_to_stripe(monkeypatch, tmp_path):
    """A real test key: no API base override, the webhook secret comes from the environment."""
    from supportapp.config import load_config

    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_123")
    monkeypatch.delenv("STRIPE_API_BASE", raising=False)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_cli")
    config = load_config(str(tmp_path))
    assert config["STRIPE_API_BASE"] == "" and config["STRIPE_WEBHOOK_SECRET"] == "whsec_cli"


def test_bad_fee_setting_refused(monkeypatch, tmp_path):
    """An unreadable SUPPORTAPP_FEES stops the app with a message naming the setting."""
    from supportapp.config import load_config

    monkeypatch.setenv("SUPPORTAPP_FEES", "lots")
    with pytest.raises(ConfigError, match="SUPPORTAPP_FEES"):
        load_config(str(tmp_path))


def test_redirects_only_to_stripe_or_api_base(app):
    """Only Stripe's hosted pages or the configured API base are followed."""
    with app.test_request_context():
        assert payments.allowed_redirect("https://checkout.stripe.com/c/pay/cs_test_1")
        assert payments.allowed_redirect("http://127.0.0.1:12111/c/pay/cs_test_1")
        assert not payments.allowed_redirect("https://evil.example/c/pay/cs_test_1")
        assert not payments.allowed_redirect("https://checkout.stripe.com.evil.example/x")


def test_unreachable_stripe_is_unavailable(database_url):
    """Nothing listening at the API base: PaymentsUnavailable, not a crash."""
    app = make_app(database_url, STRIPE_API_BASE="http://127.0.0.1:9")
    with app.app_context(), pytest.raises(payments.PaymentsUnavailable):
        payments.retrieve_checkout_session("cs_test_abc")
