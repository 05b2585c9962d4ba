"""The words people read for the codes the app stores (frequencies, statuses, roles, emails).

Pages, forms and services show these, never the codes themselves; a code missing here
still reads as words ("incomplete_expired" -> "Incomplete expired").
"""
from supportapp.services.giving import FREQUENCY_LABELS  # readers' words, owned there

CONTRIBUTION_STATUS_LABELS = {
    "pending": "Pending", "failed": "Failed", "paid": "Paid",
    "partially_refunded": "Partly refunded", "refunded": "Refunded", "disputed": "Disputed",
}
# Stripe's subscription statuses.
SUBSCRIPTION_STATUS_LABELS = {
    "active": "Active", "trialing": "Trial", "past_due": "Past due", "unpaid": "Unpaid",
    "paused": "Paused", "canceled": "Cancelled", "incomplete": "Incomplete",
    "incomplete_expired": "Expired before payment",
}
APPEAL_STATUS_LABELS = {"draft": "Draft", "live": "Live", "paused": "Paused", "ended": "Ended"}
ROLE_LABELS = {"viewer": "Viewer", "editor": "Editor", "admin": "Admin"}
# OutboxMessage.status.
OUTBOX_STATUS_LABELS = {"queued": "Queued", "sending": "Sending", "sent": "Sent",
                        "given_up": "Given up"}
# OutboxMessage.kind: each part that sends a new kind of email adds its words here.
EMAIL_KIND_LABELS = {"receipt": "Receipt", "refund_notice": "Refund notice",
                     "sign_in_link": "Sign-in link",
                     "sign_in_no_gifts": "Sign-in asked, no gifts found",
                     "support_changed": "Change confirmed",
                     "reminder": "Reminder to give (asked for)",
                     "renewal_notice": "Renewal notice", "card_expiring": "Card expiring",
                     "recovery_failed": "Payment failed: update your card",
                     "recovery_followup": "Payment failed: reminder",
                     "recovery_new_link": "Payment failed: new card link",
                     "recovery_thanks": "Payment recovered: thank you",
                     "statement": "Year-end statement"}
# What a supporter changed on the manage page (SupportChange.kind).
SUPPORT_CHANGE_LABELS = {
    "amount_changed": "Amount changed", "frequency_changed": "Frequency changed",
    "paused": "Paused", "resumed": "Resumed", "cancelled": "Cancelled",
    "card_updated": "Card updated", "history_downloaded": "History downloaded",
    "erased": "Personal data erased",
}
# Why a supporter cancelled (SupportChange.details["reason"], the codes of
# services/support_changes.CANCEL_REASONS), in staff's words.
CANCEL_REASON_LABELS = {
    "too_expensive": "Too expensive", "reading_less": "Reading less",
    "coverage": "Unhappy with the coverage", "elsewhere": "Giving elsewhere",
    "other": "Another reason", "not_given": "No reason given",
}
# Why Stripe could not charge a renewal (PaymentFailure.reason: the decline code, else the
# error code), in staff's words.
DECLINE_REASON_LABELS = {
    "generic_decline": "Declined by the bank", "card_declined": "Declined by the bank",
    "do_not_honor": "Declined by the bank", "insufficient_funds": "Not enough funds",
    "expired_card": "Card expired", "lost_card": "Card reported lost",
    "stolen_card": "Card reported stolen", "fraudulent": "Suspected fraud",
    "incorrect_cvc": "Wrong security code", "incorrect_number": "Wrong card number",
    "processing_error": "Processing error at the bank",
    "card_velocity_exceeded": "Card limit reached",
    "withdrawal_count_limit_exceeded": "Card limit reached",
    "authentication_required": "The bank asks the supporter to confirm",
    "payment_intent_authentication_failure": "The bank asks the supporter to confirm",
    "card_not_supported": "Card not accepted for this payment",
    "currency_not_supported": "Card not accepted in this currency",
    "try_again_later": "Bank unavailable; will be retried",
    "no_payment_method": "No card on file",
    "restricted_card": "Card restricted", "pickup_card": "Card withdrawn by the bank",
    "transaction_not_allowed": "Not allowed on this card",
    "test_mode_live_card": "A live card in test mode",
}
# What a save did to an appeal (AppealChange.action).
APPEAL_CHANGE_LABELS = {
    "created": "Created", "edited": "Edited", "started": "Started", "resumed": "Resumed",
    "paused": "Paused", "ended": "Ended", "drafted": "Back to draft",
}
# The columns of Appeal and AppealVariant, as the audit log names them; a column added
# later still reads as words ("floor_percent" -> "Floor percent").
APPEAL_FIELD_LABELS = {
    "name": "Name", "status": "Status", "starts_at": "Starts", "ends_at": "Ends",
    "placement_paragraph": "Placed after paragraph", "target_sections": "Sections",
    "excluded_sections": "Sections left out", "goal_amount_minor": "Funding goal",
    "goal_currency": "Goal currency", "goal_label": "Goal label",
    "ticker_threshold_minor": "Ticker shown from", "holdback_percent": "Holdback share (%)",
    "allocation": "Allocation", "floor_percent": "Floor share per variant (%)",
}
VARIANT_FIELD_LABELS = {
    "name": "Name", "heading": "Heading", "body": "Wording", "cta_label": "Button label",
    "no_supporters_line": "Line while no one has given", "preset_amounts": "Suggested amounts",
    "default_frequency": "Frequency chosen first", "weight": "Weight",
    "is_control": "Control",
}
# Appeal.allocation: how readers are split between an appeal's variants.
ALLOCATION_LABELS = {"fixed": "Fixed weights",
                     "bandit": "Bandit: more readers to the variant earning most"}
