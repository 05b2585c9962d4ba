"""The appeal's change log in the dashboard: edits and status buttons record the signed-in
account, refused edits record nothing, and the appeal's page lists the entries in words."""
import lxml.html
import pytest
from sqlalchemy import select

from supportapp.extensions import db
from supportapp.models import AppealChange
from supportapp.services.appeal_audit import Actor
from supportapp.services.appeals import save_appeal
from tests.dashboard.test_appeals import appeal_form


def _entries(appeal_id):
    db.session.expire_all()
    return db.session.scalars(select(AppealChange).where(AppealChange.appeal_id == appeal_id)
                              .order_by(AppealChange.id)).all()


def _edit_form(appeal, overrides=None):
    """The edit form for `appeal` as saved, with variants' fields overridden by index."""
    overrides = overrides or {}
    variants = [{"id": v.id, "name": v.name, "heading": v.heading, "body": v.body,
                 "cta_label": v.cta_label, "is_control": v.is_control, "weight": v.weight,
                 "presets": {"USD_monthly": "3, 7"}, **overrides.get(i, {})}
                for i, v in enumerate(appeal.variants)]
    return appeal_form(variants=variants, name=appeal.name, placement_paragraph="2")


def _changes_section(client, appeal_id, query=""):
    response = client.get(f"/dashboard/appeals/{appeal_id}{query}")
    assert response.status_code == 200
    (section,) = lxml.html.fromstring(response.data).xpath(
        "//section[@aria-labelledby='changes-title']")
    return section, response.data


def test_an_edit_records_the_signed_in_account_and_the_diff(staff_client, saved_appeal):
    """Saving the form with one heading and one weight changed: one entry, by the editor's
    account, holding exactly those two fields."""
    client = staff_client("editor")
    control, count = saved_appeal.variants
    form = _edit_form(saved_appeal, {1: {"heading": "You read a lot", "weight": "4"}})
    assert client.post(f"/dashboard/appeals/{saved_appeal.id}/edit",
                       data=form).status_code == 302
    created, edited = _entries(saved_appeal.id)
    assert (created.actor, created.staff_id) == ("the app", None)
    assert (edited.action, edited.actor, edited.staff_id) == (
        "edited", client.staff.email, client.staff.id)
    assert edited.diff == {"variants": {str(count.id): {
        "change": "edited", "name": "count", "fields": {
            "heading": ["You have read {article_count}", "You read a lot"],
            "weight": [1, 4]}}}}


def test_a_new_appeal_records_its_creator(staff_client):
    """An appeal created in the editor: one "created" entry by the account, with its name."""
    client = staff_client("editor")
    response = client.post("/dashboard/appeals/new", data=appeal_form(name="Spring drive"))
    assert response.status_code == 302
    (entry,) = db.session.scalars(select(AppealChange)).all()
    assert (entry.action, entry.actor, entry.staff_id) == ("created", client.staff.email,
                                                           client.staff.id)
    assert entry.diff["appeal"]["name"] == [None, "Spring drive"]
    assert [v["change"] for v in entry.diff["variants"].values()] == ["added"]


def test_saving_the_form_unchanged_records_nothing(staff_client, saved_appeal):
    """The form posted back as it was shown: saved, no entry."""
    client = staff_client("editor")
    response = client.post(f"/dashboard/appeals/{saved_appeal.id}/edit",
                           data=_edit_form(saved_appeal))
    assert response.status_code == 302 and len(_entries(saved_appeal.id)) == 1


@pytest.mark.parametrize("weights", [("0", "0"), ("2", "-1")])
def test_a_refused_edit_records_nothing(staff_client, saved_appeal, weights):
    """Weights the editor refuses: the message, and no entry."""
    client = staff_client("editor")
    form = _edit_form(saved_appeal, {0: {"weight": weights[0]}, 1: {"weight": weights[1]}})
    response = client.post(f"/dashboard/appeals/{saved_appeal.id}/edit", data=form)
    assert response.status_code == 200 and b"Not saved" in response.data
    assert len(_entries(saved_appeal.id)) == 1


