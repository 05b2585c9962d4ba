"""Customer portal configurations: the default one, and ones made through the API.

Stripe accounts always have one default configuration (`is_default: true`,
the Dashboard's settings); the emulator adds it to the store the first time
it is needed, with the id its portal sessions name. A new configuration
starts from every feature disabled and takes what `features` enables.
Callers hold the store lock.
"""

import copy

from .checkout import INTERVALS
from .clock import now
from .ids import new_id
from .params import Arr, Bool, Int, Metadata, Obj, Str, missing
from .wire import not_found

DEFAULT_ID = "bpc_emulatordefault"
_PRORATION = Str(choices={"always_invoice", "create_prorations", "none"})
_FEEDBACK = {
    "customer_service", "low_quality", "missing_features", "other", "switched_service",
    "too_complex", "too_expensive", "unused",
}
_FEATURES = Obj(
    {
        "customer_update": Obj(
            {
                "allowed_updates": Arr(
                    Str(choices={"address", "email", "name", "phone", "shipping", "tax_id"})
                ),
                "enabled": Bool(),
            },
            required=["enabled"],
        ),
        "invoice_history": Obj({"enabled": Bool()}, required=["enabled"]),
        "payment_method_update": Obj(
            {"enabled": Bool(), "payment_method_configuration": Str(unsettable=True)},
            required=["enabled"],
        ),
        "subscription_cancel": Obj(
            {
                "cancellation_reason": Obj(
                    {"enabled": Bool(), "options": Arr(Str(choices=_FEEDBACK))},
                    required=["enabled", "options"],
                ),
                "enabled": Bool(),
                "mode": Str(choices={"at_period_end", "immediately"}),
                "proration_behavior": _PRORATION,
            },
            required=["enabled"],
        ),
        "subscription_pause": Obj(
            {
                "enabled": Bool(),
                "duration": Obj(
                    {
                        "type": Str(choices={"indefinite", "interval_options"}),
                        "interval_options": Arr(
                            Obj(
                                {"interval": Str(choices=INTERVALS),
                                 "interval_count": Int(minimum=1)},
                                required=["interval"],
                            )
                        ),
                    },
                    required=["type"],
                ),
            }
        ),
        "subscription_update": Obj(
            {
                "billing_cycle_anchor": Str(choices={"now", "unchanged"}),
                "default_allowed_updates": Arr(Str(choices={"price", "promotion_code",
                                                            "quantity"})),
                "enabled": Bool(),
                "products": Arr(
                    Obj({"prices": Arr(Str()), "product": Str()}, required=["prices", "product"])
                ),
                "proration_behavior": _PRORATION,
                "schedule_at_period_end": Obj(
                    {
                        "conditions": Arr(
                            Obj(
                                {"type": Str(choices={"decreasing_item_amount",
                                                      "shortening_interval"})},
                                required=["type"],
                            )
                        )
                    }
                ),
                "trial_update_behavior": Str(choices={"continue_trial", "end_trial"}),
            },
            required=["enabled"],
        ),
    }
)
CREATE_FIELDS = {
    "features": _FEATURES,
    "business_profile": Obj(
        {
            "headline": Str(max_length=60, unsettable=True),
            "privacy_policy_url": Str(),
            "terms_of_service_url": Str(),
        }
    ),
    "default_return_url": Str(unsettable=True),
    "login_page": Obj({"enabled": Bool()}, required=["enabled"]),
    "metadata": Metadata(),
    "name": Str(max_length=256, unsettable=True),
}


def default(state):
    """The account's default configuration, added to the store when first needed."""
    config = state.store.get(DEFAULT_ID, "billing_portal.configuration")
    if config is None:
        config = _configuration(DEFAULT_ID, is_default=True)
        # The Dashboard's defaults: history, card updates and cancellation at period end.
        features = config["features"]
        features["invoice_history"]["enabled"] = True
        features["payment_method_update"]["enabled"] = True
        features["customer_update"] = {"allowed_updates": ["email", "address"], "enabled": True}
        features["subscription_cancel"]["enabled"] = True
        config = state.store.add(config)
    return config


def create(state, params):
    """A new (not default) configuration from validated params."""
    if "features" not in params:
        raise missing("features")
    default(state)  # listed after the default, as on an account that has one
    config = _configuration(new_id("bpc"), is_default=False)
    _merge(config["features"], params["features"])
    _merge(config["business_profile"], params.get("business_profile", {}))
    config["default_return_url"] = params.get("default_return_url")
    config["metadata"] = params.get("metadata") or {}
    config["name"] = params.get("name")
    if params.get("login_page", {}).get("enabled"):
        config["login_page"] = {"enabled": True, "url": f"https://billing.stripe.com/p/login/"
                                f"test_{config['id'][4:18]}"}
    return state.store.add(config)


def get(state, config_id, param="configuration"):
    if config_id == DEFAULT_ID:
        return default(state)
    config = state.store.get(config_id, "billing_portal.configuration")
    if config is None:
        raise not_found("billing_portal.configuration", config_id, param)
    return config


def all_newest_first(state):
    default(state)
    return state.store.newest_first("billing_portal.configuration")


def _merge(target, changes):
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def _configuration(config_id, is_default):
    created = now()
    return {
        "id": config_id,
        "object": "billing_portal.configuration",
        "active": True,
        "application": None,
        "business_profile": {
            "headline": None,
            "privacy_policy_url": None,
            "terms_of_service_url": None,
        },
        "created": created,
        "default_return_url": None,
        "features": {
            "customer_update": {"allowed_updates": [], "enabled": False},
            "invoice_history": {"enabled": False},
            "payment_method_update": {"enabled": False, "payment_method_configuration": None},
            "subscription_cancel": {
                "cancellation_reason": {
                    "enabled": False,
                    "feedback_options": None,
                    "options": [],
                },
                "enabled": False,
                "mode": "at_period_end",
                "proration_behavior": "none",
            },
            "subscription_pause": {
                "duration": {"interval_options": [], "type": "indefinite"},
                "enabled": False,
            },
            "subscription_update": {
                "billing_cycle_anchor": None,
                "default_allowed_updates": [],
                "enabled": False,
                "products": [],
                "proration_behavior": "none",
                "schedule_at_period_end": {"conditions": []},
                "trial_update_behavior": "end_trial",
            },
        },
        "is_default": is_default,
        "livemode": False,
        "login_page": {"enabled": False, "url": None},
        "metadata": {},
        "name": None,
        "updated": created,
    }
