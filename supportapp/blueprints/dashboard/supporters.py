"""One supporter, found by email: their gifts, recurring supports, changes and emails.

An email address is personal data, so it never travels in a URL (where it would stay in
the browser's history, proxy and server logs, and the Referer of the next page): the search
is a POST answered with the page itself, and links from other pages name a contribution, a
recurring support or an email by id, whose address is looked up here.
"""
from flask import abort, current_app, render_template
from flask_login import current_user

from supportapp.blueprints.dashboard import bp
from supportapp.blueprints.dashboard.access import role_required
from supportapp.blueprints.dashboard.forms import SupporterSearchForm
from supportapp.services.outbox_admin import can_resend
from supportapp.services.supporter_record import email_on, supporter_record


def _page(form, record=None, status=200):
    return render_template("dashboard/supporters.html", form=form, record=record,
                           can_resend=can_resend), status


def _record_page(email, form=None):
    form = form or SupporterSearchForm(formdata=None, email=email)
    # Who looked, never whom: the address stays out of the logs.
    current_app.logger.info("staff %s opened a supporter record", current_user.id)
    return _page(form, supporter_record(email))


@bp.get("/supporters")
@role_required("viewer")
def supporters():
    return _page(SupporterSearchForm(formdata=None))


@bp.post("/supporters")
@role_required("viewer")
def search_supporter():
    form = SupporterSearchForm()
    if not form.validate_on_submit():
        return _page(form, status=400)
    return _record_page(form.email.data, form)


def _supporter_of(kind, record_id):
    email = email_on(kind, record_id)
    if email is None:
        abort(404)
    return _record_page(email)


@bp.get("/supporters/of-contribution/<id:contribution_id>")
@role_required("viewer")
def supporter_of_contribution(contribution_id):
    return _supporter_of("contribution", contribution_id)


@bp.get("/supporters/of-support/<id:support_id>")
@role_required("viewer")
def supporter_of_support(support_id):
    return _supporter_of("support", support_id)


@bp.get("/supporters/of-email/<id:message_id>")
@role_required("viewer")
def supporter_of_email(message_id):
    return _supporter_of("message", message_id)
