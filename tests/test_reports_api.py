"""/api/reports: JSON for staff tokens, 401 without a valid one."""
import pytest

from supportapp.services.staff import create_token, deactivate_staff


@pytest.fixture
def token(make_staff):
    return create_token(make_staff("viewer"), "tests")


@pytest.mark.parametrize("header", [None, "Bearer ", "Bearer sat_wrong", "Basic dXNlcjpwYXNz"])
def test_without_a_valid_token_is_401_json(client, header):
    """No token, an empty or unknown one, or another scheme: 401 in JSON with WWW-Authenticate."""
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/reports/stories", headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["status"] == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_stories_json(client, token):
    """A valid token gets the stories table and the period as JSON; the use is recorded."""
    from supportapp.extensions import db
    from supportapp.models import StaffToken

    response = client.get("/api/reports/stories?period=7d",
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert response.json["stories"] == [] and response.json["period"]["label"]
    db.session.expire_all()
    assert db.session.scalars(db.select(StaffToken)).one().last_used_at is not None


def test_variants_json(client, token, make_story):
    """Variants of an appeal by id; a missing id or an unknown appeal is 400, in JSON."""
    from supportapp.models import Appeal, AppealVariant
    from supportapp.services.appeals import save_appeal

    appeal = Appeal(name="A", status="live", target_sections=[], excluded_sections=[])
    appeal.variants.append(AppealVariant(name="control", heading="H", body="", cta_label="Give",
                                         preset_amounts={}, default_frequency="monthly",
                                         weight=1, is_control=True))
    save_appeal(appeal)
    auth = {"Authorization": f"Bearer {token}"}
    response = client.get(f"/api/reports/variants?appeal={appeal.id}", headers=auth)
    assert response.status_code == 200
    (variant,) = response.json["variants"]
    assert variant["name"] == "control" and variant["is_control"] is True
    assert variant["chance_beats_control"] is None and variant["viewable"] == 0
    assert variant["plan"] == {"verdict": "control", "needed_per_arm": None,
                               "still_needed": None, "days_needed": None}
    assert client.get("/api/reports/variants", headers=auth).status_code == 400
    missing = client.get("/api/reports/variants?appeal=99999", headers=auth)
    assert missing.status_code == 400 and missing.json["error"]["status"] == 400
    assert missing.json["error"]["message"] == "there is no appeal number 99999"


def test_bad_period_is_400_json(client, token):
    """A nonsense period answers 400 with the reason, in JSON."""
    response = client.get("/api/reports/stories?period=custom&start=x&end=y",
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400 and "date" in response.json["error"]["message"]


def test_period_ending_in_year_9999_is_400_json(client, token):
    """A period ending 9999-12-31 (which overflowed the date arithmetic) is a 400 saying why."""
    response = client.get("/api/reports/stories?period=custom&start=2026-11-01&end=9999-12-31",
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400
    assert "end must be a date from 2000-01-01" in response.json["error"]["message"]


def test_deactivated_accounts_token_stops_working(client, make_staff):
    """Deactivating an account turns its tokens away."""
    make_staff("admin")
    staff = make_staff("editor")
    token = create_token(staff, "old")
    deactivate_staff(staff)
    response = client.get("/api/reports/stories", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
