"""Editing appeals and their variants, the live preview, and start/pause/end."""
import lxml.html
import pytest

from supportapp.extensions import db
from supportapp.models import Appeal
from supportapp.services.appeals import AppealError, set_appeal_status


def appeal_form(variants=({},), **fields):
    """Form data as the edit page posts it; each variant is a dict of overrides."""
    data = {"name": "Spring drive", "placement_paragraph": "3", "target_sections": "",
            "excluded_sections": "", "goal_amount": "", "goal_currency": "USD",
            "goal_label": ""}
    data.update(fields)
    for i, overrides in enumerate(variants):
        variant = {"name": f"variant {i}", "heading": "Since you are here",
                   "body": "<p>Support us.</p>", "cta_label": "Give", "weight": "1",
                   "default_frequency": "monthly", **overrides}
        for key, value in variant.items():
            if key == "presets":
                data.update({f"variants-{i}-presets-{k}": v for k, v in value.items()})
            elif key in ("is_control", "remove"):
                if value:
                    data[f"variants-{i}-{key}"] = "y"
            else:
                data[f"variants-{i}-{key}"] = str(value)
    return data


def _appeals():
    db.session.expire_all()
    return db.session.scalars(db.select(Appeal)).all()


def test_create_appeal_with_variants_and_presets(staff_client):
    """A new appeal is saved as a draft with its variants; presets are parsed to minor units."""
    client = staff_client("editor")
    form = appeal_form(
        variants=({"is_control": True, "presets": {"USD_monthly": "5, 10, 12.50"}},
                  {"weight": "3", "presets": {"GBP_one_off": "3 7"}}),
        target_sections="Local-Government, sport", goal_amount="5000", goal_label="Our goal")
    response = client.post("/dashboard/appeals/new", data=form)
    assert response.status_code == 302
    (appeal,) = _appeals()
    assert appeal.status == "draft" and appeal.target_sections == ["local-government", "sport"]
    assert appeal.goal_amount_minor == 500000 and appeal.goal_currency == "USD"
    control, challenger = appeal.variants
    assert control.is_control and control.preset_amounts == {"USD": {"monthly": [500, 1000, 1250]}}
    assert challenger.weight == 3 and challenger.preset_amounts == {"GBP": {"one_off": [300, 700]}}
    assert b"Appeal saved." in client.get(response.headers["Location"]).data


def test_edit_changes_copy_and_removes_a_variant(staff_client, saved_appeal):
    """Editing keeps a variant's id, changes its copy, and a ticked variant is removed."""
    client = staff_client("editor")
    control, challenger = saved_appeal.variants
    form = appeal_form(variants=(
        {"id": control.id, "name": "control", "heading": "New heading", "is_control": True},
        {"id": challenger.id, "name": "count", "remove": True}), name="Winter drive")
    assert client.post(f"/dashboard/appeals/{saved_appeal.id}/edit", data=form).status_code == 302
    (appeal,) = _appeals()
    assert [(v.id, v.heading) for v in appeal.variants] == [(control.id, "New heading")]


@pytest.mark.parametrize("weights, message", [
    (("0", "0"), b"at least one variant needs a weight above zero"),
    (("2", "-1"), b"variant weights cannot be negative"),
    (("2147483648", "1"), b"variant weights can be at most 10,000"),
])
def test_refused_weights_save_nothing(staff_client, saved_appeal, weights, message):
    """Weights the service refuses (one past the INTEGER column too) show its message; the
    stored appeal is unchanged."""
    client = staff_client("editor")
    variants = [{"id": v.id, "weight": w} for v, w in zip(saved_appeal.variants, weights,
                                                          strict=True)]
    response = client.post(f"/dashboard/appeals/{saved_appeal.id}/edit",
                           data=appeal_form(variants=variants, name="Renamed"))
    assert response.status_code == 200 and message in response.data
    (appeal,) = _appeals()
    assert appeal.name == "Winter drive" and [v.weight for v in appeal.variants] == [1, 1]


@pytest.mark.parametrize("goal", ["21474836.48", "99999999999999999999"])
def test_goal_too_large_for_its_column_is_refused(staff_client, goal):
    """A goal past 10,000,000.00 (PostgreSQL's INTEGER ends at 21,474,836.47): a message, no 500."""
    response = staff_client("editor").post("/dashboard/appeals/new",
                                           data=appeal_form(goal_amount=goal))
    assert response.status_code == 200
    assert b"a funding goal can be at most 10,000,000" in response.data
    assert _appeals() == []


