"""/support/manage: ask for a sign-in link, open it, and the supporter's page of gifts."""
from functools import wraps

from flask import (
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)

from supportapp.blueprints.support_manage import bp
from supportapp.blueprints.support_manage.forms import (
    CancelForm,
    ChangeGiftForm,
    ConfirmForm,
    PauseForm,
    RequestLinkForm,
)
from supportapp.extensions import limiter
from supportapp.rate_limits import charge
from supportapp.services import sign_in_links
from supportapp.services.card_update import finish_card_update, start_card_update
from supportapp.services.erasure import erase_supporter
from supportapp.services.outbox import OutboxError
from supportapp.services.payments import PaymentsRejected, PaymentsUnavailable
from supportapp.services.recovery import (
    CardDeclined,
    LinkRefused,
    finish_link_card_update,
    pay_after_card_update,
    send_new_link,
    start_link_card_update,
)
from supportapp.services.statements import PDF_TYPE, statement_choices, statement_pdf
from supportapp.services.support_changes import (
    CANCEL_REASONS,
    PAUSE_MONTHS,
    RECURRING_FREQUENCIES,
    ChangeRefused,
    NotTheirs,
    cancel_gift,
    change_gift,
    describe,
    lower_amount,
    pause_gift,
    resume_gift,
    their_support,
)
from supportapp.services.supporter_email import email_digest
from supportapp.services.supporter_gifts import gifts_of, history_csv, note_history_download
from supportapp.web.manage_session import (
    clear_manage_cookie,
    manage_cookie_value,
    manage_session,
    set_manage_cookie,
)

LINK_PROBLEM_STATUS = {"expired": 410, "used": 410, "invalid": 400}
# A card-update link from a failed-payment email that cannot be used (recovery_links).
CARD_LINK_STATUS = {"invalid": 400, "other_gift": 400, "expired": 410, "used": 410,
                    "ended": 410, "paid": 200}


def _manage_limit():
    return current_app.config["MANAGE_RATE_LIMIT"]


@bp.context_processor
def _choices():
    return {"recurring_frequencies": RECURRING_FREQUENCIES, "pause_months": PAUSE_MONTHS,
            "cancel_reasons": CANCEL_REASONS, **sign_in_links.lifetimes()}


