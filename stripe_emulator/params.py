"""Parameter schemas: type checks and Stripe's validation errors.

Each endpoint declares an `Obj` schema. Anything not declared answers 400
`parameter_unknown` (this is also how parameters the current API removed
are refused). Values
arrive as strings from the form decoder; `clean` converts and checks them.
"""

from .wire import StripeError, unknown_parameter


def _join(path, key):
    return f"{path}[{key}]" if path else key


def _enum_text(choices):
    items = sorted(choices)
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + f", or {items[-1]}"


class Field:
    """Base validator. `clean(value, path)` returns the Python value."""

    def clean(self, value, path):
        raise NotImplementedError


class Str(Field):
    def __init__(self, choices=None, max_length=5000, unsettable=False):
        self.choices = choices
        self.max_length = max_length
        # An empty string means "unset" only where Stripe allows unsetting.
        self.unsettable = unsettable

    def clean(self, value, path):
        if not isinstance(value, str):
            raise StripeError(f"Invalid string: {path} must be a string", param=path)
        if value == "":
            if self.unsettable:
                return None
            raise _empty(path)
        if len(value) > self.max_length:
            raise StripeError(
                f"Invalid string: {path} must be at most {self.max_length} characters",
                param=path,
            )
        if self.choices and value not in self.choices:
            raise StripeError(
                f"Invalid {path}: must be one of {_enum_text(self.choices)}", param=path
            )
        return value


class Int(Field):
    def __init__(self, minimum=None, maximum=None):
        self.minimum = minimum
        self.maximum = maximum

    def clean(self, value, path):
        text = value.strip() if isinstance(value, str) else None
        if not text or not text.lstrip("-").isdigit():
            raise StripeError(
                f"Invalid integer: {value if isinstance(value, str) else path}",
                code="parameter_invalid_integer",
                param=path,
            )
        number = int(text)
        if self.minimum is not None and number < self.minimum:
            raise StripeError(
                f"This value must be greater than or equal to {self.minimum}.",
                code="parameter_invalid_integer",
                param=path,
            )
        if self.maximum is not None and number > self.maximum:
            raise StripeError(
                f"This value must be less than or equal to {self.maximum}.",
                code="parameter_invalid_integer",
                param=path,
            )
        return number


class Bool(Field):
    def clean(self, value, path):
        if value in ("true", "false"):
            return value == "true"
        raise StripeError(f"Invalid boolean: {value!r}", param=path)


class Metadata(Field):
    """Stripe metadata: string keys (<= 40 chars) to string values (<= 500).

    `metadata=""` unsets everything (None) and `metadata[k]=""` unsets one key:
    updates (`for_update=True`) keep the "" so they can delete the key,
    creates drop it.
    """

    def __init__(self, for_update=False):
        self.for_update = for_update

    def clean(self, value, path):
        if value == "":
            return None
        if not isinstance(value, dict):
            raise StripeError(f"Invalid object: {path} must be a hash", param=path)
        if len(value) > 50:
            raise StripeError("Metadata can have at most 50 keys.", param=path)
        for key, item in value.items():
            item_path = _join(path, key)
            if not isinstance(item, str):
                raise StripeError(f"Invalid string: {item_path} must be a string", param=item_path)
            if len(key) > 40:
                raise StripeError(
                    f"Metadata keys must be at most 40 characters ({key!r}).",
                    param=item_path,
                )
            if len(item) > 500:
                raise StripeError(
                    "Metadata values must be at most 500 characters.", param=item_path
                )
        return {k: v for k, v in value.items() if self.for_update or v != ""}


class Arr(Field):
    """A list, given as `x[0]=..&x[1]=..` or `x[]=..` (both are accepted)."""

    def __init__(self, item, max_items=100):
        self.item = item
        self.max_items = max_items

    def clean(self, value, path):
        if isinstance(value, dict) and all(k.isdigit() for k in value):
            items = [value[k] for k in sorted(value, key=int)]
        elif isinstance(value, list):
            items = value
        else:
            raise StripeError(f"Invalid array: {path} must be an array", param=path)
        if len(items) > self.max_items:
            raise StripeError(f"{path} can have at most {self.max_items} items.", param=path)
        return [self.item.clean(item, f"{path}[{i}]") for i, item in enumerate(items)]


class Obj(Field):
    def __init__(self, fields, required=()):
        self.fields = fields
        self.required = tuple(required)

    def clean(self, value, path):
        if not isinstance(value, dict):
            raise StripeError(f"Invalid object: {path} must be a hash", param=path)
        cleaned = {}
        for key, item in value.items():
            field = self.fields.get(key)
            if field is None:
                raise unknown_parameter(_join(path, key))
            cleaned[key] = field.clean(item, _join(path, key))
        for key in self.required:
            if key not in value:
                raise missing(_join(path, key))
        return cleaned


class OrEmpty(Field):
    """`field`, or "" to unset the whole value (None), like `pause_collection=""`."""

    def __init__(self, field):
        self.field = field

    def clean(self, value, path):
        return None if value == "" else self.field.clean(value, path)


class Range(Field):
    """`created=123` or `created[gte]=..&created[lt]=..`, as on list endpoints."""

    _ops = Obj({op: Int() for op in ("gt", "gte", "lt", "lte")})

    def clean(self, value, path):
        if isinstance(value, dict):
            return self._ops.clean(value, path)
        return {"eq": Int().clean(value, path)}


def missing(path):
    return StripeError(f"Missing required param: {path}.", code="parameter_missing", param=path)


def _empty(path):
    return StripeError(
        f"You passed an empty string for '{path}'. We assume empty values are an "
        f"attempt to unset a parameter; however '{path}' cannot be unset. You should "
        f"remove '{path}' from your request or supply a non-empty value.",
        code="parameter_invalid_empty",
        param=path,
    )


EXPAND = Arr(Str(max_length=500), max_items=20)


def validate(params, fields, required=()):
    """Validate top-level params against a dict of fields (+ `expand`)."""
    return Obj({**fields, "expand": EXPAND}, required).clean(params, "")


def list_fields(**filters):
    """The fields every list endpoint takes, plus its own filters."""
    return {
        "limit": Int(minimum=1, maximum=100),
        "starting_after": Str(),
        "ending_before": Str(),
        "created": Range(),
        **filters,
    }
