"""/api/openapi.json stays true: schemathesis calls every operation it describes, in this
process through WSGI, and finds no server error, no undocumented status, no answer that
breaks its schema, no bad input accepted and no missing token let through."""
from datetime import UTC, datetime

import jsonschema_rs
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from supportapp.api_description import DESCRIPTION_FILE
from supportapp.extensions import db
from supportapp.models import Contribution
from supportapp.services.reader_funnel import HOLDBACK
from supportapp.services.staff import create_token
from supportapp.services.tracking import TrackedEvent, record_events, roll_up

BROWSER = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/131.0 Safari/537.36")
# Report parameters have rules across fields that JSON Schema cannot state (an end after
# the start, at most three years, an appeal that exists): data valid by the schema may get
# the documented 400, so that check does not apply. Every other default check runs.
EXCLUDED_CHECKS = [positive_data_acceptance]


@pytest.fixture
def api_data(tested_appeal):
    """The appeal's two variants with rolled-up events and a payment, so the reports answer
    with rows whose shape is checked; returns (appeal, story)."""
    appeal, story = tested_appeal
    for variant, views in zip(appeal.variants, (30, 20), strict=True):
        record_events([TrackedEvent("view", story.id, appeal.id, variant.id)] * views)
    db.session.add(Contribution(amount_minor=1500, currency="USD", frequency="one_off",
                                status="paid", story_id=story.id, appeal_id=appeal.id,
                                variant_id=appeal.variants[1].id, paid_at=datetime.now(UTC)))
    db.session.commit()
    roll_up()
    return appeal, story


@pytest.fixture
def api_headers(api_data, make_staff):
    """What a staff tool sends: a token (the reports need it) and a browser's user agent
    (the beacon ignores bots, whatever they send)."""
    token = create_token(make_staff("viewer"), "schemathesis")
    return {"Authorization": f"Bearer {token}", "User-Agent": BROWSER}


DESCRIPTION = yaml.safe_load(DESCRIPTION_FILE.read_text())
OPERATIONS = [(method.upper(), path) for path, item in DESCRIPTION["paths"].items()
              for method in item]
EXAMPLES = 30  # per operation and mode: enough to find the edges, about a minute in all


