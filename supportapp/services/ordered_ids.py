"""Random ids that sort by when they were made: readers' ids and page view ids.

Each id is a key of the reader funnel (services/reader_funnel.py), in its primary key and in
its (reader_key, day) index. Purely random ids put every new reader somewhere in the middle
of both indexes, so each roll-up rewrote pages all over them, and its cost per event grew
with the table: on SQLite from about 40 to 70-90 µs per "rendered" event once the table
held 170,000 readers (`bench/rollup_cost.py --database sqlite --events 10000 --rounds 16`).
Ids that begin with the second they were made in go to the indexes' end, as an
auto-incremented number would, and the cost stays flat.

The prefix says when the id was made, to the second, and nothing else: the archive
(tracking_event) already holds when each reader was first seen. The rest is as random as
before.
"""
import secrets
import time

PREFIX_LENGTH = 8  # hex digits of seconds since 1970: sorted as text until 2106


def ordered_id(random_bytes, now=None):
    """A url-safe id: the time (seconds since 1970, `now` or the clock's) as 8 lowercase hex
    digits, which sort as text in time order, then `random_bytes` random bytes
    (token_urlsafe)."""
    seconds = int(time.time() if now is None else now)
    return f"{seconds:0{PREFIX_LENGTH}x}{secrets.token_urlsafe(random_bytes)}"
