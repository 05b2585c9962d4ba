"""A reader's requests load none of what only the dashboard, the worker or the CLI needs.

Each check runs in a fresh Python process: this one has long imported everything.
"""
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import child_env

ROOT = Path(__file__).resolve().parent.parent
# Packages that story pages and beacons must not load: statistics (dashboard), PDF statements
# (fpdf2 with numpy, Pillow, fontTools), story files (CLI), migrations (CLI), HTML sanitising
# and email CSS (writes, the mail worker), staff passwords and addresses (dashboard sign-in),
# the API's OpenAPI description (YAML, read when /api/openapi.json is first asked for), the
# static files' compressor (a build is made once per change of static/, not per process).
HEAVY = ("scipy", "statsmodels", "numpy", "pandas", "feedparser", "lxml", "markdown",
         "frontmatter", "fpdf", "PIL", "fontTools", "alembic", "flask_migrate", "mako",
         "pygments", "nh3", "css_inline", "argon2", "email_validator", "yaml",
         "whitenoise.compress", "brotli")
SETTINGS = {"TESTING": True, "RATELIMIT_ENABLED": False, "TRACKING_ROLLUP_SECONDS": 0,
            "TRACKING_JOURNAL_SECONDS": 0, "APPEAL_CACHE_SECONDS": 0}
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"

READER = """
import json, re, sys
from supportapp import create_app

HEAVY, settings = {heavy!r}, {settings!r}
app = create_app(dict(settings, SQLALCHEMY_DATABASE_URI={url!r}))
client = app.test_client()
before = sorted(name for name in HEAVY if name in sys.modules)
appeal, pages, beacon = None, [], None
for _ in range(20):  # a reader in the hold-back group gets the page without the appeal
    client.delete_cookie("sa_rid")
    page = client.get("/stories/{slug}", headers={{"User-Agent": {ua!r}}})
    pages.append(page.status_code)
    appeal = re.search(rb'data-appeal="(\\d+)" data-variant="(\\d+)" data-story="([a-z0-9-]+)"'
                       rb' data-pv="([^"]+)"', page.data)
    if appeal:
        break
if appeal:  # no asserts here: under python -OO they would vanish
    body = json.dumps({{"pv": appeal[4].decode(), "events": [{{"type": "view",
            "story": appeal[3].decode(), "appeal": int(appeal[1]), "variant": int(appeal[2])}}]}})
    beacon = client.post("/api/events", data=body, headers={{
        "Content-Type": "text/plain;charset=UTF-8", "User-Agent": {ua!r}}}).status_code
print(json.dumps({{"pages": pages, "appeal": bool(appeal), "beacon": beacon,
                  "optimize": sys.flags.optimize, "before": before,
                  "after": sorted(name for name in HEAVY if name in sys.modules)}}))
"""

STATISTICS = """
import json, sys
from supportapp import create_app
from supportapp.services import variant_stats

create_app()
before = "scipy" in sys.modules
low, high = variant_stats.conversion_interval(30, 1000)
chance = variant_stats.chance_to_beat(60, 1000, 30, 1000)
print(json.dumps({"before": before, "after": "scipy" in sys.modules, "low": low,
                  "high": high, "chance": chance}))
"""


def run_python(code, **env):
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, env=child_env(**env), check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("optimize", ["", "2"], ids=["plain", "python -OO"])
def test_story_page_and_beacon_load_nothing_heavy(app, runner, database_url, tmp_path,
                                                  optimize):
    """A fresh app serves a story page with the appeal and its beacon (204), and neither the
    app's creation nor the two requests imported any of HEAVY; also under PYTHONOPTIMIZE=2
    (no docstrings, no asserts), as the README's production command runs gunicorn."""
    assert runner.invoke(args=["seed"]).exit_code == 0
    code = textwrap.dedent(READER).format(heavy=HEAVY, settings=SETTINGS, url=database_url,
                                          slug="harbour-parking-fee-vote-delayed", ua=UA)
    seen = run_python(code, SUPPORTAPP_TRACKING_JOURNAL_DIR=str(tmp_path / "journal"),
                      PYTHONOPTIMIZE=optimize)
    assert seen["optimize"] == (2 if optimize else 0)
    assert seen["pages"] and set(seen["pages"]) == {200}
    assert seen["appeal"], "no page carried the appeal"
    assert seen["beacon"] == 204
    assert seen["before"] == []
    assert seen["after"] == []


def test_statistics_import_scipy_on_first_use():
    """The dashboard's statistics still work in a fresh app: scipy arrives with the first call.

    Wilson's interval for 30 of 1000 is 0.0211 to 0.0425; 60 of 1000 beats 30 of 1000 with a
    probability above 0.99.
    """
    seen = run_python(STATISTICS)
    assert seen["before"] is False
    assert seen["after"] is True
    assert round(seen["low"], 4) == 0.0211
    assert round(seen["high"], 4) == 0.0425
    assert 0.99 < seen["chance"] < 1.0


def test_flask_db_commands_still_work(app, runner):
    """`flask db current` goes through the deferred group to Flask-Migrate's command: the
    migrations' environment runs (Alembic logs its context) and the app now holds
    Flask-Migrate's own extension state."""
    result = runner.invoke(args=["db", "current"])
    assert result.exit_code == 0, result.output
    assert "Context impl" in result.output
    assert type(app.extensions["migrate"]).__module__ == "flask_migrate"
