"""Slugs and database ids in URLs: anything the database could choke on is a 404 or ignored."""
import re

import pytest

from supportapp.routing import MAX_DATABASE_ID, database_id

TOO_BIG = str(MAX_DATABASE_ID + 1)


@pytest.mark.parametrize("path", ["/stories/a%00b", "/sections/a%00b", "/stories/A-Story",
                                  "/stories/" + "a" * 201, "/sections/caf%C3%A9",
                                  "/stories/a%0A"])
def test_path_that_is_not_a_slug_is_404(client, make_story, path):
    """A NUL (which PostgreSQL refuses), capitals, unicode or 201 characters: 404, no query."""
    make_story(slug="a-story")
    assert client.get(path).status_code == 404


def test_slug_routes_still_find_stories_and_sections(client, make_story):
    """A story by its slug and its section by the section's slug answer 200."""
    make_story(slug="harbour-budget-2026", section="local-government")
    assert client.get("/stories/harbour-budget-2026").status_code == 200
    assert client.get("/sections/local-government").status_code == 200


def _id_routes(app):
    return [(rule.rule, method) for rule in app.url_map.iter_rules() if "<id:" in rule.rule
            for method in rule.methods - {"HEAD", "OPTIONS"}]


@pytest.mark.parametrize("value", [TOO_BIG, "9" * 30, "9" * 5000, "0", "-1", "²", "٣"])
def test_id_routes_refuse_ids_the_database_cannot_hold(app, staff_client, value):
    """Every `<id:...>` route, as an admin: ids past 2**31 - 1, 0 and non-ASCII digits: 404."""
    client = staff_client("admin")
    routes = _id_routes(app)
    assert len(routes) >= 6
    for rule, method in routes:
        url = re.sub(r"<id:\w+>", value, rule)
        assert client.open(url, method=method).status_code == 404, (method, url)


def test_largest_id_is_looked_up(app, staff_client):
    """2**31 - 1 itself reaches the database, which finds nothing: the story report says so
    (400), not an error."""
    client = staff_client("admin")
    response = client.get(f"/dashboard/stories/{MAX_DATABASE_ID}")
    assert response.status_code == 400
    assert f"there is no story number {MAX_DATABASE_ID}" in response.data.decode()


@pytest.mark.parametrize("text, expected", [("1", 1), ("2147483647", MAX_DATABASE_ID)])
def test_database_id_reads_ids(text, expected):
    """ASCII digits from 1 to 2**31 - 1 are ids."""
    assert database_id(text) == expected


@pytest.mark.parametrize("text", ["", "0", "-1", " 1", "1_0", "+1", "²", "٣", TOO_BIG, None,
                                  "9" * 5000])
def test_database_id_refuses_the_rest(text):
    """Anything else raises ValueError, so `request.args.get(type=database_id)` gives None."""
    with pytest.raises(ValueError):
        database_id(text)


def test_query_string_ids_past_the_limit(app, client, staff_client, make_staff):
    """?appeal= past 2**31 - 1: 400 from the reports API and for the CSV, ignored by preview."""
    from supportapp.services.staff import create_token

    token = create_token(make_staff("viewer"), "tests")
    response = client.get(f"/api/reports/variants?appeal={TOO_BIG}",
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400 and response.json["error"]["status"] == 400
    editor = staff_client("admin")
    assert editor.get(f"/dashboard/export/variants.csv?appeal={TOO_BIG}").status_code == 400
    preview = editor.post(f"/dashboard/appeals/preview?appeal={TOO_BIG}",
                          data={"name": "x", "variants-0-heading": "Hello"})
    assert preview.status_code == 200


@pytest.mark.parametrize("query", ["page=²", "page=" + "9" * 5000])
def test_page_number_that_is_not_ascii_digits_is_page_one(staff_client, query):
    """"²" is a digit to str.isdigit() but not to int(): the first page, not a 500."""
    assert staff_client("viewer").get(f"/dashboard/contributions?{query}").status_code == 200


@pytest.mark.parametrize("reads", ["²", "9" * 5000])
def test_embed_counts_that_are_not_ascii_digits_count_as_zero(client, make_story, reads):
    """The embed's `reads` and `views` counts: odd digits are read as 0, not a 500."""
    make_story(slug="harbour")
    response = client.get(f"/api/appeal?story=harbour&reads={reads}&views={reads}")
    assert response.status_code == 200


def test_preview_with_a_variant_id_that_is_not_ascii_digits(staff_client):
    """The preview's hidden variant id "²" is treated as an unsaved variant."""
    response = staff_client("editor").post("/dashboard/appeals/preview", data={
        "name": "x", "variants-0-id": "²", "variants-0-heading": "Hello"})
    assert response.status_code == 200