# What the variants page says of a variant against the control
# (services/experiment_planning.Plan.verdict).
PLAN_VERDICT_LABELS = {
    "control": "Control",
    "no_control": "No control to compare with: mark one variant as the control",
    "unknown_rate": "Can't plan yet: the control has no gifts, so its rate is unknown",
    "too_few": "Can't tell yet: too few viewable impressions to tell these apart",
    "no_difference": "No clear difference: enough impressions to see a 20% lift, and none "
                     "shows",
    "ahead": "Ahead of the control (the 95% intervals do not overlap)",
    "behind": "Behind the control (the 95% intervals do not overlap)",
}

# The funnel's figures on the report pages (services/reports.Funnel's names).
REPORT_FIGURE_LABELS = {
    "rendered": "Shown", "viewable": "Viewable", "clicks": "Clicks", "checkouts": "Checkouts",
    "contributions": "Payments", "views_reported": "Views reported",
    "conversion_rate": "Conversion per viewable",
    "conversion_rate_shown": "Conversion per shown",
    "beacons_missing_share": "Beacons missing",
}

LABELS = {
    "frequency": FREQUENCY_LABELS,
    "contribution_status": CONTRIBUTION_STATUS_LABELS,
    "subscription_status": SUBSCRIPTION_STATUS_LABELS,
    "appeal_status": APPEAL_STATUS_LABELS,
    "role": ROLE_LABELS,
    "outbox_status": OUTBOX_STATUS_LABELS,
    "email_kind": EMAIL_KIND_LABELS,
    "support_change": SUPPORT_CHANGE_LABELS,
    "cancel_reason": CANCEL_REASON_LABELS,
    "decline_reason": DECLINE_REASON_LABELS,
    "appeal_change": APPEAL_CHANGE_LABELS,
    "appeal_field": APPEAL_FIELD_LABELS,
    "variant_field": VARIANT_FIELD_LABELS,
    "allocation": ALLOCATION_LABELS,
    "plan_verdict": PLAN_VERDICT_LABELS,
    "report_figure": REPORT_FIGURE_LABELS,
}


def label(code, kind):
    """The words for `code` of a kind of code (a key of LABELS); "" for no code."""
    if not code:
        return ""
    return LABELS[kind].get(code) or code.replace("_", " ").capitalize()