def test_unreadable_preset_is_a_form_error(staff_client):
    """A preset that is not a number is shown next to its field and nothing is saved."""
    client = staff_client("editor")
    form = appeal_form(variants=({"presets": {"EUR_annual": "50, lots"}},))
    response = client.post("/dashboard/appeals/new", data=form)
    assert response.status_code == 200
    assert b"Enter the amount as a number" in response.data
    assert _appeals() == []


def test_unknown_placeholder_is_saved_with_a_warning(staff_client):
    """Copy with an unknown placeholder is saved, and the warning is flashed."""
    client = staff_client("editor")
    response = client.post("/dashboard/appeals/new", follow_redirects=True,
                           data=appeal_form(variants=({"heading": "Hello {first_name}"},)))
    assert b"unknown placeholder {first_name}" in response.data
    assert _appeals()[0].variants[0].heading == "Hello {first_name}"


def test_add_variant_button_adds_an_empty_variant_without_saving(staff_client):
    """"Add a variant" shows the form again with one more variant; nothing is saved."""
    client = staff_client("editor")
    response = client.post("/dashboard/appeals/new",
                           data={**appeal_form(), "add_variant": "1"})
    page = lxml.html.fromstring(response.data)
    assert page.xpath("//input[@name='variants-1-name']")
    assert _appeals() == []


def _preview(client, form, **extra):
    return client.post("/dashboard/appeals/preview", data={**form, **extra})


def test_preview_renders_the_readers_partial_with_the_copy(staff_client):
    """The preview is the appeal partial with the chosen variant's copy, amounts and currency."""
    client = staff_client("editor")
    form = appeal_form(variants=(
        {"heading": "First heading"},
        {"heading": "You read {article_count}", "cta_label": "Chip in",
         "presets": {"GBP_monthly": "4, 8"}}))
    response = _preview(client, form, preview_variant="1", preview_currency="GBP")
    assert response.status_code == 200
    (section,) = lxml.html.fromstring(response.data.decode()).xpath("//section[@class='appeal']")
    assert section.xpath("string(.//h2)") == "You read 5 stories"
    assert section.xpath("string(.//button[@class='appeal__cta'])") == "Chip in"
    monthly = section.xpath(".//fieldset[contains(@class, 'chooser__amounts--monthly')]")[0]
    assert [s.text for s in monthly.xpath(".//span")] == ["£4", "£8"]
    assert b"First heading" not in response.data


def test_preview_escapes_copy_and_keeps_unknown_placeholders(staff_client):
    """Markup in a heading is escaped, the body is sanitised, unknown placeholders stay as typed."""
    client = staff_client("editor")
    body = "<p>Hi<script>alert(1)</script></p><p onclick=x>Yo</p>"
    form = appeal_form(variants=({"heading": "<b>Bold</b> {article_count} {nope}",
                                  "body": body},))
    response = _preview(client, form)
    assert b"&lt;b&gt;Bold&lt;/b&gt; 5 stories {nope}" in response.data
    assert b"<script>alert" not in response.data and b"onclick" not in response.data
    assert b"<p>Yo</p>" in response.data


def test_edit_page_shows_a_preview(staff_client, saved_appeal):
    """The edit page renders the first variant's appeal in an inert preview box."""
    page = lxml.html.fromstring(staff_client("editor").get(
        f"/dashboard/appeals/{saved_appeal.id}/edit").data)
    (preview,) = page.xpath("//div[@id='appeal-preview']")
    assert preview.get("inert") is not None
    assert "Since you" in preview.xpath("string(.//h2)")
    assert page.xpath("//script[contains(@src, 'js/dashboard.')]")  # a hashed name


def test_start_pause_end(staff_client, saved_appeal, make_story):
    """Start makes the appeal live for readers; pause and end take it away again."""
    client = staff_client("editor")
    url = f"/dashboard/appeals/{saved_appeal.id}/status"
    story = make_story()
    for status, shown in (("live", True), ("paused", False), ("live", True), ("ended", False)):
        assert client.post(url, data={"status": status}).status_code == 302
        db.session.expire_all()
        assert db.session.get(Appeal, saved_appeal.id).status == status
        page = client.get(f"/stories/{story.slug}")
        assert (b'class="appeal"' in page.data) is shown, status
    assert client.post(url, data={"status": "deleted"}).status_code == 400


