"""Which appeal a story shows, which variant a reader sees, and saving appeals safely."""
import hashlib
import random
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from supportapp.caches import app_caches
from supportapp.config import MAX_HOLDBACK_PERCENT, SUPPORTED_CURRENCIES
from supportapp.extensions import db
from supportapp.models import Appeal, BanditAllocation
from supportapp.models.appeal import ALLOCATION_MODES, APPEAL_STATUSES
from supportapp.services.appeal_audit import APP_ACTOR, record_change, snapshot_before_save
from supportapp.services.appeal_copy import unknown_placeholders
from supportapp.services.bandit_assignment import BanditShares, choose_bandit_variant
from supportapp.services.clock import current_time
from supportapp.services.content_stamp import content_stamp
from supportapp.services.giving import FREQUENCIES

# Within the INTEGER columns that hold them (2**31 - 1), with room to spare.
MAX_WEIGHT = 10_000
MAX_GOAL_MINOR = 1_000_000_000  # 10,000,000.00
MAX_LINE_LENGTH = 300  # AppealVariant.no_supporters_line


class AppealError(ValueError):
    """An appeal that must not be saved; the message says why."""


# eq=False: views hash by identity, so the placement built from one can be cached until the
# live-appeal cache hands out fresh views.
@dataclass(frozen=True, eq=False)
class VariantView:
    """A variant as served to readers: plain values, safe to share between requests."""

    id: int
    name: str
    heading: str
    body: str
    cta_label: str
    presets: dict
    default_frequency: str
    weight: int
    is_control: bool
    no_supporters_line: str = ""  # shown instead of the body while no one has given


@dataclass(frozen=True, eq=False)
class AppealView:
    id: int
    name: str
    placement_paragraph: int | None
    target_sections: tuple
    excluded_sections: tuple
    goal_amount_minor: int | None
    goal_currency: str | None
    goal_label: str
    starts_at: datetime | None
    ends_at: datetime | None
    variants: tuple = field(default=())
    ticker_threshold_minor: int = 0  # the ticker shows once this much is raised
    allocation: str = "fixed"  # or "bandit": split by bandit_shares, not the weights
    bandit_shares: BanditShares | None = None
    holdback_percent: int = 0  # share of readers (with an id) shown no appeal

    def is_running(self, now):
        return (self.starts_at is None or self.starts_at <= now) and (
            self.ends_at is None or now < self.ends_at
        )

    def targets(self, section):
        """True when this appeal runs in stories of the given section."""
        if section in self.excluded_sections:
            return False
        return not self.target_sections or section in self.target_sections


def _view(appeal, allocation_row=None):
    variants = tuple(
        VariantView(v.id, v.name, v.heading, v.body, v.cta_label, dict(v.preset_amounts or {}),
                    v.default_frequency, v.weight, v.is_control, v.no_supporters_line or "")
        for v in appeal.variants
        if v.weight > 0
    )
    return AppealView(
        appeal.id, appeal.name, appeal.placement_paragraph, tuple(appeal.target_sections or ()),
        tuple(appeal.excluded_sections or ()), appeal.goal_amount_minor, appeal.goal_currency,
        appeal.goal_label or "", appeal.starts_at, appeal.ends_at, variants,
        appeal.ticker_threshold_minor or 0, appeal.allocation or "fixed",
        BanditShares.from_row(allocation_row), holdback_percent=appeal.holdback_percent or 0,
    )


def clear_appeal_cache():
    """Forget the current app's cached live appeals (after a change in this process)."""
    app_caches().live_appeals.clear()


def _load_live_appeals():
    rows = db.session.scalars(
        select(Appeal).where(Appeal.status == "live")
        .options(selectinload(Appeal.variants)).order_by(Appeal.id.desc())
    ).all()
    allocations = {row.appeal_id: row for row in db.session.scalars(
        select(BanditAllocation).where(BanditAllocation.appeal_id.in_([a.id for a in rows])))}
    return tuple(_view(a, allocations.get(a.id)) for a in rows
                 if any(v.weight > 0 for v in a.variants))


