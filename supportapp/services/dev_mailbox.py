"""The messages the local mail server kept (development only): listed and read back.

The local mail server (`python -m devmail`, started by `make run`) writes each message it
receives to its own `.eml` file in DEV_MAIL_DIR; /_dev/mail shows them. A message's name is
its file name without `.eml`.
"""
import email
import email.policy
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from pathlib import Path

from markupsafe import Markup, escape

LIST_LIMIT = 200
_NAME = re.compile(r"[0-9A-Za-z_-]{1,100}")
_LINK = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")


@dataclass(frozen=True)
class ReceivedMail:
    name: str
    received_at: datetime
    message: email.message.EmailMessage

    @property
    def text(self):
        part = self.message.get_body(("plain",))
        return part.get_content() if part else ""

    @property
    def html(self):
        part = self.message.get_body(("html",))
        return part.get_content() if part else None


def list_mail(folder, limit=LIST_LIMIT):
    """The `limit` newest messages in `folder`, newest first, headers only."""
    paths = sorted(Path(folder).glob("*.eml"), key=lambda p: (p.stat().st_mtime_ns, p.name),
                   reverse=True)[:limit] if Path(folder).is_dir() else []
    parser = BytesHeaderParser(policy=email.policy.default)
    mails = []
    for path in paths:
        with path.open("rb") as file:
            mails.append(ReceivedMail(path.stem, _mtime(path), parser.parse(file)))
    return mails


def read_mail(folder, name):
    """The whole message called `name` in `folder`, or None when there is none."""
    if not _NAME.fullmatch(name or ""):
        return None
    path = Path(folder) / f"{name}.eml"
    try:
        content = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None
    message = email.message_from_bytes(content, policy=email.policy.default)
    return ReceivedMail(name, _mtime(path), message)


def _mtime(path):
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def text_with_links(text):
    """Plain text as HTML in which every http(s) address is a link."""
    parts, last = [], 0
    for match in _LINK.finditer(text):
        parts.append(escape(text[last:match.start()]))
        parts.append(Markup('<a href="{0}">{0}</a>').format(match.group()))
        last = match.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


def html_opening_links_outside(html):
    """The HTML part with a `<base target="_blank">`, so that its links open as pages of
    their own rather than inside the frame that shows it."""
    base = '<base target="_blank">'
    head = re.search(r"<head\b[^>]*>", html, re.IGNORECASE)
    if head:
        return html[:head.end()] + base + html[head.end():]
    return base + html
