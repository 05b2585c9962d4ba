"""Demo content for a fresh install, safe to load again and again."""
import json
from pathlib import Path

from supportapp.extensions import db
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
