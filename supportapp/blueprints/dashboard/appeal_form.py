"""Between the appeal form and the Appeal model, and the form's live preview."""
from datetime import UTC

from supportapp.blueprints.dashboard.forms import PresetsForm, parse_amount_list
from supportapp.config import SUPPORTED_CURRENCIES
from supportapp.extensions import db
from supportapp.models import AppealVariant
from supportapp.routing import database_id
from supportapp.services.appeal_placement import build_placement
from supportapp.services.appeals import AppealView, VariantView
from supportapp.services.giving import FREQUENCIES
from supportapp.services.goal import funding_progress, goal_status
from supportapp.services.html import sanitise_appeal_html
from supportapp.services.money import decimal_string
from supportapp.services.pricing import AmountError, parse_amount
from supportapp.services.reminders import month_name, next_month

PREVIEW_ARTICLE_COUNT = 5  # what {article_count} counts in the preview


def _section_list(text):
    return [s.strip().lower() for s in (text or "").split(",") if s.strip()]


def _naive_utc(value):
    return value.astimezone(UTC).replace(tzinfo=None) if value else None


def _aware_utc(value):
    return value.replace(tzinfo=UTC) if value else None


def _presets_data(presets):
    return {PresetsForm.key(currency, frequency): ", ".join(decimal_string(m) for m in amounts)
            for currency, by_frequency in (presets or {}).items()
            for frequency, amounts in by_frequency.items()}


def form_data(appeal):
    """The form's initial values for an existing appeal."""
    return {
        "name": appeal.name, "starts_at": _naive_utc(appeal.starts_at),
        "ends_at": _naive_utc(appeal.ends_at), "placement_paragraph": appeal.placement_paragraph,
        "target_sections": ", ".join(appeal.target_sections or []),
        "excluded_sections": ", ".join(appeal.excluded_sections or []),
        "goal_amount": decimal_string(appeal.goal_amount_minor)
        if appeal.goal_amount_minor else "",
        "goal_currency": appeal.goal_currency or "USD", "goal_label": appeal.goal_label,
        "ticker_threshold": decimal_string(appeal.ticker_threshold_minor)
        if appeal.ticker_threshold_minor else "",
        "allocation": appeal.allocation or "fixed", "floor_percent": appeal.floor_percent or 0,
        "holdback_percent": appeal.holdback_percent,
        "variants": [{
            "id": str(v.id), "name": v.name, "heading": v.heading, "body": v.body,
            "no_supporters_line": v.no_supporters_line,
            "cta_label": v.cta_label, "presets": _presets_data(v.preset_amounts),
            "default_frequency": v.default_frequency, "weight": v.weight,
            "is_control": v.is_control,
        } for v in appeal.variants],
    }


def presets_from_form(presets_form, lenient=False):
    """{"USD": {"monthly": [500, 1000]}} from the filled fields; blank ones are left out.

    Lenient (for the preview) skips what cannot be read instead of raising ValueError.
    """
    presets = {}
    for currency in SUPPORTED_CURRENCIES:
        for frequency in FREQUENCIES:
            text = presets_form[PresetsForm.key(currency, frequency)].data
            try:
                amounts = parse_amount_list(text)
            except ValueError:
                if not lenient:
                    raise
                amounts = []
            if amounts:
                presets.setdefault(currency, {})[frequency] = amounts
    return presets


def _goal_minor(text):
    return parse_amount(text) if (text or "").strip() else None


def _lenient_minor(text, blank=None):
    try:
        return parse_amount(text) if (text or "").strip() else blank
    except AmountError:
        return blank  # the preview shows what it can; saving reports the error


def _one_line(text):
    return " ".join((text or "").split())  # typed in a text box; shown as one paragraph


def _fill_variant(variant, entry):
    variant.name = (entry.name.data or "").strip()
    variant.heading = (entry.heading.data or "").strip()
    variant.body = entry.body.data or ""
    variant.no_supporters_line = _one_line(entry.no_supporters_line.data)
    variant.cta_label = (entry.cta_label.data or "").strip()
    variant.preset_amounts = presets_from_form(entry.presets.form)
    variant.default_frequency = entry.default_frequency.data
    variant.weight = entry.weight.data
    variant.is_control = bool(entry.is_control.data)


