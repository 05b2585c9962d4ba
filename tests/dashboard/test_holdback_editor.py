"""The appeal editor's holdback share: 0 to 50 percent, refused otherwise with a message."""
import lxml.html
import pytest

from supportapp.extensions import db
from supportapp.models import Appeal
from tests.dashboard.test_appeals import appeal_form


def _appeal(appeal_id):
    db.session.expire_all()
    return db.session.get(Appeal, appeal_id)


@pytest.mark.parametrize("bad", ["51", "-1", "100", "5.5", "five"])
def test_editor_refuses_holdback_outside_0_to_50(staff_client, saved_appeal, bad):
    client = staff_client("editor")
    before = _appeal(saved_appeal.id).holdback_percent
    form = appeal_form(variants=[{"id": v.id, "name": v.name, "is_control": v.is_control}
                                 for v in saved_appeal.variants], holdback_percent=bad)
    response = client.post(f"/dashboard/appeals/{saved_appeal.id}/edit", data=form)
    assert response.status_code == 200  # the form again, not saved
    messages = {"The holdback must be a whole percent from 0 to 50.",
                 "Not a valid integer value."}  # WTForms' own, for text that is no number
    assert any(m in response.get_data(as_text=True) for m in messages)
    assert _appeal(saved_appeal.id).holdback_percent == before


@pytest.mark.parametrize(("value", "saved"), [("0", 0), ("50", 50), ("12", 12)])
def test_editor_saves_holdback(staff_client, saved_appeal, value, saved):
    client = staff_client("editor")
    form = appeal_form(variants=[{"id": v.id, "name": v.name, "is_control": v.is_control}
                                 for v in saved_appeal.variants], holdback_percent=value)
    response = client.post(f"/dashboard/appeals/{saved_appeal.id}/edit", data=form)
    assert response.status_code == 302
    assert _appeal(saved_appeal.id).holdback_percent == saved
    page = lxml.html.fromstring(client.get(f"/dashboard/appeals/{saved_appeal.id}/edit").data)
    assert page.xpath("string(//input[@name='holdback_percent']/@value)") == str(saved)


def test_new_appeal_form_offers_the_configured_default(staff_client, app):
    app.config["DEFAULT_HOLDBACK_PERCENT"] = 5
    page = lxml.html.fromstring(staff_client("editor").get("/dashboard/appeals/new").data)
    assert page.xpath("string(//input[@name='holdback_percent']/@value)") == "5"
