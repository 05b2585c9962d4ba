"""Stripe's wire format: nested form keys in, Stripe error objects out.

Stripe's v1 API takes `application/x-www-form-urlencoded` bodies (and query
strings) whose keys encode nesting: `line_items[0][price_data][currency]`,
`metadata[story]`, `expand[]`. This module turns those pairs into nested
dicts/lists and defines the one exception type every layer raises for a
client mistake, so that nothing a client sends can become a 500.
"""

import re

DOC_URL = "https://stripe.com/docs/error-codes/{}"

# `name` followed by any number of `[segment]`; a segment may be empty (`[]`).
_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


class StripeError(Exception):
    """A client-facing error, rendered as Stripe's `{"error": {...}}` object."""

    def __init__(
        self,
        message,
        *,
        status=400,
        type="invalid_request_error",
        code=None,
        param=None,
        decline_code=None,
        extra=None,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.code = code
        self.param = param
        self.decline_code = decline_code
        # More fields of the error object, e.g. the `payment_intent` a decline leaves.
        self.extra = extra or {}

    def to_dict(self):
        error = {"message": self.message, "type": self.type}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = DOC_URL.format(self.code.replace("_", "-"))
        if self.param:
            error["param"] = self.param
        if self.decline_code:
            error["decline_code"] = self.decline_code
        error.update(self.extra)
        return {"error": error}


def not_found(object_name, object_id, param="id", in_url=None):
    """Stripe's answer for an id that does not exist (or is of another type): a 404 for the
    object in the URL (`param="id"`, or `in_url=True` where Stripe names it otherwise, as
    `intent`), a 400 for one a parameter names (Stripe answers
    `line_items[0][price]=price_missing` with HTTP 400, resource_missing)."""
    if in_url is None:
        in_url = param == "id"
    return StripeError(
        f"No such {object_name}: '{object_id}'",
        status=404 if in_url else 400,
        code="resource_missing",
        param=param,
    )


def unknown_parameter(path):
    return StripeError(f"Received unknown parameter: {path}", code="parameter_unknown", param=path)


def decode_pairs(pairs):
    """Build nested params from (key, value) pairs, keeping their order.

    Numeric segments stay dict keys here (`{"0": {...}}`); the schema decides
    whether a dict of indexes is a list, because `metadata[0]` is a valid
    metadata key while `line_items[0]` is an array element.
    """
    root = {}
    for key, value in pairs:
        if not key:
            continue  # `=value` names nothing; Rack's parser, like Stripe, drops it
        match = _KEY.match(key)
        if not match:
            raise unknown_parameter(key)
        parts = [match.group(1)] + _SEGMENT.findall(match.group(2))
        _insert(root, parts, value, key)
    return root


def _insert(root, parts, value, raw_key):
    node = root
    for index, part in enumerate(parts[:-1]):
        wants_list = parts[index + 1] == ""
        if part == "" or isinstance(node, list):
            # `a[][b]` (a list of hashes without indexes) is not supported.
            raise _malformed(raw_key)
        child = node.get(part)
        if child is None:
            child = [] if wants_list else {}
            node[part] = child
        if isinstance(child, str) or isinstance(child, list) != wants_list:
            raise _malformed(raw_key)
        node = child
    last = parts[-1]
    if last == "":
        node.append(value)
    elif isinstance(node, list) or isinstance(node.get(last), (dict, list)):
        raise _malformed(raw_key)
    else:
        node[last] = value


def _malformed(raw_key):
    name = raw_key.split("[", 1)[0]
    return StripeError(
        f"Invalid request: the parameter {raw_key} conflicts with another value given for {name}.",
        param=name,
    )