def test_status_buttons_record_who_started_paused_and_ended(staff_client, saved_appeal):
    """Start, pause, end from the dashboard: one entry each, by the editor."""
    client = staff_client("editor")
    for status in ("live", "paused", "ended"):
        assert client.post(f"/dashboard/appeals/{saved_appeal.id}/status",
                           data={"status": status}).status_code == 302
    entries = _entries(saved_appeal.id)[1:]
    assert [e.action for e in entries] == ["started", "paused", "ended"]
    assert {e.actor for e in entries} == {client.staff.email}
    section, _ = _changes_section(staff_client("viewer"), saved_appeal.id)
    headings = [" ".join(h.text_content().split()) for h in section.xpath(".//h3")]
    assert headings[0].startswith(f"Ended by {client.staff.email}")
    assert [h.split(" by ")[0] for h in headings] == ["Ended", "Paused", "Started", "Created"]
    status_rows = section.xpath(".//article[1]//tbody/tr")
    assert [td.text_content() for td in status_rows[0].xpath("./*")] == [
        "Status", "Paused", "Ended"]


def test_the_page_shows_words_and_escapes_wording(staff_client, saved_appeal):
    """Fields and values in words; a heading with markup and a long body diff are shown as
    text, escaped, with the words removed and added marked."""
    client = staff_client("editor")
    body = ("<p>Please support us. The Harbour Ledger is an independent newsroom and readers "
            "keep us at council meetings.</p>")
    form = _edit_form(saved_appeal, {0: {"heading": "<b>Bold</b> & <script>x</script>",
                                           "body": body.replace("council", "<em>all</em>")}})
    saved_appeal.variants[0].body = body
    db.session.commit()
    assert client.post(f"/dashboard/appeals/{saved_appeal.id}/edit",
                       data=form).status_code == 302
    section, raw = _changes_section(client, saved_appeal.id)
    (latest,) = section.xpath(".//article[1]")
    rows = {tr.xpath("string(./th)"): tr for tr in latest.xpath(".//tbody/tr")}
    assert set(rows) == {"Heading", "Wording"}
    assert rows["Heading"].xpath("string(./td[2])") == "<b>Bold</b> & <script>x</script>"
    assert b"&lt;script&gt;x&lt;/script&gt;" in raw and b"<script>x" not in raw
    assert latest.xpath(".//caption")[0].text_content() == "Variant “control” (changed)"
    removed = [d.text_content() for d in rows["Wording"].xpath(".//del")]
    added = [i.text_content() for i in rows["Wording"].xpath(".//ins")]
    assert removed == ["[removed: council]"] and added == ["[added: <em>all</em>]"]
    # Placeholders typed in the wording are marked as such (the created entry holds one).
    assert section.xpath(".//article[last()]//td/code[.='{article_count}']")
    title = lxml.html.fromstring(raw).findtext(".//title")
    assert "Bold" not in title and "Changes" not in title


def test_long_logs_are_paginated_newest_first(staff_client, saved_appeal):
    """Twenty entries a page, newest first; a bad page is a 400, one past the end a 404."""
    for n in range(24):
        saved_appeal.name = f"Drive {n}"
        save_appeal(saved_appeal, Actor("night@newsroom.example", 3))
    client = staff_client("viewer")
    first, _ = _changes_section(client, saved_appeal.id)
    assert len(first.xpath(".//article")) == 20
    assert first.xpath("string(.//article[1]//tbody/tr/td[2])") == "Drive 23"
    second, _ = _changes_section(client, saved_appeal.id, "?changes_page=2")
    assert len(second.xpath(".//article")) == 5
    assert "Created by the app" in " ".join(second.xpath("string(.//article[5]//h3)").split())
    assert second.xpath(".//a[contains(., 'Newer')]/@href")
    for bad in ("0", "-1", "two", "1e3", "٣"):
        assert client.get(f"/dashboard/appeals/{saved_appeal.id}?changes_page={bad}"
                          ).status_code == 400
    assert client.get(f"/dashboard/appeals/{saved_appeal.id}?changes_page=3").status_code == 404


def test_no_one_can_edit_or_delete_entries(staff_client, saved_appeal):
    """Even an admin's page has no control on the log, and only the audit service (which
    only adds) touches AppealChange."""
    import ast
    from pathlib import Path

    import supportapp

    section, _ = _changes_section(staff_client("admin"), saved_appeal.id)
    assert section.xpath(".//article") and not section.xpath(".//form|.//button|.//input")
    root = Path(supportapp.__file__).parent
    users = {p.relative_to(root).as_posix() for p in root.rglob("*.py")
             if _names_appeal_change(ast.parse(p.read_text(encoding="utf-8")))}
    assert users == {"models/__init__.py", "models/appeal_change.py",
                     "services/appeal_audit.py"}


def _names_appeal_change(tree):
    import ast

    return any(isinstance(node, ast.Name) and node.id == "AppealChange"
               or isinstance(node, ast.alias) and node.name == "AppealChange"
               or isinstance(node, ast.ClassDef) and node.name == "AppealChange"
               for node in ast.walk(tree))
