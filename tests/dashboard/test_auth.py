"""Signing in and out of the dashboard."""
import pytest

from tests.conftest import STAFF_PASSWORD, make_app


def _login(client, email, password=STAFF_PASSWORD, next_url=None):
    url = "/dashboard/login" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"email": email, "password": password})


def test_login_and_logout(client, make_staff):
    """The right password signs in (overview answers 200); logging out signs out again."""
    staff = make_staff("viewer")
    response = _login(client, staff.email.upper())
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200
    assert staff.last_login_at is not None
    assert client.post("/dashboard/logout").status_code == 302
    assert client.get("/dashboard/").status_code == 302


@pytest.mark.parametrize("case", ["wrong password", "unknown email", "deactivated"])
def test_failed_login_says_the_same_thing(client, make_staff, case):
    """Wrong password, unknown account and deactivated account get one generic message."""
    from supportapp.services.staff import deactivate_staff

    staff = make_staff("viewer")
    make_staff("admin")  # so the viewer is not the last admin
    if case == "deactivated":
        deactivate_staff(staff)
    email = "nobody@newsroom.example" if case == "unknown email" else staff.email
    password = "not the password" if case == "wrong password" else STAFF_PASSWORD
    response = _login(client, email, password)
    assert response.status_code == 200
    assert b"do not match an active staff account" in response.data
    assert client.get("/dashboard/").status_code == 302


@pytest.mark.parametrize("target, expected", [
    ("/dashboard/appeals", "/dashboard/appeals"),
    ("/dashboard/stories?sort=-clicks", "/dashboard/stories?sort=-clicks"),
    ("https://evil.example/", "/dashboard/"),
    ("//evil.example/", "/dashboard/"),
    ("/\\evil.example/", "/dashboard/"),
    ("javascript:alert(1)", "/dashboard/"),
])
def test_next_only_goes_to_this_site(client, make_staff, target, expected):
    """After signing in, `next` is followed only when it is a path on this site."""
    from urllib.parse import quote

    staff = make_staff("viewer")
    response = _login(client, staff.email, next_url=quote(target, safe=""))
    assert response.headers["Location"] == expected


def test_anonymous_is_sent_to_login_with_next(client):
    """A signed-out visitor to a dashboard page is redirected to the login page."""
    response = client.get("/dashboard/appeals")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/dashboard/login?next=")
    assert "appeals" in response.headers["Location"]


def test_logout_needs_csrf_token(database_url, make_staff):
    """With CSRF on, logging out without the form's token is refused and the session stays."""
    app = make_app(database_url, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        staff_id = make_staff("viewer").id
    with client.session_transaction() as session:
        session["_user_id"] = str(staff_id)
    assert client.post("/dashboard/logout").status_code == 400
    assert client.get("/dashboard/").status_code == 200


def test_login_form_carries_csrf_token(database_url):
    """The login page's form includes a CSRF token when CSRF is on."""
    app = make_app(database_url, WTF_CSRF_ENABLED=True)
    page = app.test_client().get("/dashboard/login")
    assert b'name="csrf_token"' in page.data


def test_login_is_rate_limited(database_url, make_staff):
    """The eleventh login attempt in a minute from one address answers 429."""
    app = make_app(database_url, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="10 per minute",
                   RATELIMIT_STORAGE_URI="memory://")  # a fresh count, even with REDIS_URL set
    client = app.test_client()
    statuses = [client.post("/dashboard/login", data={"email": "x@newsroom.example",
                                                       "password": "wrong password"}).status_code
                for _ in range(11)]
    assert statuses[:10] == [200] * 10 and statuses[10] == 429
    assert client.get("/dashboard/login").status_code == 200  # only attempts count
