"""An email waiting to go, or gone: written in the same transaction as the fact it tells of.

The worker (`flask --app app worker`) sends what is due over SMTP. A message is never lost:
it is written before the fact commits or not at all, and it is only marked sent once the
mail server has taken it. Its unique key makes a webhook delivered twice write one message.
"""
from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from supportapp.extensions import db
from supportapp.models.types import UTCDateTime, utcnow

# queued: due at next_attempt_at (a new message, or one to try again after a failure);
# sending: a worker holds it until lease_until (if that worker dies, it is due again);
# sent: the mail server took it; given_up: every try failed (staff can send it again).
OUTBOX_STATUSES = ("queued", "sending", "sent", "given_up")


class OutboxMessage(db.Model):
    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # e.g. "receipt:in_123"
    kind: Mapped[str] = mapped_column(String(40), index=True)  # receipt, sign_in_link, ...
    to_address: Mapped[str] = mapped_column(String(320), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)  # "<...@our domain>"
    # Headers of its own kind, {name: value}: a reminder's List-Unsubscribe (RFC 8058).
    headers: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    lease_until = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    sent_at = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (Index("ix_outbox_message_status_due", "status", "next_attempt_at"),)

    def __repr__(self):
        return f"<OutboxMessage {self.id} {self.kind} {self.status}>"


class OutboxAttachment(db.Model):
    """A file sent with an outbox message (a statement's PDF), written with the message.

    Kept apart from the message so that claiming and listing messages never reads the
    bytes; the worker loads them just before it sends. Deleted with the message, and when
    the supporter's data is erased.
    """

    __tablename__ = "outbox_attachment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_message.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)

    def __repr__(self):
        return f"<OutboxAttachment {self.id} {self.filename} of message {self.message_id}>"
