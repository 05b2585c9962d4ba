"""Fixtures for the dashboard tests."""
import pytest


@pytest.fixture
def saved_appeal(app):
    """A draft appeal with a control and a challenger variant."""
    from supportapp.models import Appeal, AppealVariant
    from supportapp.services.appeals import save_appeal

    appeal = Appeal(name="Winter drive", status="draft", placement_paragraph=2,
                    target_sections=[], excluded_sections=[])
    for name, heading, control in (("control", "Since you're here…", True),
                                   ("count", "You have read {article_count}", False)):
        appeal.variants.append(AppealVariant(
            name=name, heading=heading, body="<p>Please support us.</p>", cta_label="Give",
            preset_amounts={"USD": {"monthly": [300, 700]}}, default_frequency="monthly",
            weight=1, is_control=control))
    save_appeal(appeal)
    return appeal


EVIL_TITLE = "=HYPERLINK(\"http://evil.example\",\"click\")"
# Long enough to find what does not wrap on a phone.
ADMIN_EMAIL = "editor-in-chief.of.the.newsroom@a-long-newsroom-domain-name.example"
LONG_TITLE = ("Council approves the harbour-dredging contract after a three-hour "
              "meeting, with the ferry timetable to follow")


@pytest.fixture
def activity(app, make_story, saved_appeal):
    """Today: appeal events on two stories, two payments and an active recurring supporter.

    The first story's title and one supporter's email start like spreadsheet formulas.
    """
    from datetime import UTC, datetime

    from supportapp.extensions import db
    from supportapp.models import Contribution, RecurringSupport
    from supportapp.services.tracking import TrackedEvent, record_events

    control, challenger = saved_appeal.variants
    evil, quiet = make_story(title=EVIL_TITLE, slug="evil"), make_story(slug="quiet")
    plan = [(evil, control, "rendered", 100), (evil, control, "view", 40),
            (evil, control, "click", 4), (evil, control, "checkout", 2),
            (evil, challenger, "view", 30), (quiet, control, "view", 5)]
    for story, variant, kind, count in plan:
        record_events([TrackedEvent(kind, story.id, saved_appeal.id, variant.id)] * count)
    now = datetime.now(UTC)
    db.session.add_all([
        Contribution(amount_minor=1250, currency="USD", frequency="one_off", status="paid",
                     story_id=evil.id, appeal_id=saved_appeal.id, variant_id=control.id,
                     email="=evil@reader.example", paid_at=now,
                     stripe_payment_intent_id="pi_test123", stripe_customer_id="cus_test123"),
        Contribution(amount_minor=500, currency="EUR", frequency="monthly", status="paid",
                     billing_reason="subscription_create", story_id=quiet.id,
                     appeal_id=saved_appeal.id, variant_id=challenger.id,
                     email="kind@reader.example", paid_at=now,
                     stripe_subscription_id="sub_test123", stripe_invoice_id="in_test123"),
        RecurringSupport(stripe_subscription_id="sub_test123", stripe_customer_id="cus_test9",
                         amount_minor=500, currency="EUR", interval="month", status="active",
                         story_id=quiet.id, email="kind@reader.example", started_at=now),
    ])
    db.session.commit()
    return {"appeal": saved_appeal, "evil": evil, "quiet": quiet}


@pytest.fixture
def varied_activity(activity, make_story, make_staff):
    """`activity`, plus codes with underscores in every list and an appeal in each status."""
    from datetime import UTC, datetime, timedelta

    from supportapp.extensions import db
    from supportapp.models import Appeal, Contribution, RecurringSupport

    long = make_story(title=LONG_TITLE, slug="harbour-dredging-contract")
    now = datetime.now(UTC)
    db.session.add_all([
        Contribution(amount_minor=5000, currency="GBP", frequency="annual",
                     status="partially_refunded", amount_refunded_minor=1000, story_id=long.id,
                     email="patron@reader.example", paid_at=now,
                     stripe_payment_intent_id="pi_test_partly_refunded_0000000000001"),
        RecurringSupport(stripe_subscription_id="sub_test_past_due", amount_minor=300,
                         currency="USD", interval="month", status="past_due",
                         cancel_at_period_end=True, current_period_end=now + timedelta(days=9),
                         story_id=long.id, email="late@reader.example", started_at=now),
        *(Appeal(name=f"{status.title()} appeal", status=status, target_sections=[],
                 excluded_sections=[]) for status in ("live", "paused", "ended")),
    ])
    db.session.commit()
    editor = make_staff("editor", email="editor@newsroom.example")
    make_staff("admin", email=ADMIN_EMAIL)
    return {**activity, "long": long, "editor": editor}
