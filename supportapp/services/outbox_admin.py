"""The outbox as admins see it: every message, filtered, and a failed one sent again."""
from sqlalchemy import and_, func, or_, select, update

from supportapp.extensions import db
from supportapp.models import OutboxMessage
from supportapp.models.types import utcnow
from supportapp.services.supporter_email import DIGEST_PREFIX

# A message whose last try failed: given up, or waiting to be tried again after a failure.
# Not one that is sent, being sent, or already queued again by staff (no tries yet since:
# its last error stays until the next try), nor one whose supporter was erased (its address
# is a digest now, and its text gone).
FAILED = and_(
    or_(OutboxMessage.status == "given_up",
        and_(OutboxMessage.status == "queued", OutboxMessage.last_error.is_not(None),
             OutboxMessage.attempts > 0)),
    OutboxMessage.to_address.not_like(DIGEST_PREFIX + "%"))


def can_resend(message):
    """True for a message whose last try failed (the rows FAILED selects)."""
    failed = message.status == "given_up" or (
        message.status == "queued" and message.last_error is not None and message.attempts > 0)
    return failed and not message.to_address.startswith(DIGEST_PREFIX)


def message_kinds():
    """The kinds of message the outbox holds, in alphabetical order."""
    return db.session.scalars(select(OutboxMessage.kind).distinct()
                              .order_by(OutboxMessage.kind)).all()


def outbox_messages(status=None, kind=None, page=1, per_page=50):
    """(messages newest first, total), optionally of one status and one kind."""
    query = select(OutboxMessage)
    if status:
        query = query.where(OutboxMessage.status == status)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(
        query.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(per_page).offset(max(page - 1, 0) * per_page)).all()
    return rows, total


def resend_message(message_id):
    """Queue a failed message again, due now with its tries counted afresh, and commit;
    False (nothing changed) unless message `message_id` exists and its last try failed.
    The last error stays on the message until the next try replaces it."""
    # One conditional UPDATE: a worker that takes the message meanwhile wins, and the
    # message is not queued a second time under it.
    result = db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message_id, FAILED)
        .values(status="queued", attempts=0, next_attempt_at=utcnow()))
    db.session.commit()
    return result.rowcount == 1
