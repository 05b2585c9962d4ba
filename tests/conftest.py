"""Fixtures: every database test runs on SQLite and, where reachable, on PostgreSQL."""
import os
import re
from collections import Counter

import pytest

# The tests pin every setting they use: a developer's shell (or an entry point that loaded
# their .env) must not change what they see. These few only steer the test run itself.
TEST_RUN_SETTINGS = {"TEST_DATABASE_URL", "CI", "SUPPORTAPP_CHROMIUM"}
_APP_SETTING = re.compile(r"(SUPPORTAPP_|STRIPE_|FLASK_).*|DATABASE_URL|REDIS_URL|SECRET_KEY")
for _name in [n for n in os.environ if _APP_SETTING.fullmatch(n) and n not in TEST_RUN_SETTINGS]:
    del os.environ[_name]
os.environ["SECRET_KEY"] = "test-secret-key-not-for-production"
os.environ["SUPPORTAPP_ENV"] = "testing"

# The `browser` marker and fixture (Chromium, if any); the `a11y` marker and the
# accessibility and layout checks (axe-core from npm, if installed); `mail_server`, a real
# SMTP server that the app's mail settings point at.
pytest_plugins = ["tests.browser", "tests.a11y", "tests.mail_server"]

DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgresql")
_BACKEND_IN_ID = re.compile(r"[\[-](sqlite|postgresql)[\]-]")


def _sqlalchemy_url(url):
    # psycopg 3 is the driver; plain postgresql:// would ask SQLAlchemy for psycopg2.
    return re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", url)


def child_env(**extra):
    """The environment for a `flask` or `python` child process: this run's settings, and no
    `.env` (FLASK_SKIP_DOTENV=1 turns it off for the `flask` command and app.py alike)."""
    return {**os.environ, "FLASK_SKIP_DOTENV": "1", **extra}


def postgres_problem(url):
    """None when PostgreSQL answers at url, else why not."""
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # any failure means "not reachable" here
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}"
    return None


def _reset_postgres(url):
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


