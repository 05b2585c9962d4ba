"""Serving the emulator: in the foreground (CLI) or in a background thread (tests)."""

import threading
from dataclasses import dataclass

from werkzeug.serving import WSGIRequestHandler, make_server

from .app import create_emulator


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass  # tests do not need one access-log line per API call


@dataclass
class EmulatorHandle:
    """A running emulator: its base `url`, the WSGI `app` and its `state`."""

    url: str
    port: int
    app: object
    server: object
    thread: threading.Thread

    @property
    def state(self):
        return self.app.extensions["stripe_emulator"]

    @property
    def webhook_secret(self):
        return self.state.webhook_secret

    def wait_for_deliveries(self, timeout=10.0):
        """True once every queued webhook has been delivered or given up."""
        return self.state.deliverer.wait(timeout)

    def reset(self):
        self.state.reset()

    def shutdown(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
        self.state.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.shutdown()


def make_emulator_server(host, port, app, quiet=False):
    handler = _QuietHandler if quiet else WSGIRequestHandler
    return make_server(host, port, app, threaded=True, request_handler=handler)


def run_in_thread(
    port=0,
    host="127.0.0.1",
    forward_to=None,
    webhook_secret=None,
    quiet=True,
    state_file=None,
    **delivery_options,
):
    """Start an emulator on `host:port` (0 = a free port) in a daemon thread."""
    app = create_emulator(forward_to, webhook_secret, state_file, **delivery_options)
    server = make_emulator_server(host, port, app, quiet)
    # A short poll interval makes shutdown() quick (tests start and stop emulators).
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.1},
        name="stripe-emulator",
        daemon=True,
    )
    thread.start()
    url = f"http://{host}:{server.server_port}"
    return EmulatorHandle(url, server.server_port, app, server, thread)
