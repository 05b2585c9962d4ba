"""POST /v1/products, /v1/products/:id, /v1/prices, /v1/prices/:id."""

import pytest
import stripe

from .helpers import conforming


def test_create_product_is_active_listed_and_announced(client, api, webhooks):
    product = client.v1.products.create(
        params={"name": "Membership", "description": "Support", "metadata": {"tier": "gold"}}
    )
    assert product.id.startswith("prod_")
    assert (product.active, product.name, product.description) == (True, "Membership", "Support")
    assert product.metadata.to_dict() == {"tier": "gold"}
    assert product.default_price is None
    assert [p.id for p in client.v1.products.list().data] == [product.id]
    webhooks.wait_for("product.created")
    conforming(api, "GET", f"/v1/products/{product.id}")


def test_product_with_default_price_data_expands_its_price(client):
    product = client.v1.products.create(
        params={
            "name": "Monthly",
            "default_price_data": {
                "currency": "usd",
                "unit_amount": 700,
                "recurring": {"interval": "month"},
            },
            "expand": ["default_price"],
        }
    )
    price = product.default_price
    assert (price.unit_amount, price.currency, price.product) == (700, "usd", product.id)
    assert price.recurring.interval == "month"
    assert price.active is True


def test_product_custom_id_and_duplicate(client):
    client.v1.products.create(params={"name": "A", "id": "prod_custom"})
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.products.create(params={"name": "B", "id": "prod_custom"})
    assert error.value.code == "resource_already_exists"


def test_update_product_sends_previous_attributes(client, webhooks):
    product = client.v1.products.create(params={"name": "Old", "metadata": {"a": "1"}})
    updated = client.v1.products.update(
        product.id, params={"name": "New", "active": False, "metadata": {"a": "", "b": "2"}}
    )
    assert (updated.name, updated.active, updated.metadata.to_dict()) == ("New", False, {"b": "2"})
    webhooks.wait_for("product.updated")
    assert client.v1.products.list(params={"active": False}).data[0].id == product.id
    assert client.v1.products.list(params={"active": True}).data == []
    event = client.v1.events.list(params={"type": "product.updated"}).data[0]
    previous = event.data.previous_attributes
    assert (previous["name"], previous["active"], previous["metadata"].to_dict()) == (
        "Old", True, {"a": "1"})


def test_product_default_price_must_belong_to_it(client):
    product = client.v1.products.create(params={"name": "A"})
    other = client.v1.prices.create(
        params={"currency": "usd", "unit_amount": 100, "product_data": {"name": "B"}}
    )
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.products.update(product.id, params={"default_price": other.id})
    assert error.value.param == "default_price"
    mine = client.v1.prices.create(
        params={"currency": "usd", "unit_amount": 100, "product": product.id}
    )
    assert client.v1.products.update(product.id, params={"default_price": mine.id}).default_price \
        == mine.id


def test_product_errors(client):
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.products.create(params={"description": "no name"})
    assert (error.value.code, error.value.param) == ("parameter_missing", "name")
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.products.create(params={"name": "x", "colour": "red"})
    assert (error.value.code, error.value.param) == ("parameter_unknown", "colour")
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.products.update("prod_nope", params={"name": "x"})
    assert (error.value.http_status, error.value.code) == (404, "resource_missing")


def test_create_recurring_price_for_product(client, api, webhooks):
    product = client.v1.products.create(params={"name": "Membership"})
    price = client.v1.prices.create(
        params={
            "product": product.id,
            "currency": "EUR",
            "unit_amount": 1200,
            "recurring": {"interval": "year"},
            "nickname": "Yearly",
            "lookup_key": "yearly_eur",
            "metadata": {"plan": "y"},
        }
    )
    amounts = (price.currency, price.unit_amount, str(price.unit_amount_decimal))
    assert amounts == ("eur", 1200, "1200")
    assert (price.type, price.recurring.interval, price.recurring.interval_count) == (
        "recurring", "year", 1)
    assert (price.nickname, price.lookup_key, price.active) == ("Yearly", "yearly_eur", True)
    assert price.metadata.to_dict() == {"plan": "y"}
    found = client.v1.prices.list(params={"lookup_keys": ["yearly_eur"]}).data
    assert [p.id for p in found] == [price.id]
    assert client.v1.prices.list(params={"product": product.id, "type": "one_time"}).data == []
    webhooks.wait_for("price.created")
    conforming(api, "GET", f"/v1/prices/{price.id}?expand[]=product")


def test_price_with_product_data_makes_an_active_product(client):
    price = client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 500,
            "product_data": {"name": "Gift"},
            "active": False,
            "expand": ["product"],
        }
    )
    assert price.active is False
    assert price.type == "one_time" and price.recurring is None
    assert (price.product.name, price.product.active) == ("Gift", True)


def test_price_create_errors(client):
    def refused(**params):
        with pytest.raises(stripe.InvalidRequestError) as error:
            client.v1.prices.create(params=params)
        return error.value

    product = client.v1.products.create(params={"name": "A"})
    assert refused(unit_amount=100, product=product.id).param == "currency"
    assert refused(currency="usd", unit_amount=100).code == "parameter_missing"
    assert refused(currency="usd", product=product.id).param == "unit_amount"
    assert refused(currency="usd", unit_amount=100, product="prod_nope").http_status == 400
    assert refused(currency="xyz", unit_amount=100, product=product.id).param == "currency"
    assert refused(
        currency="usd", unit_amount=1, product=product.id, recurring={"interval": "fortnight"}
    ).param == "recurring[interval]"
    both = refused(currency="usd", unit_amount=1, product=product.id, product_data={"name": "x"})
    assert both.code == "parameters_exclusive"


def test_update_price_and_refuse_amount_change(client, webhooks):
    price = client.v1.prices.create(
        params={"currency": "usd", "unit_amount": 500, "product_data": {"name": "A"}}
    )
    updated = client.v1.prices.update(
        price.id,
        params={"active": False, "nickname": "Old", "lookup_key": "k1", "metadata": {"x": "1"}},
    )
    assert (updated.active, updated.nickname, updated.lookup_key) == (False, "Old", "k1")
    assert updated.unit_amount == 500
    webhooks.wait_for("price.updated")
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.prices.update(price.id, params={"unit_amount": 900})
    assert (error.value.code, error.value.param) == ("parameter_unknown", "unit_amount")
    assert client.v1.prices.retrieve(price.id).unit_amount == 500
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.prices.update("price_nope", params={"active": True})
    assert error.value.http_status == 404


def test_lookup_key_is_unique_unless_transferred(client):
    first = client.v1.prices.create(
        params={"currency": "usd", "unit_amount": 500, "product_data": {"name": "A"},
                "lookup_key": "standard"}
    )
    params = {"currency": "usd", "unit_amount": 600, "product": first.product,
              "lookup_key": "standard"}
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.prices.create(params=params)
    assert error.value.param == "lookup_key" and first.id in str(error.value)
    second = client.v1.prices.create(params={**params, "transfer_lookup_key": True})
    assert second.lookup_key == "standard"
    assert client.v1.prices.retrieve(first.id).lookup_key is None


def test_price_create_is_idempotent(api):
    data = {"currency": "usd", "unit_amount": "500", "product_data[name]": "A"}
    headers = {"Idempotency-Key": "price-1"}
    first = api("POST", "/v1/prices", data=data, headers=headers)
    again = api("POST", "/v1/prices", data=data, headers=headers)
    assert first.json()["id"] == again.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(api("GET", "/v1/prices").json()["data"]) == 1
