"""Who may open which dashboard page: roles, 403s and the login redirect."""
import re

import pytest

from supportapp.blueprints.dashboard.access import role_required

OPEN = {"dashboard.login", "dashboard.logout"}


def test_every_dashboard_view_has_a_role_rule(app):
    """Each dashboard view except login and logout is wrapped by role_required."""
    views = {name: view for name, view in app.view_functions.items()
             if name.startswith("dashboard.")}
    assert len(views) > 10
    missing = [name for name, view in views.items()
               if name not in OPEN and not hasattr(view, "required_role")]
    assert missing == []


def test_every_dashboard_get_redirects_anonymous(app, client):
    """Signed out, every GET page under /dashboard goes to the login page."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("dashboard.") and rule.endpoint not in OPEN \
                and "GET" in rule.methods:
            url = re.sub(r"<[^>]+>", "1", rule.rule)
            response = client.get(url)
            assert response.status_code == 302, url
            assert response.headers["Location"].startswith("/dashboard/login"), url


@pytest.mark.parametrize("role, method, url, status", [
    ("viewer", "get", "/dashboard/appeals/new", 403),
    ("viewer", "post", "/dashboard/appeals/preview", 403),
    ("viewer", "get", "/dashboard/users", 403),
    ("editor", "get", "/dashboard/users", 403),
    ("editor", "post", "/dashboard/users", 403),
    ("viewer", "get", "/dashboard/appeals", 200),
    ("viewer", "get", "/dashboard/stories", 200),
    ("editor", "get", "/dashboard/appeals/new", 200),
    ("admin", "get", "/dashboard/users", 200),
    ("viewer", "get", "/dashboard/supporters", 200),
    ("viewer", "post", "/dashboard/supporters", 400),  # no email: the form says why
    ("viewer", "get", "/dashboard/emails", 403),
    ("editor", "get", "/dashboard/emails", 403),
    ("viewer", "post", "/dashboard/emails/1/resend", 403),
    ("editor", "post", "/dashboard/emails/1/resend", 403),
    ("admin", "get", "/dashboard/emails", 200),
])
def test_roles(staff_client, role, method, url, status):
    """Viewers read and look up supporters, editors also edit appeals, admins also manage
    users and the outbox."""
    client = staff_client(role)
    assert getattr(client, method)(url).status_code == status


def test_viewer_cannot_edit_an_appeal(staff_client, saved_appeal):
    """A viewer gets the site's 403 page on an appeal's edit page and its status buttons."""
    client = staff_client("viewer")
    page = client.get(f"/dashboard/appeals/{saved_appeal.id}/edit")
    assert page.status_code == 403
    assert b"You do not have access to this page." in page.data and b"masthead" in page.data
    assert client.post(f"/dashboard/appeals/{saved_appeal.id}/status",
                       data={"status": "ended"}).status_code == 403


def test_deactivated_account_is_signed_out(staff_client, make_staff):
    """An account deactivated mid-session is treated as signed out on its next request."""
    from supportapp.services.staff import deactivate_staff

    client = staff_client("editor")
    make_staff("admin")
    deactivate_staff(client.staff)
    assert client.get("/dashboard/").status_code == 302


def test_role_required_refuses_unknown_role():
    """A typo in a role name fails when the view is defined, not when it is visited."""
    with pytest.raises(ValueError):
        role_required("editer")