def apply_form(form, appeal):
    """Copy a validated form onto the appeal and its variants (nothing is committed)."""
    # No flush until save_appeal has checked the values: loading the variants below would
    # otherwise write a goal past its column first, and PostgreSQL would answer an error.
    with db.session.no_autoflush:
        return _copy_form(form, appeal)


def _copy_form(form, appeal):
    appeal.name = form.name.data.strip()
    appeal.starts_at = _aware_utc(form.starts_at.data)
    appeal.ends_at = _aware_utc(form.ends_at.data)
    appeal.placement_paragraph = form.placement_paragraph.data
    appeal.target_sections = _section_list(form.target_sections.data)
    appeal.excluded_sections = _section_list(form.excluded_sections.data)
    appeal.goal_amount_minor = _goal_minor(form.goal_amount.data)
    appeal.goal_currency = form.goal_currency.data if appeal.goal_amount_minor else None
    appeal.goal_label = (form.goal_label.data or "").strip()
    appeal.ticker_threshold_minor = _goal_minor(form.ticker_threshold.data) or 0
    appeal.allocation = form.allocation.data
    appeal.floor_percent = form.floor_percent.data or 0
    if form.holdback_percent.data is not None:  # blank keeps it (a new appeal: the default)
        appeal.holdback_percent = form.holdback_percent.data
    existing = {str(v.id): v for v in appeal.variants if v.id is not None}
    kept = []
    for entry in (field.form for field in form.variants):
        if entry.remove.data:
            continue  # dropped from the list, so deleted with the appeal's save
        variant = existing.pop(entry.id.data, None) or AppealVariant()
        _fill_variant(variant, entry)
        kept.append(variant)
    appeal.variants[:] = kept
    return appeal


def _saved_id(text):
    try:
        return database_id(text)
    except ValueError:
        return 0  # a variant not saved yet


def _preview_variant(form):
    entries = [field.form for field in form.variants]
    index = min(max(form.preview_variant.data or 0, 0), len(entries) - 1)
    entry = entries[index]
    frequency = entry.default_frequency.data
    return VariantView(
        _saved_id(entry.id.data),
        entry.name.data or "", entry.heading.data or "",
        sanitise_appeal_html(entry.body.data or ""), entry.cta_label.data or "",
        presets_from_form(entry.presets.form, lenient=True),
        frequency if frequency in FREQUENCIES else "monthly", 1, bool(entry.is_control.data),
        _one_line(entry.no_supporters_line.data))


def _preview_supporters(form, supporters):
    chosen = form.preview_supporters.data
    return chosen if isinstance(chosen, int) and 0 <= chosen <= 10**9 else supporters


def preview_context(form, appeal_id=None):
    """For the preview partial, from unsaved form data: the Placement a reader would get for
    the chosen variant (`preview`) and what staff are told about the goal (`goal_status`)."""
    currency = form.goal_currency.data if form.goal_currency.data in SUPPORTED_CURRENCIES \
        else "USD"
    variant = _preview_variant(form)
    appeal = AppealView(appeal_id or 0, form.name.data or "", form.placement_paragraph.data,
                        (), (), _lenient_minor(form.goal_amount.data), currency,
                        form.goal_label.data or "", None, None, (variant,),
                        _lenient_minor(form.ticker_threshold.data, blank=0))
    # Counted as the story pages count: since the appeal starts.
    raised, supporters = funding_progress(appeal_id, currency, _aware_utc(form.starts_at.data))
    values = {"article_count": PREVIEW_ARTICLE_COUNT,
              "supporter_count": _preview_supporters(form, supporters), "raised_minor": raised}
    shown = form.preview_currency.data
    placement = build_placement(appeal, variant,
                                shown if shown in SUPPORTED_CURRENCIES else "USD", values)
    return {"preview": placement, "goal_status": goal_status(appeal, raised),
            "remind_month": month_name(next_month())}
