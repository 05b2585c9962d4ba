"""Form decoding and parameter validation, without a server."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stripe_emulator.checkout import CREATE_FIELDS
from stripe_emulator.params import Arr, Int, Metadata, Obj, Str, validate
from stripe_emulator.wire import StripeError, decode_pairs


def test_nested_keys_become_nested_dicts():
    """Stripe's bracket keys nest; indexes stay keys until a schema reads a list."""
    params = decode_pairs(
        [
            ("line_items[0][price_data][recurring][interval]", "month"),
            ("line_items[0][quantity]", "1"),
            ("metadata[story]", "s1"),
            ("expand[]", "customer"),
            ("expand[]", "invoice"),
        ]
    )
    assert params == {
        "line_items": {"0": {"price_data": {"recurring": {"interval": "month"}}, "quantity": "1"}},
        "metadata": {"story": "s1"},
        "expand": ["customer", "invoice"],
    }


@pytest.mark.parametrize(
    "pairs",
    [
        [("a", "1"), ("a[b]", "2")],
        [("a[b]", "1"), ("a", "2")],
        [("a[]", "1"), ("a[b]", "2")],
        [("a[", "1")],
        [("a[][b]", "1")],
    ],
)
def test_conflicting_or_malformed_keys_are_client_errors(pairs):
    """A key used both as a value and as a hash is a 400, not a crash."""
    with pytest.raises(StripeError) as caught:
        decode_pairs(pairs)
    assert caught.value.status == 400


def test_indexed_and_bracket_arrays_both_validate():
    """`expand[0]=..` (the SDK's form) and `expand[]=..` mean the same list."""
    fields = {"items": Arr(Obj({"n": Int()}))}
    indexed = validate(decode_pairs([("items[1][n]", "2"), ("items[0][n]", "1")]), fields)
    assert indexed["items"] == [{"n": 1}, {"n": 2}]
    assert validate({"expand": ["a", "b"]}, {})["expand"] == ["a", "b"]


@pytest.mark.parametrize(
    "params, param, code",
    [
        ({"bogus": "1"}, "bogus", "parameter_unknown"),
        ({"o": {"x": "1"}}, "o[x]", "parameter_unknown"),
        ({"n": "abc"}, "n", "parameter_invalid_integer"),
        ({"n": "1.5"}, "n", "parameter_invalid_integer"),
        ({"s": ""}, "s", "parameter_invalid_empty"),
        ({"o": {}}, "o[n]", "parameter_missing"),
    ],
)
def test_validation_errors_name_the_param(params, param, code):
    """Each refusal carries Stripe's code and the offending param's full path."""
    fields = {"n": Int(), "s": Str(), "o": Obj({"n": Int()}, required=["n"])}
    with pytest.raises(StripeError) as caught:
        validate(params, fields)
    assert (caught.value.param, caught.value.code) == (param, code)


def test_enum_error_lists_the_choices():
    """A bad enum value answers with the allowed values, like Stripe."""
    with pytest.raises(StripeError) as caught:
        validate({"mode": "foo"}, {"mode": Str(choices={"payment", "subscription"})})
    assert caught.value.message == "Invalid mode: must be one of payment, or subscription"


def test_metadata_rules():
    """Values must be strings; keys <= 40 chars; '' unsets a key only on update."""
    assert Metadata().clean({"a": "1", "b": ""}, "metadata") == {"a": "1"}
    assert Metadata(for_update=True).clean({"b": ""}, "metadata") == {"b": ""}
    with pytest.raises(StripeError):
        Metadata().clean({"a": {"nested": "x"}}, "metadata")
    with pytest.raises(StripeError):
        Metadata().clean({"k" * 41: "x"}, "metadata")


_keys = st.text(alphabet="ab[]0_", min_size=1, max_size=12)
_values = st.text(max_size=5)


@given(st.lists(st.tuples(_keys, _values), max_size=8))
def test_any_form_input_is_either_valid_or_a_400(pairs):
    """Whatever a client sends, decoding + the session schema never raise anything else."""
    try:
        validate(decode_pairs(pairs), CREATE_FIELDS)
    except StripeError as error:
        assert error.status == 400
