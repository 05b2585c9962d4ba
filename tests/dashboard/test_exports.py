"""CSV downloads: headers, rows, money as decimal strings, and the formula-injection guard."""
import csv
import io

import pytest

from supportapp.services.exports import CONTRIBUTION_HEADER, STORY_HEADER, VARIANT_HEADER
from tests.dashboard.conftest import EVIL_TITLE


def _csv(response):
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    return list(csv.reader(io.StringIO(response.data.decode())))


def test_stories_csv(staff_client, activity):
    """Header, one line per story and currency, money as decimals, a formula title quoted."""
    rows = _csv(staff_client("viewer").get("/dashboard/export/stories.csv?period=7d"))
    assert tuple(rows[0]) == STORY_HEADER
    by_slug = {r[3]: dict(zip(STORY_HEADER, r, strict=True)) for r in rows[1:]}
    evil = by_slug["evil"]
    assert evil["title"] == "'" + EVIL_TITLE
    assert (evil["viewable"], evil["currency"], evil["revenue"]) == ("70", "USD", "12.50")
    assert evil["revenue_per_1000_viewable"] == "178.57"  # 1250 * 1000 / 70 = 17857 cents
    assert evil["conversion_rate"] == f"{1 / 70:.6f}"
    assert by_slug["quiet"]["currency"] == "EUR" and by_slug["quiet"]["revenue"] == "5"


def test_variants_csv(staff_client, activity):
    """One line per variant with its interval; an unknown appeal is a 400 saying so."""
    client = staff_client("viewer")
    appeal = activity["appeal"]
    rows = _csv(client.get(f"/dashboard/export/variants.csv?appeal={appeal.id}"))
    assert tuple(rows[0]) == VARIANT_HEADER
    lines = [dict(zip(VARIANT_HEADER, r, strict=True)) for r in rows[1:]]
    control = next(r for r in lines if r["name"] == "control")
    assert control["is_control"] == "yes" and control["viewable"] == "45"
    assert control["currency"] == "USD" and control["revenue"] == "12.50"
    assert float(control["ci_low"]) < 1 / 45 < float(control["ci_high"])
    unknown = client.get("/dashboard/export/variants.csv?appeal=99999")
    assert unknown.status_code == 400 and b"there is no appeal number 99999" in unknown.data


def test_contributions_csv(staff_client, activity):
    """Every matching contribution; amounts as decimal strings; a formula email is quoted."""
    client = staff_client("viewer")
    rows = _csv(client.get("/dashboard/export/contributions.csv?period=today"))
    assert tuple(rows[0]) == CONTRIBUTION_HEADER
    lines = {r[5]: dict(zip(CONTRIBUTION_HEADER, r, strict=True)) for r in rows[1:]}
    assert set(lines) == {"USD", "EUR"}
    assert (lines["USD"]["amount"], lines["USD"]["refunded"]) == ("12.50", "0")
    assert lines["USD"]["email"] == "'=evil@reader.example" and lines["USD"]["story"] == "evil"
    assert lines["EUR"]["stripe_subscription_id"] == "sub_test123"
    filtered = _csv(client.get("/dashboard/export/contributions.csv?currency=EUR"))
    assert len(filtered) == 2


def test_export_needs_a_login(client):
    """Signed out, an export redirects to the login page."""
    assert client.get("/dashboard/export/stories.csv").status_code == 302


@pytest.mark.parametrize("value, cell", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("plain", "plain"), ("a=b", "a=b"), (-5, -5),
    (None, ""),
])
def test_safe_cell(value, cell):
    """Text a spreadsheet would run as a formula gets a leading quote; numbers stay numbers."""
    from supportapp.services.exports import safe_cell

    assert safe_cell(value) == cell