def live_appeals():
    """Appeals whose status is live, newest first, as plain views.

    Each process keeps a copy per app under the content stamp (services/content_stamp.py),
    so a change made by any process shows on the next read; APPEAL_CACHE_SECONDS bounds how
    long a copy lives even when nothing changed.
    """
    return app_caches().live_appeals.get(("live", content_stamp()), _load_live_appeals)


def appeal_for_section(section, now):
    """The newest live, running appeal that targets this section, or None."""
    for appeal in live_appeals():
        if appeal.is_running(now) and appeal.targets(section):
            return appeal
    return None


def assignment_point(reader_id, appeal_id, total):
    """A number in [0, total) fixed by reader and appeal, spread evenly across readers."""
    digest = hashlib.sha256(f"{appeal_id}:{reader_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % total


# Holdback points run 0..9,999: a share in hundredths of a percent.
HOLDBACK_SCALE = 10_000


def held_back(appeal, reader_id):
    """True when this reader is in the appeal's holdback and sees no appeal.

    A hash of its own (salted apart from the variant's), so the holdback never depends on
    the variants' weights or how they are re-weighted, and the variants split the other
    readers in proportion to their weights. A reader with no id is never held back: their
    later gifts cannot be followed back to what they saw, so withholding the appeal from
    them would cost gifts and measure nothing (reports compare readers with ids only).
    """
    if not reader_id or appeal.holdback_percent <= 0:
        return False
    point = assignment_point(f"holdback:{reader_id}", appeal.id, HOLDBACK_SCALE)
    return point < appeal.holdback_percent * HOLDBACK_SCALE // 100


def assign_arm(appeal, reader_id, rng=random):
    """The variant this reader sees, or None for a reader in the holdback (no appeal)."""
    if held_back(appeal, reader_id):
        return None
    return choose_variant(appeal, reader_id, rng)


def choose_variant(appeal, reader_id, rng=random):
    """The variant this reader sees, in proportion to the weights.

    The same reader always gets the same variant of an appeal; a reader with no id
    (Global Privacy Control, Do Not Track) gets a fresh draw each time. Under a bandit the
    bandit's shares split readers instead (services/bandit_assignment.py).
    """
    if appeal.allocation == "bandit":
        return choose_bandit_variant(appeal, reader_id, current_time().date(), rng)
    total = sum(v.weight for v in appeal.variants)
    point = assignment_point(reader_id, appeal.id, total) if reader_id else rng.randrange(total)
    for variant in appeal.variants:
        if point < variant.weight:
            return variant
        point -= variant.weight
    raise AssertionError("weights must add up")  # pragma: no cover


def validate_appeal(appeal, max_amount_minor):
    """Raise AppealError for anything unsafe; return warnings (unknown placeholders).

    Presets may go up to `max_amount_minor`, the largest gift the contribution form takes.
    """
    if appeal.status not in APPEAL_STATUSES:
        raise AppealError(f"status must be one of {', '.join(APPEAL_STATUSES)}")
    if not (appeal.name or "").strip():
        raise AppealError("an appeal needs a name")
    if not appeal.variants:
        raise AppealError("an appeal needs at least one variant")
    if any(v.weight is None or v.weight < 0 for v in appeal.variants):
        raise AppealError("variant weights cannot be negative")
    if any(v.weight > MAX_WEIGHT for v in appeal.variants):
        raise AppealError(f"variant weights can be at most {MAX_WEIGHT:,}")
    if sum(v.weight for v in appeal.variants) <= 0:
        raise AppealError("at least one variant needs a weight above zero")
    _validate_allocation(appeal)
    holdback = appeal.holdback_percent
    # None: a new appeal, which gets the default when saved.
    if holdback is not None and (type(holdback) is not int
                                 or not 0 <= holdback <= MAX_HOLDBACK_PERCENT):
        raise AppealError(f"the holdback must be a whole percent from 0 to {MAX_HOLDBACK_PERCENT}")
    if appeal.placement_paragraph is not None and appeal.placement_paragraph < 1:
        raise AppealError("placement must be a paragraph number from 1, or the end")
    if appeal.starts_at and appeal.ends_at and appeal.ends_at <= appeal.starts_at:
        raise AppealError("the end date must come after the start date")
    _validate_goal(appeal)
    warnings = []
    for variant in appeal.variants:
        _validate_variant(variant, max_amount_minor)
        for name in unknown_placeholders(variant.heading, variant.body, variant.cta_label,
                                         variant.no_supporters_line):
            warnings.append(f"variant {variant.name!r}: unknown placeholder {{{name}}} "
                            "will show as typed")
    return warnings


def _validate_allocation(appeal):
    if (appeal.allocation or "fixed") not in ALLOCATION_MODES:
        raise AppealError(f"allocation must be one of {', '.join(ALLOCATION_MODES)}")
    floor = appeal.floor_percent or 0
    if not 0 <= floor <= 100:
        raise AppealError("the floor share must be from 0 to 100%")
    shown = sum(1 for v in appeal.variants if v.weight > 0)
    if floor * shown > 100:
        raise AppealError(f"a floor share of {floor}% for each of {shown} variants shown "
                          f"adds up to {floor * shown}%, over 100%; lower the floor to at "
                          f"most {100 // shown}%")


def _validate_goal(appeal):
    threshold = appeal.ticker_threshold_minor or 0
    if appeal.goal_amount_minor is None:
        if threshold:
            raise AppealError("a ticker threshold needs a funding goal")
        return
    if appeal.goal_amount_minor <= 0 or appeal.goal_currency not in SUPPORTED_CURRENCIES:
        raise AppealError("a funding goal needs a positive amount and a supported currency")
    if appeal.goal_amount_minor > MAX_GOAL_MINOR:
        raise AppealError(f"a funding goal can be at most {MAX_GOAL_MINOR // 100:,}")
    if not 0 <= threshold <= appeal.goal_amount_minor:
        raise AppealError("the ticker threshold must be from 0 up to the funding goal")


def _validate_variant(variant, max_amount_minor):
    if variant.default_frequency not in FREQUENCIES:
        raise AppealError(f"variant {variant.name!r}: unknown default frequency")
    for field_name in ("name", "heading", "cta_label"):
        if not (getattr(variant, field_name) or "").strip():
            raise AppealError(f"variant needs a {field_name.replace('_', ' ')}")
    if len(variant.no_supporters_line or "") > MAX_LINE_LENGTH:
        raise AppealError(f"variant {variant.name!r}: the line for no supporters is at most "
                          f"{MAX_LINE_LENGTH} characters")
    for currency, by_frequency in (variant.preset_amounts or {}).items():
        if currency not in SUPPORTED_CURRENCIES or not isinstance(by_frequency, dict):
            raise AppealError(f"variant {variant.name!r}: unsupported currency {currency!r}")
        for frequency, amounts in by_frequency.items():
            if frequency not in FREQUENCIES or not isinstance(amounts, list):
                raise AppealError(f"variant {variant.name!r}: unknown frequency {frequency!r}")
            for amount in amounts:
                if type(amount) is not int or not 100 <= amount <= max_amount_minor:
                    raise AppealError(f"variant {variant.name!r}: preset {amount!r} must be "
                                      "whole minor units from 1.00 up to the maximum")


def save_appeal(appeal, actor=APP_ACTOR):
    """Validate and commit an appeal with its variants, and its audit entry in the same
    transaction (none when nothing changed); returns the warnings.

    `actor` says who saves it (services/appeal_audit.py). Presets are checked against the
    configured largest gift (SUPPORTAPP_MAX_AMOUNT_MINOR). Nothing may flush the edit before
    this call, or the entry would miss what was flushed.
    """
    before = snapshot_before_save(appeal)  # first: validating may load variants, so flush
    warnings = validate_appeal(appeal, current_app.config["MAX_AMOUNT_MINOR"])
    db.session.add(appeal)
    db.session.flush()
    record_change(appeal.id, before, actor)
    db.session.commit()
    clear_appeal_cache()
    return warnings


def set_appeal_status(appeal_id, status, actor=APP_ACTOR):
    """Move an appeal to draft, live, paused or ended, logged as done by `actor`; returns
    the appeal or None if unknown."""
    appeal = db.session.get(Appeal, appeal_id)
    if appeal is None:
        return None
    appeal.status = status
    save_appeal(appeal, actor)
    return appeal
