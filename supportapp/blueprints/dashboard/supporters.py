"""One supporter, found by email: their gifts, recurring supports, changes and emails.

An email address is personal data, so it never travels in a URL (where it would stay in
the browser's history, proxy and server logs, and the Referer of the next page): the search
is a POST answered with the page itself, and links from other pages name a contribution, a
recurring support or an email by id, whose address is looked up here.
"""
from flask import Response, abort, current_app, render_template
from flask_login import current_user

from supportapp.blueprints.dashboard import bp
from supportapp.blueprints.dashboard.access import role_required
from supportapp.blueprints.dashboard.forms import StatementDownloadForm, SupporterSearchForm
from supportapp.services.outbox_admin import can_resend
from supportapp.services.statements import PDF_TYPE, statement_choices, statement_pdf
from supportapp.services.supporter_record import email_on, supporter_record


def _page(form, record=None, status=200, statement_problem=None):
    choices = statement_choices(record.email) if record else []
    return render_template(
        "dashboard/supporters.html", form=form, record=record, can_resend=can_resend,
        statement_choices=choices, statement_problem=statement_problem,
        statement_form=StatementDownloadForm(formdata=None, supporter=record.email)
        if record else None), status


def _record_page(email, form=None, status=200, statement_problem=None):
    form = form or SupporterSearchForm(formdata=None, email=email)
    # Who looked, never whom: the address stays out of the logs.
    current_app.logger.info("staff %s opened a supporter record", current_user.id)
    return _page(form, supporter_record(email), status, statement_problem)


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


@bp.post("/supporters/statement")
@role_required("viewer")
def supporter_statement():
    form = StatementDownloadForm()
    if not form.validate_on_submit():
        if not form.supporter.data or form.supporter.errors:
            abort(400)
        return _record_page(form.supporter.data, status=400,
                            statement_problem="Choose the year of the statement.")
    pdf = statement_pdf(form.supporter.data, form.year.data)
    if pdf is None:
        return _record_page(form.supporter.data, status=404, statement_problem=(
            f"No gift was paid from this address in {form.year.data}: no statement."))
    current_app.logger.info("staff %s downloaded a supporter's statement", current_user.id)
    filename, content = pdf
    return Response(content, mimetype=PDF_TYPE, headers={
        "Content-Disposition": f"attachment; filename={filename}"})
