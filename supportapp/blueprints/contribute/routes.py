"""/contribute: the form, the hand-off to Checkout, the thank-you page and the portal."""
import re
from datetime import UTC, datetime

from flask import (
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from supportapp.blueprints.contribute import bp
from supportapp.blueprints.contribute.forms import ContributeForm, QuickGiveForm, id_or_none
from supportapp.blueprints.contribute.helpers import (
    captcha_passes,
    checkout_urls,
    contribute_form_from,
    form_context,
    quick_give_nonce,
    remember_checkout,
    remember_supporter,
    remembered_email,
    started_here,
    take_monthly_offer,
    thanks_offer,
)
from supportapp.blueprints.reader_state import reader_on_a_page
from supportapp.blueprints.reminders.forms import remind_form
from supportapp.extensions import csrf, limiter
from supportapp.rate_limits import charge
from supportapp.services import payments
from supportapp.services.appeal_placement import support_page_placement
from supportapp.services.checkout import start_checkout
from supportapp.services.currency import currency_for_languages
from supportapp.services.database import ping_database
from supportapp.services.fulfilment import fulfil_checkout
from supportapp.services.offers import ACCEPTED, SHOWN, record_offer
from supportapp.services.payments import PaymentsRejected, PaymentsUnavailable
from supportapp.services.reader_cookies import READER_ID_COOKIE, valid_reader_id
from supportapp.web.origin import posted_from_allowed_origin

SESSION_ID_RE = re.compile(r"^cs_(?:test|live)_[A-Za-z0-9]{1,250}$")
PORTAL_CUSTOMER = "portal_customer"


def _checkout_limit():
    return current_app.config["CHECKOUT_RATE_LIMIT"]


def _thanks_limit():
    return current_app.config["THANKS_RATE_LIMIT"]


def render_form(form, status=200, cancelled=False, template="contribute/form.html", **extra):
    form.prepare(currency_for_languages(request.accept_languages.values()))
    context = form_context(form, cancelled)
    if context["offer"]:
        _count_offer(SHOWN, form)
    return render_template(template, **context, **extra), status


def _reader_id():
    return valid_reader_id(request.cookies.get(READER_ID_COOKIE))


def _count_offer(kind, form):
    record_offer(kind, form.story.data, id_or_none(form.appeal.data),
                 id_or_none(form.variant.data), _reader_id())


@bp.get("/contribute")
def form():
    form = ContributeForm(formdata=request.args or None)
    cancelled = request.args.get("cancelled") == "1"  # back from Stripe's page, unpaid
    if cancelled and not form.email.data:
        form.email.data = remembered_email()
    return render_form(form, cancelled=cancelled)


@bp.get("/support")
def support():
    """A permanent way to give, linked from every reader page: the live appeal's wording for
    this reader's variant, the whole form, and what the money pays for. Shown even to readers
    whom the appeal leaves alone (Maybe later, the cap, or a gift already made)."""
    reader = reader_on_a_page(request)
    placement = support_page_placement(reader, datetime.now(UTC))
    form = ContributeForm(formdata=request.args or None)
    if placement is not None and not request.args:
        form.appeal.data, form.variant.data = str(placement.appeal_id), str(placement.variant_id)
        form.frequency.data = placement.default_frequency
    # "Remind me later" (the appeal's link leads here): for readers who have not given.
    remind = None if reader.quiet_supporter else remind_form(request.args)
    return render_form(form, template="contribute/support.html", placement=placement,
                       supporter=reader.quiet_supporter,
                       can_manage=bool(session.get(PORTAL_CUSTOMER)), remind=remind)


@bp.post("/contribute")
@csrf.exempt  # the form checks its own token, so a stale one re-shows the form instead of a 400
def submit():
    form = ContributeForm()
    if form.is_bot:
        current_app.logger.info("contribution form: honeypot filled, nothing created")
        return render_form(form, 400)
    if request.form.get("offer") == "accept" and take_monthly_offer(form):
        _count_offer(ACCEPTED, form)
        return render_form(form)  # the same form, now monthly: the reader confirms
    if not form.validate() or not captcha_passes(form):
        return render_form(form, form.error_status())
    order = form.contribution(_reader_id())
    return _to_stripe(form, order, form.nonce.data)


@bp.post("/contribute/start")
@csrf.exempt  # a story page holds no session; where the POST came from is checked instead
def start():
    """The appeal's button: the reader's choice straight to Stripe's page, in one click."""
    form = QuickGiveForm()
    if not posted_from_allowed_origin(current_app.config["EMBED_ORIGINS"]):
        # Not provably from a page of ours: the choice is shown, nothing is created.
        return redirect(url_for("contribute.form", **form.choice()), 303)
    if form.is_bot:
        current_app.logger.info("appeal: honeypot filled, nothing created")
        return render_form(contribute_form_from(form), 400)
    if not form.validate() or not captcha_passes(form):
        if form.button_in_other_currency:  # switched currency without script: choose again
            return redirect(url_for("contribute.form", **form.choice()), 303)
        return render_form(contribute_form_from(form), 400)
    if request.form.get("offer") == "accept":  # the thank-you page's one-click offer
        _count_offer(ACCEPTED, form)
    reader_id = _reader_id()
    nonce = form.nonce_or_none or quick_give_nonce(reader_id)
    return _to_stripe(form, form.order(reader_id), nonce)


def _to_stripe(form, order, nonce):
    ping_database()  # a gift this app could not record must not reach Stripe (503 if down)
    charge(_checkout_limit(), "checkout")  # before Stripe, so a burst cannot pass the limit
    try:
        session_id, url = start_checkout(order, nonce, *checkout_urls(form))
    except PaymentsUnavailable:
        return render_template("contribute/unavailable.html", form=form), 503
    except PaymentsRejected:
        return render_template("contribute/unavailable.html", form=form), 502
    return remember_checkout(redirect(url, 303), session_id, order.email)


@bp.get("/contribute/thanks")
@limiter.limit(_thanks_limit)
def thanks():
    session_id = request.args.get("session_id", "")
    if not SESSION_ID_RE.match(session_id):
        abort(400)
    try:
        outcome = fulfil_checkout(session_id)
    except PaymentsRejected:
        abort(404)
    except PaymentsUnavailable:
        return render_template("contribute/unavailable.html", confirming=True), 503
    mine = started_here(session_id)  # only the browser that paid sees who paid
    offer = thanks_offer(outcome) if mine else None
    if offer:
        record_offer(SHOWN, outcome.story, id_or_none(outcome.appeal),
                     id_or_none(outcome.variant), _reader_id())
    response = make_response(render_template("contribute/thanks.html", outcome=outcome,
                                             mine=mine, offer=offer))
    response.headers["Cache-Control"] = "no-store"
    if outcome.paid and mine:
        remember_supporter(response, outcome)
        if outcome.recurring and outcome.customer_id:
            session[PORTAL_CUSTOMER] = outcome.customer_id
    return response


@bp.post("/contribute/manage")
@limiter.limit(_checkout_limit)
def manage():
    customer_id = session.get(PORTAL_CUSTOMER)
    if not customer_id:  # not the browser that gave: it signs in with an emailed link
        return redirect(url_for("support_manage.request_link"), 303)
    try:
        url = payments.create_portal_session(customer_id,
                                             url_for("articles.home", _external=True))
    except (PaymentsUnavailable, PaymentsRejected):
        return render_template("contribute/unavailable.html", portal=True), 503
    return redirect(url, 303)
