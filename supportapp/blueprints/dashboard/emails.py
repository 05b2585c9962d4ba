"""Every email in the outbox, for admins, and sending a failed one again."""
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from supportapp.blueprints.dashboard import bp
from supportapp.blueprints.dashboard.access import role_required
from supportapp.blueprints.dashboard.reporting import page_number
from supportapp.extensions import db
from supportapp.models import OutboxMessage
from supportapp.models.outbox import OUTBOX_STATUSES
from supportapp.security import safe_local_path
from supportapp.services.outbox_admin import (
    can_resend,
    message_kinds,
    outbox_messages,
    resend_message,
)

PER_PAGE = 50


def _choice(name, allowed):
    value = request.args.get(name) or None
    return value if value in allowed else None


@bp.get("/emails")
@role_required("admin")
def emails():
    kinds = message_kinds()
    status, kind, page = _choice("status", OUTBOX_STATUSES), _choice("kind", kinds), page_number()
    rows, total = outbox_messages(status=status, kind=kind, page=page, per_page=PER_PAGE)
    return render_template(
        "dashboard/emails.html", rows=rows, total=total, page=page,
        pages=max((total + PER_PAGE - 1) // PER_PAGE, 1), status=status, kind=kind,
        statuses=OUTBOX_STATUSES, kinds=kinds, can_resend=can_resend)


@bp.post("/emails/<id:message_id>/resend")
@role_required("admin")
def resend_email(message_id):
    db.get_or_404(OutboxMessage, message_id)
    if resend_message(message_id):
        current_app.logger.info("staff %s queued outbox message %s to be sent again",
                                current_user.id, message_id)
        flash("The email is queued to be sent again.", "info")
    else:
        flash("Not sent again: only an email whose last try failed can be sent again.",
              "error")
    return redirect(safe_local_path(request.form.get("next"), url_for("dashboard.emails")))
