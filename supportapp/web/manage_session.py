"""The browser's "manage my support" session: a signed cookie of its own, which only the
/support/manage pages receive."""
from flask import current_app, request

from supportapp.services.sign_in_links import current_session, session_max_age

MANAGE_COOKIE = "sa_manage"
COOKIE_PATH = "/support/manage"


def manage_session():
    """The ManageSession this browser holds, or None."""
    return current_session(request.cookies.get(MANAGE_COOKIE))


def manage_cookie_value():
    return request.cookies.get(MANAGE_COOKIE)


def set_manage_cookie(response, value):
    """Keep the session in this browser for its lifetime: HttpOnly, SameSite=Lax, Secure
    outside development."""
    response.set_cookie(MANAGE_COOKIE, value, max_age=session_max_age(), path=COOKIE_PATH,
                        httponly=True, samesite="Lax",
                        secure=current_app.config["SUPPORTAPP_ENV"] != "development")
    return response


def clear_manage_cookie(response):
    response.delete_cookie(MANAGE_COOKIE, path=COOKIE_PATH, httponly=True, samesite="Lax")
    return response
