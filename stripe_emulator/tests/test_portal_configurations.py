"""GET/POST /v1/billing_portal/configurations and GET .../:id."""

import pytest
import stripe

from .helpers import conforming


def test_one_default_configuration(client, api):
    configs = client.v1.billing_portal.configurations.list().data
    assert len(configs) == 1
    default = configs[0]
    assert (default.is_default, default.active) == (True, True)
    assert default.features.payment_method_update.enabled is True
    assert client.v1.billing_portal.configurations.retrieve(default.id).id == default.id
    conforming(api, "GET", "/v1/billing_portal/configurations")
    conforming(api, "GET", f"/v1/billing_portal/configurations/{default.id}")


def test_portal_sessions_name_the_default(client):
    customer = client.v1.customers.create(params={"email": "a@example.com"})
    session = client.v1.billing_portal.sessions.create(params={"customer": customer.id})
    default = client.v1.billing_portal.configurations.list(params={"is_default": True}).data[0]
    assert session.configuration == default.id


def test_create_configuration(client, api):
    config = client.v1.billing_portal.configurations.create(
        params={
            "features": {
                "invoice_history": {"enabled": True},
                "subscription_cancel": {"enabled": True, "mode": "immediately",
                                        "cancellation_reason": {"enabled": True,
                                                                "options": ["too_expensive"]}},
                "customer_update": {"enabled": True, "allowed_updates": ["email"]},
            },
            "business_profile": {"headline": "Support the newsroom"},
            "default_return_url": "https://news.example/account",
            "metadata": {"team": "growth"},
            "name": "Growth",
        }
    )
    assert config.id.startswith("bpc_") and config.is_default is False
    features = config.features
    assert features.invoice_history.enabled is True
    assert (features.subscription_cancel.enabled, features.subscription_cancel.mode) == (
        True, "immediately")
    assert features.subscription_cancel.cancellation_reason.options == ["too_expensive"]
    assert features.payment_method_update.enabled is False
    assert features.customer_update.allowed_updates == ["email"]
    assert config.business_profile.headline == "Support the newsroom"
    assert (config.default_return_url, config.name) == ("https://news.example/account", "Growth")
    listed = client.v1.billing_portal.configurations.list().data
    assert [c.id for c in listed][0] == config.id and len(listed) == 2
    assert [c.id for c in client.v1.billing_portal.configurations.list(
        params={"is_default": False}).data] == [config.id]
    conforming(api, "GET", f"/v1/billing_portal/configurations/{config.id}")
    customer = client.v1.customers.create(params={"email": "a@example.com"})
    session = client.v1.billing_portal.sessions.create(
        params={"customer": customer.id, "configuration": config.id})
    assert (session.configuration, session.return_url) == (
        config.id, "https://news.example/account")


def test_configuration_errors(client):
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.billing_portal.configurations.create(params={"name": "x"})
    assert (error.value.code, error.value.param) == ("parameter_missing", "features")
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.billing_portal.configurations.create(
            params={"features": {"invoice_history": {"enabled": True, "colour": "red"}}})
    assert (error.value.code, error.value.param) == (
        "parameter_unknown", "features[invoice_history][colour]")
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.billing_portal.configurations.create(
            params={"features": {"subscription_cancel": {"mode": "immediately"}}})
    assert error.value.param == "features[subscription_cancel][enabled]"
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.billing_portal.configurations.retrieve("bpc_nope")
    assert (error.value.http_status, error.value.code) == (404, "resource_missing")
    customer = client.v1.customers.create(params={"email": "a@example.com"})
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.billing_portal.sessions.create(
            params={"customer": customer.id, "configuration": "bpc_nope"})
    assert error.value.param == "configuration"


def test_create_is_idempotent(api):
    data = {"features[invoice_history][enabled]": "true"}
    headers = {"Idempotency-Key": "bpc-1"}
    first = api("POST", "/v1/billing_portal/configurations", data=data, headers=headers).json()
    again = api("POST", "/v1/billing_portal/configurations", data=data, headers=headers).json()
    assert first["id"] == again["id"]
    assert len(api("GET", "/v1/billing_portal/configurations").json()["data"]) == 2
