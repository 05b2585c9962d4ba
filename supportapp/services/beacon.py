"""Checking what an article page's beacon says before anything is counted."""
import json
import re

from crawlerdetect import CrawlerDetect

from supportapp.caches import app_caches
from supportapp.services.known_targets import known_targets
from supportapp.services.ordered_ids import ordered_id
from supportapp.services.reader_cookies import valid_reader_id
from supportapp.services.reader_funnel import STAGES
from supportapp.services.stories import SLUG_RE
from supportapp.services.tracking import TrackedEvent

MAX_BODY_BYTES = 4096
MAX_EVENTS = 20
# Rendered, checkout and a taken offer are only ever recorded server-side. An offer is shown
# by the contribution form's script too, where there may be no story (/support): "".
CLIENT_KINDS = {"view", "click", "offer"}
PAGE_VIEW_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")

def new_page_view_id():
    """A fresh id for one page showing the appeal: the server records the appeal as shown
    under it, and the page's beacons send it back as `pv`, so the two join without a reader
    id (Do Not Track, embeds with no storage). It sorts by when it was made, as reader ids
    do (services/ordered_ids.py): without a reader id, it is the reader funnel's key."""
    return ordered_id(12)


def valid_page_view_id(value):
    """value if it is a page view id as the server draws them (or older scripts did), else None."""
    return value if isinstance(value, str) and PAGE_VIEW_RE.match(value) else None


class BeaconError(ValueError):
    """A beacon body that is not what our script sends; answered with 400."""


def is_bot(user_agent):
    """True for crawlers and scripts, by the maintained CrawlerDetect list; empty UA too.
    Each user agent's verdict is kept in the app's caches: the list is one large regular
    expression, and a reader's browser sends the same user agent with every beacon."""
    if not user_agent:
        return True
    # A detector per verdict: it keeps the last match, so one shared by threads would race;
    # making one is cheap once Python's re module holds the compiled expression.
    return app_caches().bots.get(user_agent, lambda: CrawlerDetect().isCrawler(user_agent))


def _int(value):
    return value if type(value) is int and 0 < value < 2**31 else None


def parse_beacon(body):
    """Decode and check a beacon body; raise BeaconError when it is malformed."""
    if len(body) > MAX_BODY_BYTES:
        raise BeaconError("beacon body too large")
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BeaconError("beacon body is not JSON") from exc
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise BeaconError("beacon needs an 'events' list")
    if not 1 <= len(data["events"]) <= MAX_EVENTS:
        raise BeaconError(f"a beacon carries 1 to {MAX_EVENTS} events")
    if valid_page_view_id(data.get("pv")) is None:
        raise BeaconError("beacon needs a page view id 'pv'")
    for event in data["events"]:
        kind = event.get("type") if isinstance(event, dict) else None
        if not isinstance(kind, str) or kind not in CLIENT_KINDS:  # a list is unhashable
            raise BeaconError("event type must be 'view', 'click' or 'offer'")
        story = event.get("story")
        storyless = kind == "offer" and story == ""
        if not isinstance(story, str) or not (storyless or SLUG_RE.match(story)):
            raise BeaconError("event needs a story slug")
        if _int(event.get("appeal")) is None or _int(event.get("variant")) is None:
            raise BeaconError("event needs appeal and variant ids")
    return data


def beacon_events(data, reader_id, day, max_age):
    """TrackedEvents for the known stories and variants in a parsed beacon; others are dropped.

    Each event is counted once per reader (or, without a reader id, per page view), story,
    variant and day, so a replayed beacon counts nothing twice: views and clicks by the
    reader funnel, which only ever raises a reader's stage, offers by a de-duplication key.
    `max_age` is how old the list of known targets may be (seconds); raises
    TargetsUnavailable when there is none.
    """
    lookup = known_targets().lookup
    reader_id = valid_reader_id(reader_id)
    who = reader_id or f"pv:{data['pv']}"
    events = []
    for item in data["events"]:
        story_id, appeal_id = lookup(item["story"], item["variant"], max_age)
        if item["story"] == "":
            story_id = 0  # an offer on a page of no story (parse_beacon allows only that)
        if story_id is None or appeal_id != item["appeal"]:
            continue
        key = None
        if item["type"] not in STAGES:
            # Only offers: a key for a view or click cost its roll-up a third more CPU (the
            # key's row, its index, its clean-up) to count what the funnel counts once anyway.
            key = f"{item['type']}|{day.isoformat()}|{story_id}|{item['variant']}|{who}"
        events.append(TrackedEvent(item["type"], story_id, appeal_id, item["variant"],
                                   reader_id, key, page_view=data["pv"]))
    return events