@bp.after_request
def _private(response):
    # Personal pages: never kept by a shared cache, and no address of ours in a Referer.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def signed_in(view):
    """The view gets the browser's ManageSession; without one, back to the sign-in form."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        session = manage_session()
        if session is None:
            if manage_cookie_value():
                flash("Your sign-in has ended. Ask for a new link below.", "info")
            return clear_manage_cookie(redirect(url_for(".request_link"), 303))
        return view(session, *args, **kwargs)
    return wrapper


@bp.route("", methods=["GET", "POST"])
def request_link():
    if request.method == "GET" and manage_session() is not None:
        return redirect(url_for(".home"), 303)
    form = RequestLinkForm()
    if not form.validate_on_submit():
        return _request_page(form, 400 if request.method == "POST" else 200)
    config = current_app.config
    charge(config["MANAGE_LINK_RATE_LIMIT"], "manage-link")
    charge(config["MANAGE_LINK_EMAIL_RATE_LIMIT"], "manage-link-email",
           email_digest(form.email.data))
    try:
        sign_in_links.request_link(form.email.data)
    except OutboxError:
        form.email.errors.append("Enter one email address, like name@example.com.")
        return _request_page(form, 400)
    return render_template("support_manage/sent.html", email=form.email.data)


def _request_page(form, status):
    return render_template("support_manage/request.html", form=form), status


@bp.get("/link/<token>")
@limiter.limit(_manage_limit)
def open_link(token):
    try:
        cookie = sign_in_links.open_link(token)
    except sign_in_links.LinkRefused as refused:
        return (render_template("support_manage/link_problem.html", reason=refused.reason),
                LINK_PROBLEM_STATUS[refused.reason])
    # To a URL without the token, so that it stays out of history, logs and Referers.
    return set_manage_cookie(redirect(url_for(".home"), 303), cookie)


@bp.get("/gifts")
@signed_in
def home(session):
    return _manage_page(session)


def _manage_page(session, problems=None, status=200, statement_problem=None):
    return render_template("support_manage/manage.html", email=session.email,
                           gifts=gifts_of(session.email), problems=problems or {},
                           statement_choices=statement_choices(session.email),
                           statement_problem=statement_problem,
                           change_form=ChangeGiftForm(formdata=None),
                           pause_form=PauseForm(formdata=None),
                           confirm_form=ConfirmForm(formdata=None)), status


def _change(session, support_id, action):
    """Run one change: 404 when the gift is not theirs, the page with the reason when it is
    refused, a calm page when Stripe does not answer; else back to the page, confirmed."""
    charge(_manage_limit(), "manage")
    try:
        changes = action()
    except NotTheirs:
        abort(404)
    except ChangeRefused as refused:
        return _manage_page(session, {support_id: str(refused)}, 400)
    except (PaymentsUnavailable, PaymentsRejected) as exc:
        status = 503 if isinstance(exc, PaymentsUnavailable) else 502
        return render_template("support_manage/unavailable.html"), status
    for kind, details in changes:
        flash(describe(kind, details), "success")
    if not changes:
        flash("Nothing changed: that is already your gift.", "info")
    return redirect(url_for(".home", _anchor=f"gift-{support_id}"), 303)


@bp.post("/gifts/<id:support_id>/change")
@signed_in
def change(session, support_id):
    form = ChangeGiftForm()
    return _change(session, support_id, lambda: change_gift(
        session.email, support_id, form.amount.data, form.frequency.data))


@bp.post("/gifts/<id:support_id>/pause")
@signed_in
def pause(session, support_id):
    form = PauseForm()
    return _change(session, support_id,
                   lambda: pause_gift(session.email, support_id, form.months.data))


@bp.post("/gifts/<id:support_id>/resume")
@signed_in
def resume(session, support_id):
    return _change(session, support_id, lambda: resume_gift(session.email, support_id))


@bp.route("/gifts/<id:support_id>/cancel", methods=["GET", "POST"])
@signed_in
def cancel(session, support_id):
    form = CancelForm()
    if request.method == "POST":
        return _change(session, support_id,
                       lambda: cancel_gift(session.email, support_id, form.reason.data))
    try:
        support = their_support(session.email, support_id)
    except NotTheirs:
        abort(404)
    except ChangeRefused:
        return redirect(url_for(".home"), 303)
    return render_template("support_manage/cancel.html", support=support, form=form,
                           lower=lower_amount(support.amount_minor),
                           change_form=ChangeGiftForm(formdata=None),
                           pause_form=PauseForm(formdata=None))


@bp.post("/gifts/<id:support_id>/card")
@signed_in
def card(session, support_id):
    charge(_manage_limit(), "manage")
    try:
        url = start_card_update(
            session.email, support_id, url_for(".home", _external=True),
            lambda ref: url_for(".card_updated", ref=ref, _external=True))
    except NotTheirs:
        abort(404)
    except ChangeRefused as refused:
        return _manage_page(session, {support_id: str(refused)}, 400)
    except (PaymentsUnavailable, PaymentsRejected):
        return render_template("support_manage/unavailable.html"), 503
    return redirect(url, 303)


@bp.get("/card-updated")
@signed_in
def card_updated(session):
    support_id = finish_card_update(session.email, request.args.get("ref", ""))
    if support_id:
        flash("Your card has been replaced. Thank you.", "success")
        _pay_what_is_owed(support_id)
    return redirect(url_for(".home"), 303)


def _pay_what_is_owed(support_id):
    try:
        recovery = pay_after_card_update(support_id)
    except CardDeclined as declined:
        flash(f"The unpaid payment could not be taken with the new card either: "
              f"{declined.message}", "error")
    except (PaymentsUnavailable, PaymentsRejected):
        flash("The unpaid payment could not be taken just now; we will try the new card "
              "again soon.", "info")
    else:
        if recovery is not None:
            flash(f"The unpaid {recovery.amount} has been paid with it.", "success")


@bp.get("/card/<id:support_id>/<token>")
@limiter.limit(_manage_limit)
def card_link(support_id, token):
    """The link in a failed-payment email: straight to Stripe's page for a new card."""
    try:
        url = start_link_card_update(
            support_id, token, url_for(".request_link", _external=True),
            url_for(".card_link_done", support_id=support_id, token=token, _external=True))
    except LinkRefused as refused:
        return _card_link_problem(support_id, token, refused.reason)
    except (PaymentsUnavailable, PaymentsRejected):
        return render_template("support_manage/unavailable.html"), 503
    return redirect(url, 303)


