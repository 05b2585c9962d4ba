"""Progress toward an appeal's funding goal, from the contributions it won."""


def funding_progress(appeal_id, currency, since=None):
    """(raised_minor, supporter_count) for paid contributions attributed to this appeal.

    Contributions are recorded by the payments work; until that lands there are none,
    so the ticker honestly reads zero.
    """
    return 0, 0
