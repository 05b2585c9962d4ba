"""Writing an email into the outbox, in the same transaction as the fact it tells of.

`queue_email` renders the message now (its HTML with the CSS inlined, and its text) and
INSERTs it under a key of its own; a second call with the same key (a webhook delivered
twice) writes nothing. The caller commits: if the fact does not commit, neither does the
email. The worker sends it later (services/mail_worker.py); nothing here talks to SMTP.

Templates: `templates/email/<name>.html` and `<name>.txt`, each extending the `_base`
of its kind. The text template sets the subject: `{% set subject = "..." %}`.

A message may carry files (a statement's PDF): they are written with it, in the same
transaction, so the worker sends exactly what was true when the message was written, on
every try.
"""
import re
from dataclasses import dataclass
from email.utils import make_msgid, parseaddr
from urllib.parse import urlsplit

from flask import current_app

from supportapp.extensions import db
from supportapp.models import OutboxAttachment, OutboxMessage
from supportapp.models.dialect import dialect_insert
from supportapp.models.types import utcnow

_HEADER_BREAK = re.compile(r"[\r\n]")
# A header's name (RFC 5322 field-name: printable ASCII but the colon).
_HEADER_NAME = re.compile(r"^[!-9;-~]{1,76}$")
# Headers the mail worker writes itself: a message cannot set its own.
_OWN_HEADERS = {"from", "to", "cc", "bcc", "reply-to", "subject", "message-id", "date",
                "auto-submitted", "content-type", "mime-version", "content-transfer-encoding"}


class OutboxError(ValueError):
    """An email that must not be written: a header would break, or no address to send to."""


@dataclass(frozen=True)
class Attachment:
    """A file to send with a message: its name as the reader sees it, its type, its bytes."""

    filename: str
    content_type: str
    content: bytes

    def __post_init__(self):
        # The name goes into a MIME header: a line break there would split it.
        if not self.filename or _HEADER_BREAK.search(self.filename + self.content_type):
            raise OutboxError("an attachment needs a one-line file name and type")


def check_address(address):
    """The address, if it can be a recipient: one plain address, no line break in it."""
    if not isinstance(address, str) or _HEADER_BREAK.search(address):
        raise OutboxError("not a single email address")
    address = address.strip()
    if not address or parseaddr(address)[1] != address or "@" not in address \
            or len(address) > 320:
        raise OutboxError("not a single email address")
    return address


def check_headers(headers):
    """A message's own headers ({name: value}), if each is one line under a plain name that
    is not one the worker writes; raises OutboxError otherwise."""
    checked = {}
    for name, value in (headers or {}).items():
        if not (isinstance(name, str) and _HEADER_NAME.match(name)) \
                or name.lower() in _OWN_HEADERS:
            raise OutboxError(f"not a header a message may set: {name!r}")
        if not isinstance(value, str) or _HEADER_BREAK.search(value) or not value.isprintable():
            raise OutboxError(f"the {name} header is not one printable line")
        checked[name] = value
    return checked


def public_url(endpoint, **values):
    """An absolute link to this site for an email, from SUPPORTAPP_PUBLIC_URL (emails are
    written by webhooks and commands too, where no request says what the site's address is)."""
    base = urlsplit(current_app.config["PUBLIC_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/",
                                       url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


def _context(context):
    config = current_app.config
    return {"site_name": config["SITE_NAME"],
            "org_legal_name": config["ORG_LEGAL_NAME"] or config["SITE_NAME"],
            "org_address": config["ORG_ADDRESS"], "public_url": public_url, **context}


def render_email(template, /, **context):
    """(subject, text, html) of the email template `template`, the HTML's CSS inlined."""
    env = current_app.jinja_env
    values = _context(context)
    text_template = env.get_template(f"email/{template}.txt").make_module(values)
    subject = getattr(text_template, "subject", "") or ""
    if not subject or _HEADER_BREAK.search(subject):
        raise OutboxError(f"email/{template}.txt must set a one-line subject")
    html = env.get_template(f"email/{template}.html").render(subject=subject, **values)
    # Deferred: css-inline is 1.5 MB that every web worker would hold (story pages import
    # this module) for the few requests and the mail worker that write email.
    import css_inline

    inliner = css_inline.CSSInliner(keep_style_tags=False)
    return subject, str(text_template).strip() + "\n", inliner.inline(html)


def queue_email(key, kind, to, template, /, *, headers=None, attachments=(), **context):
    """Write one email (and its `attachments`, Attachment values) in the caller's
    transaction; True when written, False when the key already holds one (the same fact
    told twice). `headers` are the message's own (e.g. a reminder's List-Unsubscribe).
    Raises OutboxError for a bad address or header."""
    to = check_address(to)
    headers = check_headers(headers) or None
    subject, text, html = render_email(template, **context)
    domain = parseaddr(current_app.config["MAIL_FROM"])[1].rpartition("@")[2] or "localhost"
    now = utcnow()
    statement = dialect_insert(OutboxMessage).values(
        key=key, kind=kind, to_address=to, subject=subject, text_body=text, html_body=html,
        message_id=make_msgid(domain=domain), headers=headers, status="queued", attempts=0,
        next_attempt_at=now, created_at=now,
    ).on_conflict_do_nothing(index_elements=["key"]).returning(OutboxMessage.id)
    message_id = db.session.execute(statement).scalar()
    if message_id is None:
        return False
    for attachment in attachments:
        db.session.add(OutboxAttachment(
            message_id=message_id, filename=attachment.filename,
            content_type=attachment.content_type, content=attachment.content))
    return True
