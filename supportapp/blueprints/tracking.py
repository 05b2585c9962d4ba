"""POST /api/events: the beacon from article pages. The hottest path of the app."""
from datetime import UTC, datetime

from flask import Blueprint, current_app, request
from sqlalchemy.exc import SQLAlchemyError

from supportapp.blueprints.reader_state import wants_no_tracking
from supportapp.extensions import csrf, db, limiter
from supportapp.logs import log_throttled
from supportapp.rate_limits import charge
from supportapp.request_guard import reads_own_body
from supportapp.services.beacon import (
    MAX_BODY_BYTES,
    BeaconError,
    beacon_events,
    is_bot,
    parse_beacon,
)
from supportapp.services.event_journal import accept_events
from supportapp.services.known_targets import DATABASE_RETRY_SECONDS, TargetsUnavailable
from supportapp.services.reader_cookies import READER_ID_COOKIE

bp = Blueprint("tracking", __name__)


def _reader_id(data):
    if wants_no_tracking(request):
        return None
    # Our own pages carry the first-party cookie; embeds send the id they keep. A Cookie
    # header without our cookie's name is not parsed (werkzeug's parse: 2 µs a beacon).
    sent = READER_ID_COOKIE in request.environ.get("HTTP_COOKIE", "")
    return (sent and request.cookies.get(READER_ID_COOKIE)) or data.get("reader")


def _body():
    """The beacon's body; 413 past MAX_BODY_BYTES."""
    # A declared length within the limit is read in one call: werkzeug's get_data wraps the
    # input in a limited stream first, 8 µs for a 200-byte beacon (a sixth of its own work).
    environ = request.environ
    declared = environ.get("CONTENT_LENGTH", "")
    length = int(declared) if declared.isascii() and declared.isdigit() else None
    if length is not None and length <= MAX_BODY_BYTES and \
            "HTTP_TRANSFER_ENCODING" not in environ:
        return environ["wsgi.input"].read(length)
    request.max_content_length = MAX_BODY_BYTES
    return request.get_data(cache=False)


def _try_again():
    return ({"error": {"status": 503, "message": "try again"}}, 503,
            {"Retry-After": str(DATABASE_RETRY_SECONDS)})


@bp.post("/api/events")
@reads_own_body
@csrf.exempt
@limiter.exempt  # limited below, without Flask-Limiter's per-request bookkeeping and headers
def events():
    # Every beacon counts against the limit, bots and malformed ones too, as before the view.
    charge(current_app.config["BEACON_RATE_LIMIT"], "beacon")
    if is_bot(request.environ.get("HTTP_USER_AGENT", "")):  # the string; no header lookup
        return "", 204
    try:
        data = parse_beacon(_body())
    except BeaconError as exc:
        return {"error": {"status": 400, "message": str(exc)}}, 400
    try:
        found = beacon_events(data, _reader_id(data), datetime.now(UTC).date(),
                              current_app.config["TRACKING_LOOKUP_SECONDS"])
        accept_events(found)
    except TargetsUnavailable:  # logged once per outage where it is detected
        return _try_again()
    except SQLAlchemyError as exc:  # the journal is off and the database is away
        db.session.rollback()
        log_throttled(current_app, current_app.logger, "beacon-store",
                      "beacon: events not stored (%s)", type(exc).__name__)
        return _try_again()
    return "", 204
