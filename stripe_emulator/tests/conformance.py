"""Checks response bodies and webhook events against Stripe's OpenAPI description.

The description is the vendored one for the pinned API version (see
fixtures/stripe/README). It is OpenAPI 3.0 as the SDK's types give it: a field
is `required` unless the SDK marks it optional, so a required `nullable` field
is one Stripe always sends (null when empty). The SDK's types do not tell
integers from floats, so any JSON number passes as `number`.

    violations("GET", "/v1/customers/cus_1", 200, body) -> ["$.email: ...", ...]
    event_violations(payload) -> [...]

Every violation is a readable string that starts with the JSON path of the
offending value: a missing required field, a field the schema does not have,
a wrong type, a value outside a closed enum (`x-openEnum` enums are open).
"""

import gzip
import json
import re
from functools import lru_cache
from pathlib import Path

SPEC_FILE = (
    Path(__file__).resolve().parent
    / "fixtures"
    / "stripe"
    / "stripe-openapi-2026-10-28.endive.json.gz"
)
_REF_PREFIX = "#/components/schemas/"


@lru_cache(maxsize=1)
def spec():
    with gzip.open(SPEC_FILE, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def schema_named(name):
    return spec()["components"]["schemas"][name]


@lru_cache(maxsize=1)
def _templates():
    """(regex, template) for every spec path; literal segments win over `{param}`s."""
    compiled = []
    for template in spec()["paths"]:
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        compiled.append((template.count("{"), re.compile(f"^{pattern}$"), template))
    compiled.sort(key=lambda item: item[0])
    return [(regex, template) for _, regex, template in compiled]


def operation_for(method, path):
    """The spec's `(path template, operation)` for a request, or (None, None)."""
    path = path.split("?", 1)[0]
    for regex, template in _templates():
        if regex.match(path):
            operation = spec()["paths"][template].get(method.lower())
            if operation is not None:
                return template, operation
    return None, None


def violations(method, path, status, body):
    """What in `body` (parsed JSON) does not fit the spec's answer to `method path`."""
    template, operation = operation_for(method, path)
    if 200 <= status < 300:
        if operation is None:
            return [f"{method} {path}: no such operation in Stripe's API"]
        schema = _response_schema(operation, status)
        if schema is None:
            return [f"{method} {template}: the spec has no {status} answer"]
    else:
        schema = _response_schema(operation, "default") if operation else None
        schema = schema or schema_named("error")
    return check(schema, body)


def _response_schema(operation, status):
    responses = operation.get("responses", {})
    answer = responses.get(str(status)) or (
        responses.get("200") if isinstance(status, int) else None
    )
    if answer is None:
        return None
    return answer.get("content", {}).get("application/json", {}).get("schema")


def event_violations(payload):
    """What in a webhook event (parsed JSON) does not fit the Event schema.

    `data.object` is checked against the schema of the event type's object (the
    spec's `x-eventObjectSchemas`), else of its `object` value (`x-resourceIds`),
    and every key of `data.previous_attributes` must be a field of that object.
    """
    found = check({"$ref": _REF_PREFIX + spec()["x-eventSchema"]}, payload)
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        return found
    obj = data["object"]
    schema = object_schema(payload.get("type"), obj.get("object"))
    if schema is None:
        return [*found, f"$.data.object: no schema for object {obj.get('object')!r}"]
    found += check(schema, obj, "$.data.object")
    previous = data.get("previous_attributes")
    if isinstance(previous, dict):
        fields = _properties(schema, obj)
        found += [
            f"$.data.previous_attributes.{key}: unknown field (not a field of the object)"
            for key in previous
            if fields is not None and key not in fields
        ]
    return found


def object_schema(event_type, object_type):
    by_event = spec()["x-eventObjectSchemas"].get(event_type)
    if by_event is not None:
        return by_event
    names = spec()["x-resourceIds"].get(object_type)
    return {"$ref": _REF_PREFIX + names[0]} if names else None


def _properties(schema, value):
    """The field names of the object schema `value` matches (None: any fields)."""
    schema = _resolve(schema)
    if "anyOf" in schema:
        schema = _resolve(_pick_branch(schema["anyOf"], value))
    if "properties" not in schema:
        return None
    return set(schema["properties"])


def _resolve(schema):
    while "$ref" in schema:
        extra = {key: value for key, value in schema.items() if key != "$ref"}
        schema = {**schema_named(schema["$ref"][len(_REF_PREFIX):]), **extra}
    return schema


def check(schema, value, where="$"):
    """Violations of `value` against an OpenAPI 3.0 `schema`, as 'path: problem'."""
    schema = _resolve(schema)
    if value is None:
        return [] if schema.get("nullable") or not schema else [f"{where}: null, not allowed"]
    if "anyOf" in schema:
        return _check_any_of(schema["anyOf"], value, where)
    kind = schema.get("type")
    if kind is None:
        return []
    type_error = _type_error(kind, value, where)
    if type_error:
        return [type_error]
    if kind == "object":
        return _check_object(schema, value, where)
    if kind == "array":
        items = schema.get("items", {})
        return [v for i, item in enumerate(value) for v in check(items, item, f"{where}[{i}]")]
    if "enum" in schema and not schema.get("x-openEnum") and value not in schema["enum"]:
        return [f"{where}: {value!r} is not one of {schema['enum']}"]
    return []


_PYTHON_TYPES = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
}


