"""A local Stripe emulator for development and tests (never imported by the app).

    python -m stripe_emulator --port 12111 --forward-to http://127.0.0.1:5000/stripe/webhook

or, in tests:

    from stripe_emulator import run_in_thread
    emulator = run_in_thread(forward_to=url, webhook_secret="whsec_test")
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": emulator.url})
    ...
    emulator.shutdown()
"""

from .app import create_emulator
from .server import EmulatorHandle, run_in_thread
from .shapes.common import API_VERSION

__all__ = ["API_VERSION", "EmulatorHandle", "create_emulator", "run_in_thread"]
