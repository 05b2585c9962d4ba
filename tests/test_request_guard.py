"""What a request may carry: forms of bounded size, no NULs, and JSON only where a view reads it."""
import json

import pytest

from tests.dashboard.test_appeals import appeal_form
from tests.stripe_fakes import event, post_event, resource
from tests.test_contribute import VALID


@pytest.mark.parametrize("body", ["[1]", "1.5", "\"text\"", "null", "{}", '{"email": "a@b.co"}',
                                  "[" * 100_000 + "]" * 100_000])
def test_json_to_the_contribution_form_is_415(client, fake_stripe, body):
    """JSON of any shape, deep nesting too, to POST /contribute: 415 on the error page."""
    response = client.post("/contribute", data=body, content_type="application/json")
    assert response.status_code == 415
    assert b"This page only accepts a form." in response.data
    assert fake_stripe.created == []


@pytest.mark.parametrize("path", ["/dashboard/login", "/dashboard/appeals/new",
                                  "/dashboard/users", "/contribute/manage"])
def test_other_forms_refuse_json_too(staff_client, path):
    """Every form view, signed in or not, refuses a body that is not a form."""
    response = staff_client("admin").post(path, data="[1]", content_type="application/json")
    assert response.status_code == 415


def test_views_that_read_their_own_body_still_get_json(client):
    """The beacon and the webhook parse their bodies: JSON there is not refused as a non-form."""
    assert client.post("/api/events", data="[1]", content_type="application/json",
                       headers={"User-Agent": "Mozilla/5.0 Firefox/140.0"}).status_code == 400
    response = client.post("/stripe/webhook", data="{}", content_type="application/json",
                           headers={"Stripe-Signature": "t=1,v1=00"})
    assert response.status_code == 400 and response.json["error"] == "invalid signature"


def test_oversized_body_is_413(app, client):
    """A body past MAX_CONTENT_LENGTH is refused before it is parsed: 413 on the error page."""
    big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/contribute", data={**VALID, "website": big})
    assert response.status_code == 413 and b"That request is too large." in response.data


def test_oversized_body_under_stripe_is_413_json(app, client):
    """Under /stripe/ the 413 is JSON, like every error there."""
    big = b"{" + b" " * app.config["MAX_CONTENT_LENGTH"] + b"}"
    response = client.post("/stripe/webhook", data=big, content_type="application/json")
    assert response.status_code == 413 and response.json["error"]["status"] == 413


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded",
                                          "multipart/form-data"])
def test_too_many_fields_is_413(app, client, fake_stripe, content_type):
    """More fields than MAX_FORM_PARTS, url-encoded or multipart: 413, nothing created."""
    fields = {f"f{n}": "1" for n in range(app.config["MAX_FORM_PARTS"])}
    response = client.post("/contribute", data={**VALID, **fields}, content_type=content_type)
    assert response.status_code == 413
    assert fake_stripe.created == []


def test_one_huge_multipart_field_is_413(app, client, fake_stripe):
    """A multipart field larger than MAX_FORM_MEMORY_SIZE: 413."""
    big = "x" * (app.config["MAX_FORM_MEMORY_SIZE"] + 1)
    response = client.post("/contribute", data={**VALID, "email": big},
                           content_type="multipart/form-data")
    assert response.status_code == 413


def test_a_normal_contribution_still_goes_through(client, fake_stripe):
    """The contribution form as a browser sends it, either encoding: off to Checkout."""
    assert client.post("/contribute", data=VALID).status_code == 303
    response = client.post("/contribute", data={**VALID, "nonce": "m" * 24},
                           content_type="multipart/form-data")
    assert response.status_code == 303 and len(fake_stripe.created) == 2


def test_the_largest_appeal_form_is_within_the_limits(app, staff_client):
    """Ten variants, every text field full of three-byte characters: under both limits, saved."""
    variant = {"name": "€" * 100, "heading": "€" * 300, "body": "€" * 5000,
               "cta_label": "€" * 100, "presets": {f"{c}_{f}": "5, " * 60 + "5"
                                                  for c in ("USD", "EUR", "GBP", "CAD", "AUD")
                                                  for f in ("one_off", "monthly", "annual")}}
    variants = [{**variant, "name": f"{n}" + "€" * 98} for n in range(10)]
    sections = ",".join(["€" * 99] * 20)  # 1,999 characters, sections of at most 100
    form = appeal_form(variants=variants, name="€" * 200, target_sections=sections,
                       excluded_sections=sections, goal_label="€" * 300)
    assert len(form) < app.config["MAX_FORM_PARTS"]
    response = staff_client("editor").post("/dashboard/appeals/new", data=form)
    assert response.status_code == 302


def test_a_large_stripe_event_is_within_the_limit(client):
    """A signed event of 1 MB (Stripe's are far smaller) reaches the webhook and is accepted."""
    customer = resource("customer", metadata={"padding": "x" * 1_000_000})
    evt = event("customer.updated", customer)
    assert len(json.dumps(evt)) > 1_000_000
    assert post_event(client, evt).status_code == 200


@pytest.mark.parametrize("query", ["q=a%00b", "story=%00"])
def test_nul_in_the_query_string_is_400(staff_client, query):
    """A NUL character in the query string (PostgreSQL refuses it in text): 400."""
    response = staff_client("viewer").get(f"/dashboard/contributions?{query}")
    assert response.status_code == 400


def test_nul_in_a_form_field_is_400(client):
    """A NUL character in a form field: 400 before any view looks the value up."""
    response = client.post("/dashboard/login", data={"email": "a\x00b@x.example",
                                                     "password": "correct horse battery"})
    assert response.status_code == 400


def test_multipart_field_without_a_name_is_400(staff_client):
    """A multipart part whose name cannot be read reaches WTForms as None: refused with 400."""
    body = (b"--b\r\nContent-Disposition: form-data; name=\"\r\n\r\nx\r\n--b--\r\n")
    response = staff_client("editor").post("/dashboard/appeals/new", data=body,
                                           content_type="multipart/form-data; boundary=b")
    assert response.status_code == 400
