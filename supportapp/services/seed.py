"""Demo content for a fresh install, safe to load again and again."""
import json
from pathlib import Path

from sqlalchemy import select

from supportapp.extensions import db
from supportapp.models import Appeal, AppealVariant
from supportapp.services.appeals import save_appeal
from supportapp.services.stories import StoryRecord, upsert_story
from supportapp.services.story_import import parse_datetime

SEED_FILE = Path(__file__).resolve().parent.parent / "seed_content.json"


def load_seed_content(path=SEED_FILE):
    """The demo stories and appeal, as shipped with the app."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def seed_stories(content):
    """Create or update the demo stories by slug; returns (created, updated)."""
    created = updated = 0
    for item in content["stories"]:
        record = StoryRecord(
            title=item["title"],
            body_html=item["body_html"],
            slug=item["slug"],
            standfirst=item.get("standfirst", ""),
            byline=item.get("byline", ""),
            section=item["section"],
            published_at=parse_datetime(item["published"], SEED_FILE),
            appeal_disabled=item.get("appeal_disabled", False),
        )
        _story, was_created = upsert_story(record)
        created += was_created
        updated += not was_created
    db.session.commit()
    return created, updated


def seed_appeal(content):
    """Create the demo appeal, live, unless an appeal of that name exists; returns it or None."""
    spec = content["appeal"]
    if db.session.scalar(select(Appeal.id).where(Appeal.name == spec["name"])) is not None:
        return None
    goal = spec.get("goal") or {}
    appeal = Appeal(
        name=spec["name"], status="live", placement_paragraph=spec.get("placement_paragraph", 4),
        target_sections=[], excluded_sections=[],
        goal_amount_minor=goal.get("amount_minor"), goal_currency=goal.get("currency"),
        goal_label=goal.get("label", ""),
        ticker_threshold_minor=goal.get("ticker_threshold_minor", 0),
    )
    for item in spec["variants"]:
        appeal.variants.append(AppealVariant(
            name=item["name"], heading=item["heading"], body=f"<p>{item['body']}</p>",
            cta_label=item["cta"], no_supporters_line=item.get("no_supporters_line", ""),
            preset_amounts={}, default_frequency="monthly",
            weight=item["weight"], is_control=item["is_control"],
        ))
    save_appeal(appeal)
    return appeal
