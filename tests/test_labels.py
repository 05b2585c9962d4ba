"""Every code the staff pages show has words (supportapp/labels.py)."""
import pytest

from supportapp.blueprints.dashboard.contributions import RECURRING_STATUSES
from supportapp.labels import LABELS, label
from supportapp.models.appeal import ALLOCATION_MODES, APPEAL_STATUSES
from supportapp.models.contribution import CONTRIBUTION_STATUSES
from supportapp.models.outbox import OUTBOX_STATUSES
from supportapp.models.staff import ROLES
from supportapp.models.support_change import SUPPORT_CHANGE_KINDS
from supportapp.services.experiment_planning import VERDICTS
from supportapp.services.giving import FREQUENCIES
from supportapp.services.support_changes import CANCEL_REASONS


@pytest.mark.parametrize("kind, codes", [
    ("frequency", FREQUENCIES),
    ("contribution_status", CONTRIBUTION_STATUSES),
    ("subscription_status", RECURRING_STATUSES),
    ("appeal_status", APPEAL_STATUSES),
    ("role", ROLES),
    ("outbox_status", OUTBOX_STATUSES),
    ("support_change", SUPPORT_CHANGE_KINDS),
    # The reasons the manage page offers for cancelling.
    ("cancel_reason", tuple(CANCEL_REASONS)),
    ("allocation", ALLOCATION_MODES),
    ("plan_verdict", VERDICTS),
])
def test_every_code_has_its_own_words(kind, codes):
    """Each code the app stores of this kind is in the table, and no two share words."""
    assert set(codes) == set(LABELS[kind])
    words = [label(code, kind) for code in codes]
    assert len(set(words)) == len(words)
    assert all("_" not in w and w[0].isupper() for w in words)


def test_a_code_missing_from_the_table_still_reads_as_words():
    """A status Stripe adds later reads as words; no code reads as nothing."""
    assert label("past_due", "subscription_status") == "Past due"
    assert label("requires_review", "subscription_status") == "Requires review"
    assert label(None, "frequency") == ""
