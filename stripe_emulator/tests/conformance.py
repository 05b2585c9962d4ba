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


def _list_of(schema_name):
    item = {"$ref": _REF_PREFIX + schema_name}
    return {
        "type": "object",
        "properties": {
            "object": {"type": "string", "enum": ["list"]},
            "data": {"type": "array", "items": item},
            "has_more": {"type": "boolean"},
            "url": {"type": "string"},
        },
        "required": ["data", "has_more", "object", "url"],
    }


# Operations of Stripe's API that the SDK's type declarations (the spec's source) lack.
EXTRA_OPERATIONS = {
    # "List all refunds of a charge": Stripe's other SDKs have it (stripe-java's
    # RefundCollection.list); stripe-node dropped it from its types.
    "/v1/charges/{id}/refunds": {
        "get": {
            "responses": {
                "200": {"content": {"application/json": {"schema": _list_of("Refunds:Refund")}}}
            }
        }
    },
}


@lru_cache(maxsize=1)
def spec():
    with gzip.open(SPEC_FILE, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def schema_named(name):
    return spec()["components"]["schemas"][name]


@lru_cache(maxsize=1)
def _paths():
    return {**spec()["paths"], **EXTRA_OPERATIONS}


@lru_cache(maxsize=1)
def _templates():
    """(regex, template) for every spec path; literal segments win over `{param}`s."""
    compiled = []
    for template in _paths():
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        compiled.append((template.count("{"), re.compile(f"^{pattern}$"), template))
    compiled.sort(key=lambda item: item[0])
    return [(regex, template) for _, regex, template in compiled]


def operation_for(method, path):
    """The spec's `(path template, operation)` for a request, or (None, None)."""
    path = path.split("?", 1)[0]
    for regex, template in _templates():
        if regex.match(path):
            operation = _paths()[template].get(method.lower())
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
        fields = field_names(schema, obj)
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


def field_names(schema, value):
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
        schema = {**schema_named(schema["$ref"][len(_REF_PREFIX) :]), **extra}
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
        return [f"{where}: {value!r} is not one of {_choices(schema['enum'])}"]
    return []


def _choices(enum):
    return str(enum) if len(enum) <= 12 else f"the {len(enum)} values the schema lists"


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
        return branch["$ref"][len(_REF_PREFIX) :]
    return branch.get("type", "any")


EMULATOR_DIR = Path(__file__).resolve().parent.parent
_EMIT = re.compile(r"\bemit\(\s*\w+,\s*\"([a-z_.]+)\"")


def implemented_operations(app):
    """`(METHOD, spec path template)` of every `/v1` route the emulator's `app` has."""
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/v1"):
            continue
        sample = re.sub(r"<[^>]+>", "x_sample", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            template, _ = operation_for(method, sample)
            found.add((method, template or rule.rule))
    return found


def implemented_event_types():
    """Every event type the emulator's code sends (`emit(state, "type", ...)`)."""
    found = set()
    for source in EMULATOR_DIR.glob("**/*.py"):
        if "tests" not in source.relative_to(EMULATOR_DIR).parts:
            found.update(_EMIT.findall(source.read_text(encoding="utf-8")))
    return found


class Recorder:
    """Keeps every `/v1` answer and every event an emulator makes, to check them later.

    `wrap(wsgi_app)` records the answers; `record_event(event)` is called with each
    event as it is created (the webhook payload is that event as JSON).
    """

    def __init__(self):
        self.calls = []  # (method, path, status, body)
        self.events = []

    def clear(self):
        self.calls = []
        self.events = []

    def record_event(self, evt):
        self.events.append(json.loads(json.dumps(evt)))

    def wrap(self, wsgi_app):
        def recording_app(environ, start_response):
            path = environ.get("PATH_INFO", "")
            if not path.startswith("/v1"):
                return wsgi_app(environ, start_response)
            status = []

            def capture(code, headers, exc_info=None):
                status.append(int(code.split()[0]))
                return start_response(code, headers, exc_info)

            answer = wsgi_app(environ, capture)
            try:
                body = b"".join(answer)
            finally:
                getattr(answer, "close", lambda: None)()
            self.calls.append((environ["REQUEST_METHOD"], path, status[0], _parse(body)))
            return [body]

        return recording_app

    def operations(self):
        return {(m, operation_for(m, p)[0] or p) for m, p, _, _ in self.calls}

    def event_types(self):
        return {evt.get("type") for evt in self.events}

    def problems(self):
        """Violations of everything recorded, each line naming its call or event."""
        found = []
        for method, path, status, body in self.calls:
            problems = violations(method, path, status, body)
            found += [f"{method} {path} ({status}) {problem}" for problem in problems]
        for evt in self.events:
            found += [f"event {evt.get('type')} {v}" for v in event_violations(evt)]
        return found


def _parse(body):
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")
