"""/_dev/mail: what the local mail server received, for development only.

Registered only when SUPPORTAPP_ENV=development (elsewhere the address is a 404). The HTML
part is served on its own, with a policy of its own that runs no script and lets its links
open as pages of their own, and shown in a sandboxed frame, so the page that frames it keeps
the site's Content-Security-Policy.
"""
from flask import Blueprint, abort, current_app, render_template

from supportapp.services.dev_mailbox import (
    html_opening_links_outside,
    list_mail,
    read_mail,
    text_with_links,
)

bp = Blueprint("dev_mail", __name__, url_prefix="/_dev/mail")

HTML_PART_POLICY = "; ".join([
    "default-src 'none'", "style-src 'unsafe-inline'", "img-src data: https: http:",
    "frame-ancestors 'self'", "sandbox allow-popups allow-popups-to-escape-sandbox"])


def _mail(name):
    mail = read_mail(current_app.config["DEV_MAIL_DIR"], name)
    if mail is None:
        abort(404)
    return mail


@bp.get("")
def inbox():
    mails = list_mail(current_app.config["DEV_MAIL_DIR"])
    return render_template("dev_mail/inbox.html", mails=mails)


@bp.get("/<name>")
def message(name):
    mail = _mail(name)
    return render_template("dev_mail/message.html", mail=mail,
                           text=text_with_links(mail.text))


@bp.get("/<name>/html")
def html_part(name):
    html = _mail(name).html
    if html is None:
        abort(404)
    return html_opening_links_outside(html), 200, {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": HTML_PART_POLICY, "Cache-Control": "no-store"}
