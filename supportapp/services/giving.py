"""What a reader can give: frequencies and their words, preset amounts, and the data the
page scripts get.

One module owns these. The appeal, /contribute, /support, the embed, the dashboard's editor
and the JavaScript (through `chooser_data`, a JSON block) all take them from here.
"""
import json

from supportapp.config import SUPPORTED_CURRENCIES
from supportapp.services.money import MINOR_PER_MAJOR, decimal_string, format_money
from supportapp.services.pricing import MIN_AMOUNT_MINOR

FREQUENCIES = ("one_off", "monthly", "annual")
FREQUENCY_LABELS = {"one_off": "One-off", "monthly": "Monthly", "annual": "Annual"}
# After an amount: "$5 a month".
PER_PERIOD = {"one_off": "", "monthly": "a month", "annual": "a year"}
# Over the amount buttons of each frequency.
AMOUNT_LEGENDS = {"one_off": "Amount", "monthly": "Amount per month",
                  "annual": "Amount per year"}
# Minor units, the same in every supported currency (all of similar value, two decimals).
DEFAULT_PRESETS = {
    "one_off": (500, 1000, 2500, 5000),
    "monthly": (500, 1000, 2000),
    "annual": (5000, 10000, 25000),
}
DEFAULT_FREQUENCY = "monthly"
PRESELECTED_INDEX = 1  # the second preset is chosen when a page first shows a frequency


def preset_amounts(presets, currency, frequency):
    """The preset amounts (minor units) for a currency and frequency: `presets` (a variant's
    {currency: {frequency: [...]}}) where it has usable ones, else the defaults."""
    chosen = ((presets or {}).get(currency) or {}).get(frequency)
    usable = [a for a in chosen or () if type(a) is int and a >= 100]
    return tuple(usable) if usable else DEFAULT_PRESETS[frequency]


def amount_choices(presets, currency):
    """((frequency, ((minor, "5", "$5"), ...)), ...) for every frequency: what the buttons
    show. Tuples all the way down, so a placement that holds them can be cached."""
    return tuple(
        (frequency, tuple((m, decimal_string(m), format_money(m, currency))
                          for m in preset_amounts(presets, currency, frequency)))
        for frequency in FREQUENCIES
    )


def monthly_offer(one_off_minor, divisor):
    """The monthly amount to offer a reader about to give `one_off_minor` once: the gift
    divided by `divisor`, rounded half up to whole units (25 -> 5 with 5), at least 1.00;
    None when offers are off (divisor 0). giving.js computes the same in integers."""
    if not divisor or one_off_minor is None:
        return None
    unit = divisor * MINOR_PER_MAJOR
    return max(MINOR_PER_MAJOR, (one_off_minor + unit // 2) // unit * MINOR_PER_MAJOR)


def with_period(label, frequency):
    """"$5" -> "$5 a month" for a recurring frequency."""
    return f"{label} {PER_PERIOD[frequency]}".strip()


def chooser_data(presets, offer_divisor=0):
    """The chooser's data for its script, as JSON safe inside a <script> element: every
    currency's buttons and the words, so switching currency redraws the buttons without
    asking the server, and the divisor of the one-off -> monthly offer."""
    return _script_safe(json.dumps({
        "currencies": list(SUPPORTED_CURRENCIES),
        "per": PER_PERIOD,
        "preselected": PRESELECTED_INDEX,
        "min_minor": MIN_AMOUNT_MINOR,
        "offer_divisor": offer_divisor,
        "presets": {currency: {frequency: [[decimal_string(m), format_money(m, currency)]
                                           for m in preset_amounts(presets, currency, frequency)]
                               for frequency in FREQUENCIES}
                    for currency in SUPPORTED_CURRENCIES},
    }, separators=(",", ":")))


def _script_safe(text):
    # "</script>" or "<!--" in a value must not end the element (JSON escapes are still JSON).
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
