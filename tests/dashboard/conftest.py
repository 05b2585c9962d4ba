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
    from supportapp.services.tracking import TrackedEvent, record_events, roll_up

    control, challenger = saved_appeal.variants
    evil, quiet = make_story(title=EVIL_TITLE, slug="evil"), make_story(slug="quiet")
    plan = [(evil, control, "rendered", 100), (evil, control, "view", 40),
            (evil, control, "click", 4), (evil, control, "checkout", 2),
            (evil, challenger, "view", 30), (quiet, control, "view", 5)]
    for story, variant, kind, count in plan:
        record_events([TrackedEvent(kind, story.id, saved_appeal.id, variant.id)] * count)
    roll_up()  # reports read only what a roll-up folded (the worker's job in production)
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


SUPPORTER = "kind@reader.example"  # the monthly supporter of `activity`
SMTP_REFUSED = "550 5.1.1 <kind@reader.example>: mailbox unavailable"


def outbox_message(key, to, **fields):
    """An OutboxMessage as the outbox would hold it (not added to the session)."""
    from supportapp.models import OutboxMessage

    values = {"kind": "receipt", "subject": f"Subject of {key}", "text_body": "Thanks.",
              "html_body": "<p>Thanks.</p>", "message_id": f"<{key}@newsroom.example>",
              "status": "queued", "attempts": 0}
    return OutboxMessage(key=key, to_address=to, **{**values, **fields})


@pytest.fixture
def supporter_history(varied_activity):
    """`varied_activity`, plus what the monthly supporter changed (one change recorded under
    another case of their email, one under the digest an erasure leaves, by their support) and
    the emails in every status; and another reader's given-up email.

    Returns the `varied_activity` dict with "support", "changes" and "messages" (by name)."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select

    from supportapp.extensions import db
    from supportapp.models import RecurringSupport, SupportChange

    support = db.session.scalar(select(RecurringSupport).where(
        RecurringSupport.stripe_subscription_id == "sub_test123"))
    start = datetime.now(UTC) - timedelta(days=10)
    changes = [
        SupportChange(email="Kind@Reader.Example", recurring_support_id=support.id,
                      kind="amount_changed", details={"from": 500, "to": 800,
                                                      "currency": "EUR", "frequency": "monthly"}),
        SupportChange(email=SUPPORTER, recurring_support_id=support.id, kind="paused",
                      details={"months": 2, "resumes_at": "2027-01-05"}),
        SupportChange(email=SUPPORTER, recurring_support_id=support.id, kind="cancelled",
                      details={"reason": "too_expensive"}),
        SupportChange(email=SUPPORTER, kind="gift_aid_declared", details={}),
        SupportChange(email="sha256:0f1e2d", recurring_support_id=support.id, kind="erased",
                      details={}),
        SupportChange(email="late@reader.example", kind="resumed", details={}),
    ]
    for n, change in enumerate(changes):
        change.created_at = start + timedelta(days=n)
    messages = {
        "sent": outbox_message("receipt:in_1", SUPPORTER, status="sent", attempts=1,
                               sent_at=start, subject="Your receipt"),
        "given_up": outbox_message("sign_in:1", "KIND@reader.example", kind="sign_in_link",
                                   status="given_up", attempts=8, last_error=SMTP_REFUSED,
                                   subject="Your sign-in link"),
        "retrying": outbox_message("receipt:in_2", SUPPORTER, attempts=2,
                                   last_error="Connection refused",
                                   next_attempt_at=start + timedelta(days=30)),
        "sending": outbox_message("receipt:in_3", SUPPORTER, status="sending", attempts=1,
                                  lease_until=start + timedelta(days=30)),
        "queued": outbox_message("confirm:1", SUPPORTER, kind="change_confirmed"),
        "other": outbox_message("receipt:in_9", "late@reader.example", status="given_up",
                                attempts=8, last_error="Timed out", subject="Late receipt"),
    }
    for n, message in enumerate(messages.values()):
        message.created_at = start + timedelta(hours=n)
    db.session.add_all([*changes, *messages.values()])
    db.session.commit()
    return {**varied_activity, "support": support, "changes": changes, "messages": messages}
