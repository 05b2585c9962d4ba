"""The gift's credit (direct, influenced) travels through Stripe and stays with renewals."""
from datetime import UTC, datetime

from sqlalchemy import select

from supportapp.extensions import db
from supportapp.models import Appeal, AppealVariant, Contribution, ReaderFunnel, RecurringSupport
from supportapp.services.appeals import save_appeal

READER = "reader-" + "q" * 20


def _appeal():
    appeal = Appeal(name="Drive", status="live", target_sections=[], excluded_sections=[])
    appeal.variants.append(AppealVariant(
        name="control", heading="H", body="<p>B</p>", cta_label="Give", preset_amounts={},
        default_frequency="monthly", weight=1, is_control=True))
    save_appeal(appeal)
    return appeal, appeal.variants[0]


def _credits(model, **where):
    db.session.rollback()  # see what the live server committed
    rows = db.session.scalars(select(model).filter_by(**where).order_by(model.id)).all()
    return [(r.attribution_kind, r.credited_story_id, r.credited_appeal_id,
             r.credited_variant_id) for r in rows]


def test_direct_monthly_gift_keeps_its_credit_on_renewals(live, make_story):
    appeal, variant = _appeal()
    story = make_story(slug="harbour-dredging")
    live.browser.cookies.set("sa_rid", READER)
    session_id = live.start_checkout(frequency="monthly", amount="5", story=story.slug,
                                     appeal=str(appeal.id), variant=str(variant.id))
    session = live.stripe.v1.checkout.sessions.retrieve(session_id)
    token = f"direct-s{story.id}-a{appeal.id}-v{variant.id}"
    assert session.client_reference_id == token and session.metadata["attribution"] == token
    live.pay(session_id)
    sub_id = live.subscription_of(session_id)
    assert live.stripe.v1.subscriptions.retrieve(sub_id).metadata["attribution"] == token
    for _ in range(2):
        assert live.control(f"/subscriptions/{sub_id}/advance").json()["paid"] is True
    live.settle()
    credit = ("direct", story.id, appeal.id, variant.id)
    assert _credits(Contribution, stripe_subscription_id=sub_id) == [credit] * 3
    assert _credits(RecurringSupport, stripe_subscription_id=sub_id) == [credit]


def test_gift_from_support_page_is_influenced(live, make_story):
    """A reader who saw the appeal on a story yesterday gives once on /support: influenced,
    credited to that story and variant; the payment's metadata says so too."""
    appeal, variant = _appeal()
    story = make_story(slug="ferry-timetable")
    seen = datetime.now(UTC)
    db.session.add(ReaderFunnel(day=seen.date(), reader_key=READER, story_id=story.id,
                                variant_id=variant.id, appeal_id=appeal.id, stage=2,
                                view_reported=True, last_seen_at=seen))
    db.session.commit()
    live.browser.cookies.set("sa_rid", READER)
    session_id = live.start_checkout(amount="7")
    live.pay(session_id)
    live.settle()
    assert _credits(Contribution) == [("influenced", story.id, appeal.id, variant.id)]
    session = live.stripe.v1.checkout.sessions.retrieve(session_id)
    intent = live.stripe.v1.payment_intents.retrieve(session.payment_intent)
    assert intent.metadata["attribution"] == f"influenced-s{story.id}-a{appeal.id}-v{variant.id}"
