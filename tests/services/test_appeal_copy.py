"""Count placeholders: the number with its noun, chosen by the locale's CLDR plural rules."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportapp.services.appeal_copy import (
    COUNT_FORMS,
    count_phrase,
    count_values,
    placeholder_help,
    render_heading,
    render_line,
)

ENGLISH_STORIES = {"one": "{n} story", "other": "{n} stories"}
FRENCH_ARTICLES = {"one": "{n} article", "other": "{n} articles"}
POLISH_ARTICLES = {"one": "{n} artykuł", "few": "{n} artykuły", "many": "{n} artykułów",
                   "other": "{n} artykułu"}
LATVIAN_ARTICLES = {"zero": "{n} rakstu", "one": "{n} raksts", "other": "{n} raksti"}


@pytest.mark.parametrize("count, stories, supporters", [
    (0, "no stories", "no supporters"),
    (1, "1 story", "1 supporter"),
    (2, "2 stories", "2 supporters"),
    (21, "21 stories", "21 supporters"),
    (1234, "1,234 stories", "1,234 supporters"),
])
def test_site_copy_in_english(count, stories, supporters):
    """The site's own forms: "no" for nought, singular for one, plural otherwise."""
    assert count_values({"article_count": count, "supporter_count": count}) == {
        "article_count": stories, "supporter_count": supporters}


@pytest.mark.parametrize("locale, forms, expected", [
    ("en", ENGLISH_STORIES, ["0 stories", "1 story", "2 stories", "21 stories"]),
    ("fr", FRENCH_ARTICLES, ["0 article", "1 article", "2 articles", "21 articles"]),
    ("pl", POLISH_ARTICLES, ["0 artykułów", "1 artykuł", "2 artykuły", "21 artykułów"]),
    ("lv", LATVIAN_ARTICLES, ["0 rakstu", "1 raksts", "2 raksti", "21 raksts"]),
])
def test_plural_rules_per_locale(locale, forms, expected):
    """0, 1, 2 and 21 take the form CLDR gives them: French 0 is singular, Polish 21 is "many",
    Latvian has a zero form and 21 is singular."""
    assert [count_phrase(n, forms, locale) for n in (0, 1, 2, 21)] == expected


def test_polish_few_and_numbers_formatted_for_the_locale():
    """Polish 22 is "few" again, and the number is grouped the Polish way."""
    assert count_phrase(22, POLISH_ARTICLES, "pl") == "22 artykuły"
    assert count_phrase(12345, POLISH_ARTICLES, "pl") == "12\xa0345 artykułów"


def test_missing_category_falls_back_to_other():
    """Forms without the category the rules pick use "other" rather than failing."""
    assert count_phrase(2, {"other": "{n} artykułu"}, "pl") == "2 artykułu"


@given(st.integers(min_value=1, max_value=10**9))
def test_english_singular_only_for_one(count):
    """In English only 1 takes the singular; every other positive count the plural."""
    phrase = COUNT_FORMS["article_count"]
    expected = "1 story" if count == 1 else f"{count:,} stories"
    assert count_phrase(count, phrase) == expected


def test_values_stay_escaped_in_a_line():
    """A line for no supporters is text: its markup and its values are escaped."""
    out = str(render_line("<b>{article_count}</b> & {goal_raised}",
                          {"article_count": "1 story", "goal_raised": "<i>US$5</i>"}))
    assert out == "<p>&lt;b&gt;1 story&lt;/b&gt; &amp; &lt;i&gt;US$5&lt;/i&gt;</p>"
    assert str(render_heading("{supporter_count}", {"supporter_count": "<x>"})) == "&lt;x&gt;"


def test_placeholder_help_says_what_each_renders_to():
    """The editor's help names every placeholder, with the counts' real wording."""
    rows = dict(placeholder_help(30))
    assert set(rows) == {"{article_count}", "{supporter_count}", "{goal_progress}",
                         "{goal_raised}", "{goal_target}"}
    assert "last 30 days" in rows["{article_count}"]
    assert "“no stories”, “1 story”, “12 stories”" in rows["{article_count}"]
    assert "“1 supporter”, “12 supporters”" in rows["{supporter_count}"]
