"""A supporter's change reads as one sentence, whatever its details hold."""
import pytest

from supportapp.services.support_change_words import describe_change


@pytest.mark.parametrize("kind, details, sentence", [
    ("amount_changed", {"from": 500, "to": 800, "currency": "USD", "frequency": "monthly"},
     "Amount changed from $5 to $8 a month"),
    ("amount_changed", {"from": 1250, "to": 5000, "currency": "gbp", "frequency": "annual"},
     "Amount changed from £12.50 to £50 a year"),
    ("amount_changed", {"to": 800, "currency": "EUR"}, "Amount changed to €8"),
    ("frequency_changed", {"from": "monthly", "to": "annual"},
     "Frequency changed from monthly to annual"),
    ("frequency_changed", {"from": "monthly", "to": "annual", "amount": 6000,
                           "currency": "USD"},
     "Frequency changed from monthly to annual, now $60 a year"),
    ("paused", {"months": 2, "resumes_at": "2027-01-05"},
     "Paused for 2 months (resumes on January 5, 2027)"),
    ("paused", {"months": 1}, "Paused for 1 month"),
    ("paused", {"resumes_at": "2027-03-01"}, "Paused until March 1, 2027"),
    ("resumed", {}, "Resumed"),
    ("cancelled", {"reason": "too_expensive"}, "Cancelled: too expensive"),
    ("cancelled", {"reason": "reading_less"}, "Cancelled: reading less"),
    ("cancelled", {"reason": "coverage"}, "Cancelled: unhappy with the coverage"),
    ("cancelled", {"reason": "elsewhere"}, "Cancelled: giving elsewhere"),
    ("cancelled", {"reason": "not_given"}, "Cancelled: no reason given"),
    ("cancelled", {"reason": "other"}, "Cancelled: another reason"),
    # A code from an older release still reads as words.
    ("cancelled", {"reason": "moved_abroad"}, "Cancelled: moved abroad"),
    ("card_updated", {}, "Card updated"),
    ("history_downloaded", {}, "History downloaded"),
    ("erased", {}, "Personal data erased"),
])
def test_each_change_reads_as_a_sentence(kind, details, sentence):
    """Amounts as money with their period, months and dates in words, reasons in words."""
    assert describe_change(kind, details) == sentence


@pytest.mark.parametrize("kind, details, sentence", [
    ("amount_changed", {}, "Amount changed"),
    ("amount_changed", {"from": "5", "to": 8.0, "currency": "USD"}, "Amount changed"),
    ("amount_changed", {"from": 500, "to": 800}, "Amount changed"),
    ("amount_changed", {"from": 500, "to": 800, "currency": "<b>"}, "Amount changed"),
    ("amount_changed", {"from": -5, "to": 800, "currency": "USD", "frequency": ["x"]},
     "Amount changed to $8"),
    ("frequency_changed", {"from": "weekly", "to": {"a": 1}}, "Frequency changed"),
    ("paused", {"months": "two", "resumes_at": "soon"}, "Paused"),
    ("paused", {"months": 0, "resumes_at": 20270105}, "Paused"),
    ("cancelled", {"reason": None}, "Cancelled"),
    ("cancelled", {"reason": "   "}, "Cancelled"),
    ("cancelled", "too_expensive", "Cancelled"),
    ("cancelled", None, "Cancelled"),
    ("gift_aid_declared", {"percent": 25}, "Gift aid declared"),
    ("", {}, "Changed"),
    (None, None, "Changed"),
])
def test_missing_or_odd_details_still_read_as_words(kind, details, sentence):
    """A detail missing or of the wrong type, or a kind added later, shortens the sentence;
    it never raises or shows a code."""
    assert describe_change(kind, details) == sentence