def _json_type(value):
    names = {dict: "object", list: "array", str: "string", bool: "boolean"}
    return names.get(type(value), "number" if isinstance(value, (int, float)) else "?")


def _type_error(kind, value, where):
    expected = _PYTHON_TYPES.get(kind)
    if expected is None:
        return None
    is_bool = isinstance(value, bool)
    if isinstance(value, expected) and (kind == "boolean" or not is_bool):
        return None
    return f"{where}: expected {kind}, got {_json_type(value)} {_short(value)}"


def _short(value):
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_object(schema, value, where):
    properties = schema.get("properties")
    extra = schema.get("additionalProperties")
    if properties is None and not isinstance(extra, dict):
        return []  # a free-form object
    properties = properties or {}
    found = [
        f"{where}.{name}: missing required field"
        for name in schema.get("required", [])
        if name not in value
    ]
    for name, item in value.items():
        if name in properties:
            found += check(properties[name], item, f"{where}.{name}")
        elif isinstance(extra, dict):
            found += check(extra, item, f"{where}.{name}")
        elif not extra:
            found.append(f"{where}.{name}: unknown field")
    return found


def _check_any_of(branches, value, where):
    results = [check(branch, value, where) for branch in branches]
    if any(not result for result in results):
        return []
    chosen = _pick_branch(branches, value)
    if chosen is None:
        kinds = sorted({_describe(branch) for branch in branches})
        return [f"{where}: {_short(value)} matches none of {kinds}"]
    return results[branches.index(chosen)]


def _pick_branch(branches, value):
    """The branch `value` was meant to be: same type and, for objects, same `object`."""
    typed = [b for b in branches if _type_error(_resolve(b).get("type"), value, "") is None]
    if isinstance(value, dict) and "object" in value:
        named = [b for b in typed if value["object"] in _object_enum(b)]
        typed = named or typed
        deleted = [b for b in typed if "deleted" in _resolve(b).get("properties", {})]
        alive = [b for b in typed if b not in deleted]
        typed = (deleted if value.get("deleted") is True else alive) or typed
    return typed[0] if typed else None


def _object_enum(branch):
    return _resolve(branch).get("properties", {}).get("object", {}).get("enum", [])


def _describe(branch):
    if "$ref" in branch:
        return branch["$ref"][len(_REF_PREFIX):]
    return branch.get("type", "any")