def test_appeal_list_shows_status_and_editor_actions(staff_client, saved_appeal):
    """The list shows each appeal's status; edit links appear for editors only."""
    viewer_page = staff_client("viewer").get("/dashboard/appeals").data
    editor_page = staff_client("editor").get("/dashboard/appeals").data
    assert b"Winter drive" in viewer_page and b"draft" in viewer_page
    assert b"/edit" not in viewer_page and b"/edit" in editor_page


@pytest.mark.parametrize("how", ["dashboard", "cli"])
def test_appeal_with_presets_above_the_default_maximum_can_start(app, saved_appeal, how,
                                                                 staff_client):
    """With SUPPORTAPP_MAX_AMOUNT_MINOR above 10,000.00, an appeal whose presets use it is
    saved and can then be started, from the dashboard or the CLI (no hard-coded maximum)."""
    app.config["MAX_AMOUNT_MINOR"] = 5_000_000
    saved_appeal.variants[0].preset_amounts = {"USD": {"one_off": [2_000_000]}}
    db.session.commit()
    if how == "dashboard":
        response = staff_client("editor").post(f"/dashboard/appeals/{saved_appeal.id}/status",
                                               data={"status": "live"})
        assert response.status_code == 302
    else:
        result = app.test_cli_runner().invoke(args=["appeals", "activate",
                                                    str(saved_appeal.id)])
        assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(Appeal, saved_appeal.id).status == "live"
    app.config["MAX_AMOUNT_MINOR"] = 1_000_000  # and the configured maximum still binds
    with pytest.raises(AppealError, match="up to the maximum"):
        set_appeal_status(saved_appeal.id, "paused")


def test_bandit_allocation_and_floor_are_saved(staff_client, saved_appeal):
    """The editor sets the allocation mode and the floor share; the edit page shows them."""
    client = staff_client("editor")
    control, challenger = saved_appeal.variants
    form = appeal_form(variants=({"id": control.id, "is_control": True}, {"id": challenger.id}),
                       allocation="bandit", floor_percent="10")
    response = client.post(f"/dashboard/appeals/{saved_appeal.id}/edit", data=form)
    assert response.status_code == 302
    (appeal,) = _appeals()
    assert (appeal.allocation, appeal.floor_percent) == ("bandit", 10)
    page = lxml.html.fromstring(client.get(response.headers["Location"]).data)
    assert page.xpath("string(//select[@name='allocation']/option[@selected])").startswith(
        "Bandit")
    assert page.xpath("string(//input[@name='floor_percent']/@value)") == "10"


@pytest.mark.parametrize("fields, message", [
    ({"allocation": "bandit", "floor_percent": "51"},
     b"a floor share of 51% for each of 2 variants shown adds up to 102%, over 100%"),
    ({"allocation": "greedy"}, b"Not a valid choice"),
    ({"floor_percent": "101"}, b"Number must be between 0 and 100"),
])
def test_impossible_allocations_are_refused(staff_client, saved_appeal, fields, message):
    """A floor the variants cannot all get, an unknown mode, a floor past 100%: refused with
    a message, nothing saved."""
    client = staff_client("editor")
    control, challenger = saved_appeal.variants
    form = appeal_form(variants=({"id": control.id, "is_control": True}, {"id": challenger.id}),
                       name="Changed", **fields)
    response = client.post(f"/dashboard/appeals/{saved_appeal.id}/edit", data=form)
    assert response.status_code == 200 and message in response.data
    (appeal,) = _appeals()
    assert (appeal.name, appeal.allocation, appeal.floor_percent) == ("Winter drive", "fixed", 0)


def test_a_paused_variant_does_not_count_toward_the_floor(staff_client, saved_appeal):
    """60% each of two variants is too much, but one of them has weight 0 (not shown)."""
    client = staff_client("editor")
    control, challenger = saved_appeal.variants
    form = appeal_form(variants=({"id": control.id, "is_control": True},
                                 {"id": challenger.id, "weight": "0"}),
                       allocation="bandit", floor_percent="60")
    assert client.post(f"/dashboard/appeals/{saved_appeal.id}/edit",
                       data=form).status_code == 302
