"""The emulator's own fixtures, for checking its hosted pages with this project's browser
and axe-core set-up (which the emulator's standalone tests do not have)."""
from stripe_emulator.tests.conftest import (  # noqa: F401
    _clean_emulator,
    client,
    control,
    emulator,
    pay,
    subscribe,
)
