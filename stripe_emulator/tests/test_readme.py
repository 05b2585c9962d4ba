"""The README's Compatibility tables name every route the emulator serves, so they cannot
drift from the code: a new endpoint fails here until it has its row."""

import re
from pathlib import Path

from stripe_emulator import create_emulator

README = Path(__file__).resolve().parents[1] / "README.md"


def _listed_routes():
    """`METHOD /path` named in the first cell of a row of the Compatibility section."""
    text = README.read_text()
    start = text.index("## Compatibility\n")
    section = text[start : text.index("\n## ", start + 1)]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z]+ /[^`]*)`", row.split("|")[1])}


def _served_routes():
    app = create_emulator()
    try:
        return sorted(
            f"{method} {re.sub(r'<[^>]+>', ':id', rule.rule)}"
            for rule in app.url_map.iter_rules()
            if rule.endpoint != "static"
            for method in rule.methods - {"HEAD", "OPTIONS"}
        )
    finally:
        app.extensions["stripe_emulator"].close()


def test_every_route_has_a_row_in_the_compatibility_tables():
    listed = _listed_routes()
    served = _served_routes()
    assert len(served) > 50
    assert [route for route in served if route not in listed] == []


def test_the_tables_list_no_route_that_is_not_served():
    assert sorted(_listed_routes() - set(_served_routes())) == []
