"""A local Stripe emulator for development and tests (never imported by the app).

    stripe-emulator --port 12111 --forward-to http://127.0.0.1:5000/stripe/webhook
    (or python -m stripe_emulator ...; `pip install ./stripe_emulator` installs the script)

or, in tests:

    from stripe_emulator import run_in_thread
    emulator = run_in_thread(forward_to=url, webhook_secret="whsec_test")
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": emulator.url})
    ...
    emulator.shutdown()
"""

# The package's version: pyproject.toml reads it from here (setuptools' `attr:`).
__version__ = "0.1.0"

from .app import create_emulator  # noqa: E402
from .server import EmulatorHandle, run_in_thread  # noqa: E402
from .shapes.common import API_VERSION  # noqa: E402

__all__ = ["API_VERSION", "__version__", "EmulatorHandle", "create_emulator", "run_in_thread"]
