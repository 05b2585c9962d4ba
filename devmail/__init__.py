"""A local mail server for development and tests (never imported by the app).

    python -m devmail --port 1025 --folder instance/mail

It speaks SMTP (aiosmtpd) on a loopback address and keeps every message it receives, as
received, in a `.eml` file of its own in the folder; nothing is relayed anywhere. The app
sends to it as it would to any mail server. In tests:

    from devmail import start_server
    server = start_server(folder, port=0)   # a free port: server.port
    ...
    server.stop()
"""
import os
import secrets
import time
from pathlib import Path

from aiosmtpd.controller import Controller

__all__ = ["MailFolder", "MailServer", "start_server"]


class MailFolder:
    """An aiosmtpd handler that writes each message it receives to `<folder>/<name>.eml`.

    Names start with the time received in nanoseconds, so they sort oldest first. A file
    appears whole or not at all (written aside, then renamed), so a reader never sees half
    a message.
    """

    def __init__(self, folder):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def save(self, content):
        """Keep one message (bytes as received); returns its path."""
        name = f"{time.time_ns()}-{secrets.token_hex(4)}"
        partial = self.folder / f".{name}.part"
        partial.write_bytes(content)
        path = self.folder / f"{name}.eml"
        os.replace(partial, path)
        return path

    async def handle_DATA(self, server, session, envelope):
        self.save(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


class MailServer(Controller):
    """aiosmtpd's threaded controller, which also takes port 0 (a free port, then known as
    `.port`): the controller would otherwise greet port 0 to check that it started."""

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()

    @property
    def url(self):
        return f"smtp://{self.hostname}:{self.port}"


def start_server(folder, host="127.0.0.1", port=1025, handler=None):
    """Serve SMTP on host:port in a background thread, keeping messages in `folder` (or
    handing them to `handler`, a MailFolder); returns the running MailServer."""
    server = MailServer(handler or MailFolder(folder), hostname=host, port=port)
    server.start()
    return server