def _modes(operation):
    # Invalid input needs something to break: a body, a required or constrained parameter.
    # /recovery takes two optional free strings (months the app checks, not a pattern).
    constrained = "requestBody" in operation or any(
        p.get("required") or set(p.get("schema", {})) - {"type"} or "$ref" in p
        for p in operation.get("parameters", []))
    if constrained:
        return (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    return (GenerationMode.POSITIVE,)


@pytest.mark.parametrize("method, path", OPERATIONS)
def test_api_matches_its_description(app, api_headers, method, path):
    """Every operation, with generated valid and invalid input, answers as described."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # The API's answers do not depend on the database: one sweep keeps the suite fast.
        # The rows test below checks the reports' shapes on both.
        pytest.skip("the schemathesis sweep runs on SQLite")
    # (schemathesis.pytest.from_fixture would do this, but trips over pytest 9's node ids.)
    described = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    # Like most APIs, ours ignores query parameters it does not know; and the token is sent
    # below, so the generated cases leave the Authorization header alone.
    described.config.generation.update(allow_extra_parameters=False,
                                       with_security_parameters=False)
    operation = described[path][method]
    for mode in _modes(DESCRIPTION["paths"][path][method.lower()]):
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def check(case):
            case.call_and_validate(headers=api_headers, excluded_checks=EXCLUDED_CHECKS)

        check()


def test_reports_with_rows_match_their_description(app, api_data, api_headers):
    """The reports' rows (which generated ids rarely reach) have the described shape."""
    appeal, story = api_data
    described = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    variants = described["/api/reports/variants"]["GET"].Case(query={"appeal": appeal.id})
    response = variants.call_and_validate(headers=api_headers, excluded_checks=EXCLUDED_CHECKS)
    assert [v["viewable"] for v in response.json()["variants"]] == [30, 20]
    stories = described["/api/reports/stories"]["GET"].Case(query={"period": "7d"})
    response = stories.call_and_validate(headers=api_headers, excluded_checks=EXCLUDED_CHECKS)
    assert [s["slug"] for s in response.json()["stories"]] == [story.slug]
    appeal_case = described["/api/appeal"]["GET"].Case(query={"story": story.slug})
    assert appeal_case.call_and_validate(headers=api_headers).json()["appeal_id"] == appeal.id


def test_every_api_route_is_described(app):
    """Each route under /api/ (but the description itself) is in the description."""
    described = app.test_client().get("/api/openapi.json").json["paths"]
    routes = {(rule.rule, method.lower()) for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/") and rule.rule != "/api/openapi.json"
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == {(path, method) for path, item in described.items() for method in item}



# Per arm, readers 0-9 are shown the appeal; 2-9 report a view, 6-9 click, 8-9 check out.
STAGE_STARTS = (("rendered", 0), ("view", 2), ("click", 6), ("checkout", 8))


@pytest.fixture
def full_rows(tested_appeal):
    """Readers in both variants and the holdback (some without a view beacon), and new gifts
    with known Stripe fees credited direct, influenced and held back: every figure of the
    reports' rows has a value. Returns (appeal, story)."""
    appeal, story = tested_appeal
    control, challenger = appeal.variants
    for variant, prefix in ((control, "c"), (challenger, "x")):
        record_events([TrackedEvent(kind, story.id, appeal.id, variant.id,
                                    reader_id=f"{prefix}{reader}")
                       for kind, start in STAGE_STARTS for reader in range(start, 10)])
    record_events([TrackedEvent(HOLDBACK, story.id, appeal.id, 0, reader_id=f"h{reader}")
                   for reader in range(10)])

    def gift(kind, variant, reader, amount, fee, frequency="one_off"):
        # A direct gift's form named its story and variant; the others came another way.
        direct = {"story_id": story.id, "appeal_id": appeal.id,
                  "variant_id": variant.id} if kind == "direct" else {}
        db.session.add(Contribution(
            amount_minor=amount, currency="USD", frequency=frequency, status="paid",
            billing_reason="subscription_create" if frequency == "monthly" else None,
            fee_minor=fee, reader_id=reader, paid_at=datetime.now(UTC),
            attribution_kind=kind, credited_story_id=story.id, credited_appeal_id=appeal.id,
            credited_variant_id=variant.id if variant else None, **direct))

    gift("direct", control, "c9", 1500, 74)
    gift("direct", challenger, "x9", 500, 45, "monthly")
    gift("influenced", challenger, "x8", 1000, 59)
    gift("held_back", None, "h0", 1000, 59)
    db.session.commit()
    roll_up()
    return appeal, story


def _schema(name):
    return DESCRIPTION["components"]["schemas"][name]


def _unfilled(schema, values, path):
    """Paths of what `schema` describes (properties, and values of maps) that none of
    `values` fills with something other than null."""
    if "$ref" in schema:
        schema = _schema(schema["$ref"].rsplit("/", 1)[1])
    values = [v for v in values if v is not None]
    if not values:
        return [path]
    missing = []
    for name, sub in schema.get("properties", {}).items():
        missing += _unfilled(sub, [v.get(name) for v in values], f"{path}.{name}")
    if isinstance(schema.get("additionalProperties"), dict):
        missing += _unfilled(schema["additionalProperties"],
                             [x for v in values for x in v.values()], f"{path}.*")
    return missing


def _row_validator(name):
    return jsonschema_rs.Draft202012Validator(
        {"$ref": f"#/components/schemas/{name}", "components": DESCRIPTION["components"]})


def test_every_row_figure_is_described_and_filled(app, full_rows, make_staff):
    """With readers, gifts, fees and a holdback, each figure the rows describe has a value
    (not null, maps not empty) in some row, and the answers hold to the description; a row
    with a field the description does not list breaks it."""
    appeal, _ = full_rows
    headers = {"Authorization": f"Bearer {create_token(make_staff('viewer'), 'rows')}"}
    described = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    answers = {}
    for path, query, rows in (("/api/reports/stories", {"period": "7d"}, "stories"),
                              ("/api/reports/variants", {"appeal": appeal.id}, "variants")):
        case = described[path]["GET"].Case(query=query)
        response = case.call_and_validate(headers=headers, excluded_checks=EXCLUDED_CHECKS)
        answers[rows] = response.json()[rows]
    for rows, name in (("stories", "StoryRow"), ("variants", "VariantRow")):
        assert _unfilled(_schema(name), answers[rows], rows) == []
        validator = _row_validator(name)
        assert all(validator.is_valid(row) for row in answers[rows])
        assert not validator.is_valid({**answers[rows][0], "undocumented": 1})
    control, challenger = answers["variants"]
    assert challenger["lift_over_holdback"]["holdback_readers"] == 10
    assert (challenger["direct_gifts"], challenger["influenced_gifts"]) == (1, 1)
    assert control["money"]["USD"] == {"gross": 1500, "fees": 74, "refunds": 0,
                                       "net": 1426, "payments_fee_unknown": 0}
    assert not _row_validator("VariantRow").is_valid(
        {**control, "plan": {**control["plan"], "undocumented": 1}})
