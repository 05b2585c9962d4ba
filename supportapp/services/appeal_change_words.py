"""An appeal's audit entry (an AppealChange) as staff read it: who, when, and for the appeal
and each variant, each field in words with its value before and after.

Long wording (over LONG_TEXT characters, or on several lines) is shown as a word diff: the
words removed and added, with a little of the unchanged text around them. Values are plain
text; the template escapes them. A diff of an unexpected shape (a column added later, a
value of another type) still reads as words, never as an error.
"""
import difflib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from supportapp.labels import label
from supportapp.services.appeal_copy import PLACEHOLDER_RE
from supportapp.services.money import decimal_string, format_money

LONG_TEXT = 80
CONTEXT_TOKENS = 12  # unchanged words and spaces kept either side of a change
# Words, runs of space, and HTML tags: a changed tag or word shows alone.
_TOKEN = re.compile(r"\s+|<[^>]*>|[^\s<]+|<")
_CODE_KINDS = {"status": "appeal_status", "default_frequency": "frequency",
               "allocation": "allocation"}
VARIANT_CHANGE_WORDS = {"added": "added", "removed": "removed", "edited": "changed"}


@dataclass(frozen=True)
class FieldChange:
    """One field: its words, and the values before and after as text; for long wording,
    `wording` holds the word diff as (kind, text) pairs, kind one of "same", "removed",
    "added" and "gap" (unchanged text left out)."""

    field: str
    before: str
    after: str
    wording: tuple = ()


@dataclass(frozen=True)
class ChangeGroup:
    """The fields changed on the appeal itself, or on one variant."""

    heading: str
    fields: tuple


@dataclass(frozen=True)
class DescribedChange:
    at: str
    actor: str
    action: str
    groups: tuple


def describe_appeal_change(change, currency=None):
    """The entry `change` in words; `currency` (the appeal's goal currency now) formats
    amounts when the entry does not say which currency they were in."""
    diff = change.diff if isinstance(change.diff, dict) else {}
    appeal_fields = diff.get("appeal") if isinstance(diff.get("appeal"), dict) else {}
    currencies = _currencies(appeal_fields, currency)
    groups = []
    if appeal_fields:
        groups.append(ChangeGroup("Appeal", _fields(appeal_fields, "appeal_field", currencies)))
    variants = diff.get("variants") if isinstance(diff.get("variants"), dict) else {}
    for variant in variants.values():
        if isinstance(variant, dict) and isinstance(variant.get("fields"), dict):
            groups.append(ChangeGroup(
                _variant_heading(variant),
                _fields(variant["fields"], "variant_field", currencies)))
    return DescribedChange(_moment(change.at), change.actor,
                           label(change.action, "appeal_change") or "Changed", tuple(groups))


def placeholder_parts(text):
    """Text split into (is_placeholder, text) pairs, so a page can mark {article_count} and
    its kind as typed tokens rather than words."""
    parts, start = [], 0
    for match in PLACEHOLDER_RE.finditer(text):
        if match.start() > start:
            parts.append((False, text[start:match.start()]))
        parts.append((True, match.group()))
        start = match.end()
    if start < len(text):
        parts.append((False, text[start:]))
    return tuple(parts)


def _moment(at):
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if at else ""


def _variant_heading(variant):
    change = VARIANT_CHANGE_WORDS.get(variant.get("change"), "changed")
    return f"Variant “{variant.get('name') or ''}” ({change})"


def _currencies(appeal_fields, currency):
    before, after = _pair(appeal_fields.get("goal_currency"), [currency, currency])
    return before or currency, after or currency


def _pair(value, default=(None, None)):
    return value if isinstance(value, list) and len(value) == 2 else default


def _fields(fields, kind, currencies):
    described = []
    for name, pair in fields.items():
        before, after = _pair(pair)
        described.append(FieldChange(
            label(name, kind), _value_words(name, before, currencies[0]),
            _value_words(name, after, currencies[1]), _wording(before, after)))
    return tuple(described)


def _value_words(field, value, currency):
    if value is None or value == "" or value == [] or value == {}:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if field in _CODE_KINDS and isinstance(value, str):
        return label(value, _CODE_KINDS[field])
    if field.endswith("_minor") and type(value) is int:
        return format_money(value, currency) if currency else decimal_string(value)
    if field.endswith("_at") and isinstance(value, str):
        return _date_words(value)
    if field == "preset_amounts" and isinstance(value, dict):
        return _presets_words(value)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def _date_words(text):
    try:
        return _moment(datetime.fromisoformat(text))
    except ValueError:
        return text


def _presets_words(presets):
    parts = []
    for currency, by_frequency in sorted(presets.items()):
        if not isinstance(by_frequency, dict):
            continue
        for frequency, amounts in by_frequency.items():
            money = ", ".join(format_money(a, currency) if type(a) is int else str(a)
                              for a in (amounts if isinstance(amounts, list) else []))
            parts.append(f"{currency} {label(frequency, 'frequency').lower()}: {money}")
    return "; ".join(parts) or "none"


def _wording(before, after):
    """The word diff of two long texts; () when either is not text, is empty, or is short."""
    if not (isinstance(before, str) and isinstance(after, str) and before and after):
        return ()
    if not any(len(t) > LONG_TEXT or "\n" in t for t in (before, after)):
        return ()
    old, new = _TOKEN.findall(before), _TOKEN.findall(after)
    segments = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            segments.extend(_unchanged(old[a1:a2], first=a1 == 0, last=a2 == len(old)))
            continue
        if a2 > a1:
            segments.append(("removed", "".join(old[a1:a2])))
        if b2 > b1:
            segments.append(("added", "".join(new[b1:b2])))
    return tuple(segments)


def _unchanged(tokens, first, last):
    """Unchanged text, shortened to the context either side of the changes around it."""
    keep_start = 0 if first else CONTEXT_TOKENS
    keep_end = 0 if last else CONTEXT_TOKENS
    if len(tokens) <= keep_start + keep_end + 1:
        return [("same", "".join(tokens))]
    segments = [("same", "".join(tokens[:keep_start]))] if keep_start else []
    segments.append(("gap", "…"))
    if keep_end:
        segments.append(("same", "".join(tokens[-keep_end:])))
    return segments
