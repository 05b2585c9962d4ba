"""The app as `bench/beacon.py` serves it: `gunicorn bench.beacon_app:app` (cwd: the project).

The real app from `create_app()`, plus one route that exists only here:
`POST /bench/bare` answers 204 and does nothing else. It goes through the same gunicorn,
WSGI, Flask routing, CSRF check and after-request hooks as `POST /api/events`, so the
difference between the two is the beacon's own work (parsing, bot check, lookups, the
dedup insert and the inbox insert with their commit).

Rate limiting is off (`RATELIMIT_ENABLED=False`): the benchmark sends thousands of beacons
a second from one address, which the per-address beacon limit (600 per minute) exists to
refuse. The point here is raw ingest throughput, not the limiter.
"""
from supportapp import create_app
from supportapp.extensions import csrf
from supportapp.request_guard import reads_own_body

app = create_app({"RATELIMIT_ENABLED": False})


@app.post("/bench/bare")
@reads_own_body  # like the beacon: its text/plain body is not a form (else 415)
@csrf.exempt
def bare():
    return "", 204
