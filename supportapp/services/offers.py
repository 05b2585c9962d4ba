"""The one-off -> monthly offer: counted when shown and when taken, per story and variant.

A reader about to give once is offered a smaller monthly gift instead (giving.monthly_offer).
Offers count like the appeal's other events: once per reader (or page view), story, variant
and day, through the event journal. Only offers to readers who came from an appeal variant
count (a story is optional: /support has none); they are what the variant reports compare.
"""
import secrets
from datetime import UTC, datetime

from flask import current_app

from supportapp.services.event_journal import accept_events
from supportapp.services.known_targets import TargetsUnavailable, known_targets
from supportapp.services.tracking import TrackedEvent

SHOWN, ACCEPTED = "offer", "offer_yes"


def _target(story_slug, variant_id, appeal_id):
    """(story id or 0, appeal id) for a known variant of `appeal_id`, else None."""
    try:
        story_id, appeal_of_variant = known_targets().lookup(
            story_slug or "", variant_id, current_app.config["TRACKING_LOOKUP_SECONDS"])
    except TargetsUnavailable:
        return None
    if appeal_of_variant is None or appeal_of_variant != appeal_id:
        return None
    return story_id or 0, appeal_of_variant


def record_offer(kind, story_slug, appeal_id, variant_id, reader_id):
    """Count an offer shown (SHOWN) or taken (ACCEPTED); returns True when it counted."""
    target = _target(story_slug, variant_id, appeal_id) if appeal_id and variant_id else None
    if target is None:
        return False
    story_id, appeal_id = target
    who = reader_id or f"req:{secrets.token_hex(8)}"  # no reader id: no de-duplication
    day = datetime.now(UTC).date().isoformat()
    # A taken offer was shown, even if its showing was not counted (a blocked beacon): the
    # funnel never has more taken than shown.
    kinds = (SHOWN, ACCEPTED) if kind == ACCEPTED else (kind,)
    accept_events([TrackedEvent(k, story_id, appeal_id, variant_id, reader_id,
                                f"{k}|{day}|{story_id}|{variant_id}|{who}") for k in kinds])
    return True
