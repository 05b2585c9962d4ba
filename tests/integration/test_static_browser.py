"""Static files under hashed names in a real Chromium: the story page's stylesheet and scripts
load from their hashed URLs, compressed, kept a year, and the appeal's script runs."""
import re

import pytest

from supportapp.models import Appeal, AppealVariant
from supportapp.services.appeals import save_appeal

pytestmark = [pytest.mark.browser,
              pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
HASHED = re.compile(r"/static/(css|js)/[a-z-]+\.[0-9a-f]{12}\.(css|js)$")


def test_story_page_loads_hashed_compressed_static_files(live, make_story, page):
    appeal = Appeal(name="Drive", status="live", placement_paragraph=1, target_sections=[],
                    excluded_sections=[], holdback_percent=0)
    appeal.variants.append(AppealVariant(
        name="control", heading="Since you're here", body="<p>Please.</p>", cta_label="Give",
        preset_amounts={}, default_frequency="monthly", weight=1, is_control=True))
    save_appeal(appeal)
    story = make_story()
    static = []
    page.on("response", lambda r: static.append(r) if "/static/" in r.url else None)
    page.goto(f"{live.url}/stories/{story.slug}")
    page.wait_for_selector("section.appeal[data-ready='1']")  # appeal.js ran
    assert len(static) == 3, [r.url for r in static]  # site.css, giving.js, appeal.js
    for response in static:
        headers = response.all_headers()
        assert HASHED.search(response.url) and response.status == 200
        assert headers["cache-control"] == "public, max-age=31536000, immutable"
        assert headers.get("content-encoding") in ("gzip", "br")
    font = page.eval_on_selector("body", "el => getComputedStyle(el).fontFamily")
    assert font and "Times New Roman" not in font  # site.css applied, not the default
