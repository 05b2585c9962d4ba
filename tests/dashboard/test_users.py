"""The admins' users page: list, create, change a role, deactivate."""
from supportapp.extensions import db
from supportapp.models import Staff


def _staff(email):
    db.session.expire_all()
    return db.session.scalar(db.select(Staff).where(Staff.email == email))


def test_admin_lists_and_creates_accounts(staff_client):
    """An admin sees the accounts and creates one; the password is stored only as a hash."""
    client = staff_client("admin")
    assert client.staff.email.encode() in client.get("/dashboard/users").data
    response = client.post("/dashboard/users", data={
        "email": "New.Person@Newsroom.example", "role": "editor",
        "password": "a long enough secret"})
    assert response.status_code == 302
    created = _staff("new.person@newsroom.example")
    assert created.role == "editor" and created.password_hash.startswith("$argon2id$")


def test_create_refuses_duplicate_and_short_password(staff_client):
    """A taken email or a short password is refused with the reason, status 400."""
    client = staff_client("admin")
    taken = client.post("/dashboard/users", data={
        "email": client.staff.email, "role": "viewer", "password": "a long enough secret"})
    assert taken.status_code == 400 and b"already a staff account" in taken.data
    short = client.post("/dashboard/users", data={
        "email": "short@newsroom.example", "role": "viewer", "password": "short"})
    assert short.status_code == 400 and b"at least 10 characters" in short.data
    assert _staff("short@newsroom.example") is None


def test_change_role_and_deactivate(staff_client, make_staff):
    """An admin changes another account's role and deactivates it."""
    client = staff_client("admin")
    other = make_staff("viewer")
    client.post(f"/dashboard/users/{other.id}/role", data={"role": "editor"})
    assert _staff(other.email).role == "editor"
    client.post(f"/dashboard/users/{other.id}/deactivate")
    assert _staff(other.email).active is False


def test_last_admin_cannot_demote_or_deactivate_themselves(staff_client):
    """The only active admin is kept: demoting or deactivating them is refused with a reason."""
    client = staff_client("admin")
    me = client.staff
    page = client.post(f"/dashboard/users/{me.id}/role", data={"role": "viewer"},
                       follow_redirects=True)
    assert b"last active admin" in page.data
    client.post(f"/dashboard/users/{me.id}/deactivate")
    assert _staff(me.email).role == "admin" and _staff(me.email).active


def test_unknown_role_is_refused(staff_client, make_staff):
    """A role that is not viewer, editor or admin is a 400."""
    client = staff_client("admin")
    other = make_staff("viewer")
    assert client.post(f"/dashboard/users/{other.id}/role",
                       data={"role": "owner"}).status_code == 400
