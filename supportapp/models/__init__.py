"""Domain models, one module per concept."""
from supportapp.models.appeal import Appeal, AppealVariant
from supportapp.models.appeal_change import AppealChange
from supportapp.models.bandit_allocation import BanditAllocation
from supportapp.models.card_update_link import CardUpdateLink
from supportapp.models.content_version import ContentVersion
from supportapp.models.contribution import Contribution
from supportapp.models.outbox import OutboxAttachment, OutboxMessage
from supportapp.models.payment_failure import PaymentFailure
from supportapp.models.recurring_support import RecurringSupport
from supportapp.models.reminder import Reminder
from supportapp.models.staff import Staff, StaffToken
from supportapp.models.story import Story
from supportapp.models.stripe_event import StripeEvent
from supportapp.models.support_change import SupportChange
from supportapp.models.support_sign_in import SupportSignIn
from supportapp.models.tracking import (
    DailyFunnel,
    ReaderFunnel,
    RollupState,
    TrackingDedup,
    TrackingEvent,
    TrackingInbox,
)

__all__ = [
    "Appeal", "AppealChange", "AppealVariant", "BanditAllocation", "CardUpdateLink",
    "ContentVersion", "Contribution", "OutboxAttachment", "OutboxMessage",
    "PaymentFailure", "RecurringSupport", "Reminder", "Story",
    "StripeEvent", "SupportChange", "SupportSignIn",
    "Staff", "StaffToken",
    "DailyFunnel", "ReaderFunnel", "RollupState", "TrackingDedup", "TrackingEvent",
    "TrackingInbox",
]
