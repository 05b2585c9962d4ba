"""/support/remind: keep a reminder, and say so; /reminders/unsubscribe/<token>: stop them.

The form posts from /support (or its own page), which hold a session, so Flask-WTF's token
protects it. The unsubscribe URL is the one mail programs POST to for a one-click
unsubscribe (RFC 8058), with no session and no token but its own signed one.
"""
from flask import current_app, make_response, redirect, render_template, request, url_for

from supportapp.blueprints.reader_state import remember_dismissal, wants_no_tracking
from supportapp.blueprints.reminders import bp
from supportapp.blueprints.reminders.forms import RemindForm, remind_form
from supportapp.extensions import csrf
from supportapp.rate_limits import charge
from supportapp.services.reader_cookies import READER_ID_COOKIE, valid_reader_id
from supportapp.services.reminders import (
    AlreadyAsked,
    ReminderRefused,
    UnsubscribeRefused,
    check_unsubscribe,
    month_label,
    month_value,
    parse_month,
    sign_up,
)
from supportapp.services.reminders import unsubscribe as stop_reminders
from supportapp.services.stories import MAX_SLUG_LENGTH, SLUG_RE


@bp.after_request
def _private(response):
    # An address typed in, or a token that stops someone's reminders: never kept by a shared
    # cache, and no address of ours in a Referer.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _slug_or_none(text):
    return text if isinstance(text, str) and len(text) <= MAX_SLUG_LENGTH \
        and SLUG_RE.match(text) else None


def _page(form, status=200):
    return render_template("reminders/remind.html", form=form), status


def _reader_id():
    if wants_no_tracking(request):
        return None
    return valid_reader_id(request.cookies.get(READER_ID_COOKIE))


@bp.get("/support/remind")
def remind_page():
    """The month chooser on a page of its own (the same form /support shows)."""
    return _page(remind_form(request.args))


@bp.post("/support/remind")
@csrf.exempt  # the form checks its own token, so a stale one re-shows the form, not a 400
def remind():
    """Keep the reminder, hide the appeal as "Maybe later" does, and say when it comes."""
    form = RemindForm()
    if form.is_bot:
        current_app.logger.info("reminder form: honeypot filled, nothing kept")
        return _page(form, 400)
    if not form.validate():
        return _page(form, 400)
    charge(current_app.config["REMINDER_RATE_LIMIT"], "reminder")
    try:
        signed = sign_up(form.email.data, form.month.data, form.story.data, form.appeal.data,
                         form.variant.data, _reader_id())
    except AlreadyAsked as exc:
        form.month.errors = [exc.message]
        # The reader still asked not to be asked now: the appeal goes, as it would have.
        return remember_dismissal(make_response(_page(form, 409)))
    except ReminderRefused as exc:
        getattr(form, exc.field).errors = [exc.message]
        return _page(form, 400)
    done = url_for(".reminder_set", month=month_value(signed.month),
                   story=_slug_or_none(form.story.data))
    return remember_dismissal(redirect(done, 303))


@bp.get("/support/remind/set")
def reminder_set():
    """"We will remind you in January 2027": nothing personal in the address."""
    month = parse_month(request.args.get("month"))
    return render_template("reminders/set.html",
                           month=month_label(month) if month else None,
                           story=_slug_or_none(request.args.get("story")))


@bp.get("/reminders/unsubscribe/<token>")
def unsubscribe(token):
    """The unsubscribe link opened in a browser: a button to confirm (link checkers and
    mail scanners open links too; only a POST unsubscribes)."""
    try:
        subscribed = check_unsubscribe(token)
    except UnsubscribeRefused:
        return render_template("reminders/unsubscribe.html", state="invalid"), 400
    return render_template("reminders/unsubscribe.html",
                           state="ask" if subscribed else "already", token=token)


@bp.post("/reminders/unsubscribe/<token>")
@csrf.exempt  # mail programs POST here with no session (RFC 8058); the token is the proof
def unsubscribe_now(token):
    """The one-click unsubscribe (a mail program POSTs `List-Unsubscribe=One-Click`), or
    the page's button: the same POST, the same answer."""
    try:
        done = stop_reminders(token)
    except UnsubscribeRefused:
        return render_template("reminders/unsubscribe.html", state="invalid"), 400
    return render_template("reminders/unsubscribe.html", state="done" if done else "already")
