"""Liveness for load balancers: 200 when the database answers, 503 when it does not."""
from flask import Blueprint, current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from supportapp.blueprints.errors import RETRY_AFTER_SECONDS
from supportapp.extensions import db, limiter
from supportapp.logs import log_throttled

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        db.session.rollback()
        log_throttled(current_app, current_app.logger, "healthz",
                      "health check: database unreachable (%s)", type(exc).__name__)
        return ({"status": "unavailable", "database": "unreachable"}, 503,
                {"Retry-After": str(RETRY_AFTER_SECONDS)})
    return {"status": "ok", "database": "ok"}, 200
