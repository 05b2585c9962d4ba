"""Hosts, transport security and caching: what the app tells browsers and proxies."""
import pytest

from supportapp.config import ConfigError
from tests.conftest import make_app

PRODUCTION = {"SUPPORTAPP_ENV": "production", "STRIPE_WEBHOOK_SECRET": "whsec_prod",
              "TRUSTED_HOSTS": ["news.example"]}


def test_untrusted_host_cannot_become_a_link(database_url, fake_stripe):
    """With SUPPORTAPP_TRUSTED_HOSTS set, `Host: evil.example` is a 400 and creates no
    Checkout Session, so it can never become the success or cancel URL."""
    app = make_app(database_url, TRUSTED_HOSTS=["news.example"])
    client = app.test_client()
    form = {"frequency": "one_off", "amount": "5", "currency": "USD",
            "email": "reader@example.com", "nonce": "trusted-hosts-nonce-1"}
    response = client.post("/contribute", data=form, headers={"Host": "evil.example"})
    assert response.status_code == 400 and fake_stripe.created == []
    response = client.post("/contribute", data=form, headers={"Host": "news.example"})
    assert response.status_code == 303
    params, _ = fake_stripe.created[0]
    assert params["success_url"].startswith("http://news.example/")
    assert params["cancel_url"].startswith("http://news.example/")


def test_untrusted_host_on_the_embed_script(database_url):
    """The embed's form action comes from the host too; an untrusted one is refused."""
    app = make_app(database_url, TRUSTED_HOSTS=["news.example", ".news.example"])
    client = app.test_client()
    assert client.get("/embed.js", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/embed.js", headers={"Host": "www.news.example"}).status_code == 200


def test_production_requires_trusted_hosts(database_url):
    """A production app without SUPPORTAPP_TRUSTED_HOSTS refuses to start, saying so."""
    with pytest.raises(ConfigError, match="SUPPORTAPP_TRUSTED_HOSTS"):
        make_app(database_url, **{**PRODUCTION, "TRUSTED_HOSTS": None})


def test_hsts_in_production_only(database_url):
    """Production pages carry Strict-Transport-Security; development ones do not."""
    production = make_app(database_url, **PRODUCTION).test_client()
    response = production.get("/", headers={"Host": "news.example"})
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    development = make_app(database_url, SUPPORTAPP_ENV="development").test_client()
    assert "Strict-Transport-Security" not in development.get("/").headers


@pytest.mark.parametrize("path", ["/dashboard/", "/dashboard/stories", "/dashboard/contributions",
                                  "/dashboard/export/contributions.csv", "/dashboard/login"])
def test_dashboard_pages_are_never_stored(staff_client, path):
    """Every staff page and export says no-store: donors' details stay out of caches."""
    response = staff_client("admin").get(path)
    assert response.status_code in (200, 302)
    assert response.headers["Cache-Control"] == "no-store"


def test_config_reads_hosts_and_proxies(monkeypatch, tmp_path):
    """The environment's host list and proxy count are read as the README says."""
    from supportapp.config import load_config

    monkeypatch.setenv("SUPPORTAPP_TRUSTED_HOSTS", "News.Example, .news.example")
    monkeypatch.setenv("SUPPORTAPP_TRUSTED_PROXIES", "2")
    config = load_config(str(tmp_path))
    assert config["TRUSTED_HOSTS"] == ["news.example", ".news.example"]
    assert config["TRUSTED_PROXIES"] == 2
    monkeypatch.setenv("SUPPORTAPP_TRUSTED_PROXIES", "two")
    with pytest.raises(ConfigError, match="SUPPORTAPP_TRUSTED_PROXIES"):
        load_config(str(tmp_path))