def make_app(database_url, **extra):
    from supportapp import create_app
    from supportapp.config import EMULATOR_API_BASE, EMULATOR_SECRET_KEY
    from tests.stripe_fakes import WEBHOOK_SECRET

    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "STRIPE_SECRET_KEY": EMULATOR_SECRET_KEY,
        "STRIPE_API_BASE": EMULATOR_API_BASE,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_USES_EMULATOR": True,
        "ALLOW_LIVE_KEYS": False,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SERVER_NAME": None,
        "APPEAL_CACHE_SECONDS": 0,
        "APPEAL_PROGRESS_CACHE_SECONDS": 0,
        "CONTENT_STAMP_SECONDS": 0,
        "TRACKING_LOOKUP_SECONDS": 0,
        "TRACKING_JOURNAL_SECONDS": 0,
        "TRACKING_ROLLUP_SECONDS": 0,  # no roll-up thread: tests roll up when they mean to
        "PASSWORD_HASH_PROFILE": "cheapest",  # Argon2 at full cost would slow every login
        # New appeals hold back no one unless a test says so: with the default 5%, one random
        # test reader in 20 would see no appeal.
        "DEFAULT_HOLDBACK_PERCENT": 0,
    }
    config.update(extra)
    return create_app(config)


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory):
    """A migrated, empty database for one backend, built once per test session."""
    from flask_migrate import upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    else:
        raw = os.environ.get("TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL)
        problem = postgres_problem(raw)
        if problem:
            message = f"PostgreSQL not reachable at {raw} ({problem})"
            if os.environ.get("CI") == "true":
                pytest.fail(f"{message}; CI=true requires it", pytrace=False)
            pytest.skip(f"{message}; PostgreSQL runs skipped")
        _reset_postgres(raw)
        url = _sqlalchemy_url(raw)
    app = make_app(url)
    with app.app_context():
        upgrade()
        from supportapp.extensions import db

        db.engine.dispose()
    return url


@pytest.fixture
def app(database_url):
    """The app on a migrated database whose tables are emptied before each test."""
    from supportapp.extensions import db

    app = make_app(database_url)
    with app.app_context():
        empty_tables(db)
        yield app
        db.session.remove()
        db.engine.dispose()


def empty_tables(db):
    """Delete every row, children first; the schema stays."""
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(autouse=True)
def no_network_in_write_transaction(monkeypatch):
    """Every request to Stripe (real SDK or emulator) first checks no write is uncommitted."""
    from supportapp.services import payments
    from tests.write_guard import assert_no_write_transaction

    real_call = payments._call

    def guarded(what, request):
        assert_no_write_transaction(what)
        return real_call(what, request)

    monkeypatch.setattr(payments, "_call", guarded)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_story(app):
    """Create a story from keyword overrides; returns the Story."""
    from datetime import UTC, datetime

    from supportapp.extensions import db
    from supportapp.services.stories import StoryRecord, upsert_story

    counter = {"n": 0}

    def _make(**fields):
        counter["n"] += 1
        n = counter["n"]
        values = {
            "title": f"Story number {n}",
            "slug": f"story-{n}",
            "section": "local-government",
            "byline": "Test Reporter",
            "standfirst": f"Standfirst {n}",
            "published_at": datetime(2026, 11, 1 + n % 20, 9, 0, tzinfo=UTC),
            "body_html": "".join(f"<p>Paragraph {i} of story {n}.</p>" for i in range(1, 7)),
        }
        values.update(fields)
        story, _ = upsert_story(StoryRecord(**values))
        db.session.commit()
        return story

    return _make


@pytest.fixture
def fake_stripe(app, monkeypatch):
    """Stripe replaced by an in-memory fake that records what the app asked of it."""
    from tests.stripe_fakes import FakeStripe

    return FakeStripe.install(monkeypatch)


STAFF_PASSWORD = "correct horse battery"


@pytest.fixture
def make_staff(app):
    """Create a staff account: make_staff("editor") or make_staff(email=..., password=...)."""
    from supportapp.services.staff import create_staff

    counter = {"n": 0}

    def _make(role="viewer", email=None, password=STAFF_PASSWORD):
        counter["n"] += 1
        return create_staff(email or f"{role}{counter['n']}@newsroom.example", password, role)

    return _make


@pytest.fixture
def staff_client(app, make_staff):
    """A test client signed in as a new account of a role: staff_client("editor")."""
    from flask import g
    from flask.testing import FlaskClient

    class SignedInClient(FlaskClient):
        # The `app` fixture keeps one app context open, so `g` outlives a request here;
        # Flask-Login caches the user on `g`, which a real server starts afresh each time.
        def open(self, *args, **kwargs):
            g.pop("_login_user", None)
            return super().open(*args, **kwargs)

    def _client(role="viewer"):
        staff = make_staff(role)
        client = SignedInClient(app, app.response_class, use_cookies=True)
        with client.session_transaction() as session:
            session["_user_id"] = str(staff.id)
            session["_fresh"] = True
        client.staff = staff
        return client

    return _client


def pytest_terminal_summary(terminalreporter):
    """Print pass/fail counts per database backend, so CI shows both ran."""
    counts = {backend: Counter() for backend in BACKENDS}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            match = _BACKEND_IN_ID.search(getattr(report, "nodeid", "") or "")
            if match and getattr(report, "when", "call") in ("call", "setup"):
                if outcome == "passed" and report.when != "call":
                    continue
                counts[match.group(1)][outcome] += 1
    terminalreporter.section("database backends")
    for backend, counter in counts.items():
        summary = ", ".join(f"{counter[k]} {k}" for k in ("passed", "failed", "skipped", "error"))
        terminalreporter.write_line(f"{backend}: {summary}")


@pytest.fixture
def drive_appeal(app):
    """A saved live appeal, "Drive", with a control and a challenger variant (weights 1:1)."""
    from supportapp.models import Appeal, AppealVariant
    from supportapp.services.appeals import save_appeal

    appeal = Appeal(name="Drive", status="live", target_sections=[], excluded_sections=[])
    for name in ("control", "challenger"):
        appeal.variants.append(AppealVariant(
            name=name, heading="H", body="<p>B</p>", cta_label="Give", preset_amounts={},
            default_frequency="monthly", weight=1, is_control=name == "control"))
    save_appeal(appeal)
    return appeal


@pytest.fixture
def tested_appeal(drive_appeal, make_story):
    """The drive appeal and a story; returns (appeal, story)."""
    return drive_appeal, make_story(slug="freshness")
