"""`stripe-emulator` (or `python -m stripe_emulator`) `--port 12111 --forward-to URL
--webhook-secret whsec_... [--state-file PATH] [--retry-days 3,5,7]
[--after-retries cancel|unpaid|past_due] [--async-delay SECONDS]`"""

import argparse
import logging
import signal
import sys

from . import __version__
from .app import create_emulator
from .sepa import DEFAULT_ASYNC_DELAY
from .server import make_emulator_server
from .state import AFTER_RETRIES, DEFAULT_RETRY_DAYS, check_retry_days
from .statefile import StateFileError


def _retry_days(text):
    try:
        return check_retry_days(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="stripe-emulator",
        description="A local Stripe emulator: API, hosted Checkout and portal, webhooks.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--forward-to", help="URL that receives signed webhook events")
    parser.add_argument("--webhook-secret", help="signing secret (default: a new whsec_...)")
    parser.add_argument(
        "--state-file",
        metavar="PATH",
        help="keep every object, event and idempotency key in this SQLite file, so a "
        "restart carries on where it stopped (default: in memory, empty at each start)",
    )
    parser.add_argument(
        "--retry-days",
        type=_retry_days,
        default=DEFAULT_RETRY_DAYS,
        metavar="DAYS",
        help="when a failed renewal is tried again, in days after the attempt before it "
        "(default: 3,5,7; empty: never)",
    )
    parser.add_argument(
        "--after-retries",
        choices=AFTER_RETRIES,
        default="cancel",
        help="what becomes of a subscription whose last retry failed (default: cancel)",
    )
    parser.add_argument(
        "--async-delay",
        type=float,
        default=DEFAULT_ASYNC_DELAY,
        metavar="SECONDS",
        help="how long a SEPA debit takes to succeed or fail (default: 3)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    try:
        app = create_emulator(
            args.forward_to,
            args.webhook_secret,
            args.state_file,
            retry_days=args.retry_days,
            after_retries=args.after_retries,
            async_delay=args.async_delay,
        )
    except StateFileError as error:
        parser.exit(2, f"stripe_emulator: {error}\n")
    state = app.extensions["stripe_emulator"]
    server = make_emulator_server(args.host, args.port, app)
    base = f"http://{args.host}:{server.server_port}"
    print(f"Stripe emulator on {base}  (API base for StripeClient: {base})")
    print(f"Forwarding events to {state.forward_to or '(nowhere yet: POST /_emulator/config)'}")
    print(f"Your webhook signing secret is {state.webhook_secret}")
    print(f"State: {args.state_file or 'in memory (gone when this process stops)'}", flush=True)
    # A TERM signal (what `make run` sends) stops it as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        state.close()


if __name__ == "__main__":
    main()
