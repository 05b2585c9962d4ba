"""Everything the newsroom holds about one supporter, found by their email, for staff: the
gifts, the recurring supports, the changes they made and the emails sent to them."""
from dataclasses import dataclass

from sqlalchemy import func, or_, select

from supportapp.extensions import db
from supportapp.models import (
    Appeal,
    AppealVariant,
    Contribution,
    OutboxMessage,
    RecurringSupport,
    Story,
    SupportChange,
)
from supportapp.services.support_change_words import describe_change

# Where each kind of record a staff page links from keeps its email.
EMAIL_COLUMNS = {"contribution": Contribution.email, "support": RecurringSupport.email,
                 "message": OutboxMessage.to_address}


@dataclass
class SupporterRecord:
    email: str
    contributions: list  # Contribution, newest first
    supports: list  # RecurringSupport, newest first
    changes: list  # (SupportChange, sentence), newest first
    emails: list  # OutboxMessage, newest first
    stories: dict  # id -> Story, for the gifts and supports that name one
    appeals: dict  # id -> Appeal
    variants: dict  # id -> AppealVariant

    @property
    def empty(self):
        return not (self.contributions or self.supports or self.changes or self.emails)


def _same_email(column, email):
    # Exact but for letter case: readers type their address in whatever case they like.
    return func.lower(column) == func.lower(email)


def _newest_first(model, *where):
    return db.session.scalars(select(model).where(*where)
                              .order_by(model.created_at.desc(), model.id.desc())).all()


def _by_id(model, ids):
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(ids)))}


def supporter_record(email):
    """Every gift, recurring support, change and email of `email` (letter case aside)."""
    email = email.strip()
    contributions = _newest_first(Contribution, _same_email(Contribution.email, email))
    supports = _newest_first(RecurringSupport, _same_email(RecurringSupport.email, email))
    # A change belongs to the supporter by its email or by one of their supports.
    changes = _newest_first(SupportChange, or_(
        _same_email(SupportChange.email, email),
        SupportChange.recurring_support_id.in_([s.id for s in supports])))
    emails = _newest_first(OutboxMessage, _same_email(OutboxMessage.to_address, email))
    won = contributions + supports
    return SupporterRecord(
        email=email, contributions=contributions, supports=supports,
        changes=[(c, describe_change(c.kind, c.details)) for c in changes], emails=emails,
        stories=_by_id(Story, (r.story_id for r in won)),
        appeals=_by_id(Appeal, (r.appeal_id for r in won)),
        variants=_by_id(AppealVariant, (r.variant_id for r in won)))


def email_on(kind, record_id):
    """The email on a contribution, recurring support or outbox message (`kind`, a key of
    EMAIL_COLUMNS) with this id; None when there is no such record or it has no email."""
    column = EMAIL_COLUMNS[kind]
    return db.session.scalar(select(column).where(column.class_.id == record_id)) or None
