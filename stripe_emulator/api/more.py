"""Create/update endpoints for Products, Prices, PaymentIntents, Subscriptions and
customer portal configurations."""

from .. import catalog, intents, portal_configs, subscriptions
from ..lists import paginate
from ..params import Bool, list_fields
from .core import bp, endpoint
from .writes import params_without_expand


@bp.post("/products")
@endpoint(catalog.PRODUCT_CREATE_FIELDS, "product")
def create_product(state, params):
    return catalog.create_product(state, params_without_expand(params))


@bp.post("/products/<product_id>")
@endpoint(catalog.PRODUCT_UPDATE_FIELDS, "product")
def update_product(state, params, product_id):
    return catalog.update_product(state, product_id, params_without_expand(params))


@bp.post("/prices")
@endpoint(catalog.PRICE_CREATE_FIELDS, "price")
def create_price(state, params):
    return catalog.create_price(state, params_without_expand(params))


@bp.post("/prices/<price_id>")
@endpoint(catalog.PRICE_UPDATE_FIELDS, "price")
def update_price(state, params, price_id):
    return catalog.update_price(state, price_id, params_without_expand(params))


@bp.post("/payment_intents")
@endpoint(intents.CREATE_FIELDS, "payment_intent")
def create_payment_intent(state, params):
    return intents.create(state, params)


@bp.post("/payment_intents/<intent_id>/confirm")
@endpoint(intents.CONFIRM_FIELDS, "payment_intent")
def confirm_payment_intent(state, params, intent_id):
    return intents.confirm(state, intent_id, params)


@bp.post("/payment_intents/<intent_id>/cancel")
@endpoint(intents.CANCEL_FIELDS, "payment_intent")
def cancel_payment_intent(state, params, intent_id):
    return intents.cancel(state, intent_id, params)


@bp.post("/subscriptions")
@endpoint(subscriptions.CREATE_FIELDS, "subscription")
def create_subscription(state, params):
    return subscriptions.create(state, params_without_expand(params))


_CONFIGURATION = "billing_portal.configuration"


@bp.get("/billing_portal/configurations")
@endpoint(list_fields(active=Bool(), is_default=Bool()), f"list:{_CONFIGURATION}")
def list_portal_configurations(state, params):
    items = [
        config
        for config in portal_configs.all_newest_first(state)
        if all(config[name] == params[name] for name in ("active", "is_default") if name in params)
    ]
    return paginate(items, params, "/v1/billing_portal/configurations", _CONFIGURATION)


@bp.post("/billing_portal/configurations")
@endpoint(portal_configs.CREATE_FIELDS, _CONFIGURATION)
def create_portal_configuration(state, params):
    return portal_configs.create(state, params)


@bp.get("/billing_portal/configurations/<config_id>")
@endpoint({}, _CONFIGURATION)
def retrieve_portal_configuration(state, params, config_id):
    return portal_configs.get(state, config_id, "id")


@bp.post("/payment_methods/<method_id>/attach")
@endpoint(intents.ATTACH_FIELDS, "payment_method")
def attach_payment_method(state, params, method_id):
    return intents.attach(state, method_id, params)
