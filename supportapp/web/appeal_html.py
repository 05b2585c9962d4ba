"""The appeal block as HTML: rendered once per distinct appeal wording, reused for every reader.

Story pages are the busiest pages of the site, and most readers see one of a handful of
identical blocks; only the story slug differs, and it goes into a slot of the cached HTML.
"""
import re

from flask import current_app, render_template, request

from supportapp.caches import app_caches
from supportapp.services.appeal_placement import HeldBack
from supportapp.services.beacon import new_page_view_id
from supportapp.services.event_journal import record_held_back, record_rendered
from supportapp.services.reminders import month_name, next_month

STORY_SLOT = "__supportapp_story_slug__"
PAGE_VIEW_SLOT = "__supportapp_page_view__"
_SLOTS = re.compile(f"({STORY_SLOT}|{PAGE_VIEW_SLOT})")


def _fragment(placement, embed, site_url, dismiss_days, month):
    """The block with its slots, split at them: (text, slot, text, slot, ..., text)."""
    html = render_template("appeal/_appeal.html", p=placement, embed=embed,
                           story_slug=STORY_SLOT, page_view=PAGE_VIEW_SLOT, site_url=site_url,
                           dismiss_days=dismiss_days, remind_month=month_name(month))
    return tuple(_SLOTS.split(html))


def _filled(parts, story_slug, page_view):
    # One join over the parts: two str.replace calls each copied the whole block (4 µs
    # against 0.8 µs, on every story page).
    return "".join([story_slug if part == STORY_SLOT else page_view if part == PAGE_VIEW_SLOT
                    else part for part in parts])


def appeal_html(placement, story_slug, page_view, embed=False):
    """The appeal's HTML (a plain str, safe to insert) for this placement, story and page
    view (beacon.new_page_view_id: the page's beacons and checkout carry it back).

    Embeds post to this site's address; our own pages use paths.
    """
    site_url = request.url_root.rstrip("/") if embed else ""
    # The month its "Remind me in ..." offers is part of the key: a new month, a new block.
    key = (placement, embed, site_url, current_app.config["APPEAL_DISMISS_DAYS"], next_month())
    return _filled(app_caches().fragments.get(key, lambda: _fragment(*key)), story_slug,
                   page_view)


def shown_appeal(story, placement, reader_id, embed=False):
    """What a page shows of place_appeal's answer, counted: (html, placement) for an appeal
    (recorded as rendered under a fresh page view id), ("", None) for a reader held back
    (recorded as the holdback) or for no appeal."""
    if isinstance(placement, HeldBack):
        record_held_back(story.id, placement.appeal_id, reader_id)
        return "", None
    if placement is None:
        return "", None
    page_view = new_page_view_id()
    html = appeal_html(placement, story.slug, page_view, embed)
    record_rendered(story.id, placement.appeal_id, placement.variant_id, reader_id, page_view)
    return html, placement