@bp.get("/card/<id:support_id>/<token>/done")
@limiter.limit(_manage_limit)
def card_link_done(support_id, token):
    """Back from Stripe's page: the open payment is taken with the new card."""
    try:
        recovery = finish_link_card_update(support_id, token)
    except LinkRefused as refused:
        return _card_link_problem(support_id, token, refused.reason)
    except CardDeclined as declined:
        return render_template("support_manage/card_declined.html", message=declined.message,
                               retry=url_for(".card_link", support_id=support_id,
                                             token=token)), 402
    except (PaymentsUnavailable, PaymentsRejected):
        return render_template("support_manage/unavailable.html"), 503
    return render_template("support_manage/card_paid.html", recovery=recovery)


@bp.post("/card/<id:support_id>/<token>/new-link")
def card_link_again(support_id, token):
    """From an expired link's page: email a new one to the address the gift was made with."""
    charge(_manage_limit(), "manage")
    sent = send_new_link(support_id, token)
    return render_template("support_manage/card_link_sent.html", sent=sent), (
        200 if sent else 400)


def _card_link_problem(support_id, token, reason):
    return render_template(
        "support_manage/card_link_problem.html", reason=reason,
        confirm_form=ConfirmForm(formdata=None),
        again=url_for(".card_link_again", support_id=support_id, token=token)
    ), CARD_LINK_STATUS[reason]


@bp.post("/history.csv")
@signed_in
def history(session):
    note_history_download(session.email)
    return Response("".join(history_csv(session.email)), mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=support-history.csv"})


@bp.get("/statement")
@signed_in
def statement(session):
    year = request.args.get("year", type=int)
    if year is None:
        return _manage_page(session, status=400,
                            statement_problem="Choose the year of the statement.")
    charge(_manage_limit(), "manage")
    pdf = statement_pdf(session.email, year)
    if pdf is None:
        return _manage_page(session, status=404,
                            statement_problem=f"You gave no gift in {year}: there is no "
                                              "statement for that year.")
    filename, content = pdf
    return Response(content, mimetype=PDF_TYPE, headers={
        "Content-Disposition": f"attachment; filename={filename}"})


@bp.route("/erase", methods=["GET", "POST"])
@signed_in
def erase(session):
    if request.method == "GET":
        return render_template("support_manage/erase.html", email=session.email,
                               gifts=gifts_of(session.email),
                               confirm_form=ConfirmForm(formdata=None))
    charge(_manage_limit(), "manage")
    try:
        erase_supporter(session.email)
    except (PaymentsUnavailable, PaymentsRejected):
        return render_template("support_manage/unavailable.html", erasing=True), 503
    return clear_manage_cookie(make_response(render_template("support_manage/erased.html")))


@bp.post("/sign-out")
def sign_out():
    sign_in_links.end_session(manage_cookie_value())
    flash("You are signed out of your support page.", "info")
    return clear_manage_cookie(redirect(url_for(".request_link"), 303))
