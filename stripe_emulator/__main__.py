"""`python -m stripe_emulator --port 12111 --forward-to URL --webhook-secret whsec_...`"""

import argparse
import logging

from .app import create_emulator
from .server import make_emulator_server


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m stripe_emulator",
        description="A local Stripe emulator: API, hosted Checkout and portal, webhooks.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--forward-to", help="URL that receives signed webhook events")
    parser.add_argument("--webhook-secret", help="signing secret (default: a new whsec_...)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    app = create_emulator(args.forward_to, args.webhook_secret)
    state = app.extensions["stripe_emulator"]
    server = make_emulator_server(args.host, args.port, app)
    base = f"http://{args.host}:{server.server_port}"
    print(f"Stripe emulator on {base}  (API base for StripeClient: {base})")
    print(f"Forwarding events to {state.forward_to or '(nowhere yet: POST /_emulator/config)'}")
    print(f"Your webhook signing secret is {state.webhook_secret}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        state.deliverer.stop()


if __name__ == "__main__":
    main()
