"""`flask users create|list|set-role|deactivate` and `flask users token create`."""
import hashlib

import pytest

from supportapp.extensions import db
from supportapp.models import Staff, StaffToken


def _staff(email):
    db.session.expire_all()
    return db.session.scalar(db.select(Staff).where(Staff.email == email))


def test_create_with_password_option(runner):
    """`users create --role editor --password ...` creates an active editor."""
    result = runner.invoke(args=["users", "create", "Ed@Newsroom.example", "--role", "editor",
                                 "--password", "a long enough secret"])
    assert result.exit_code == 0, result.output
    staff = _staff("ed@newsroom.example")
    assert staff.role == "editor" and staff.active and "a long" not in staff.password_hash


def test_create_prompts_for_a_hidden_confirmed_password(runner):
    """Without --password the password is asked twice; a mismatch asks again."""
    result = runner.invoke(args=["users", "create", "vi@newsroom.example"],
                           input="a long enough secret\ndifferent secret!\n"
                                 "a long enough secret\na long enough secret\n")
    assert result.exit_code == 0, result.output
    assert "a long enough secret" not in result.output  # hidden input is not echoed
    assert _staff("vi@newsroom.example").role == "viewer"


@pytest.mark.parametrize("args, message", [
    (["x@newsroom.example", "--role", "boss", "--password", "a long enough secret"],
     "'boss' is not one of"),
    (["x@newsroom.example", "--password", "short"], "at least 10 characters"),
    (["not-an-email", "--password", "a long enough secret"], "is not an email address"),
])
def test_create_refusals_are_clear(runner, args, message):
    """A bad role, a short password or a bad email is a clear error and a non-zero exit."""
    result = runner.invoke(args=["users", "create", *args])
    assert result.exit_code != 0 and message in result.output
    assert db.session.scalar(db.select(db.func.count(Staff.id))) == 0


def test_duplicate_email_is_refused(runner, make_staff):
    """Creating an account for an email that has one (any case) fails clearly."""
    staff = make_staff("viewer")
    result = runner.invoke(args=["users", "create", staff.email.upper(),
                                 "--password", "a long enough secret"])
    assert result.exit_code == 1 and "already a staff account" in result.output


def test_list_set_role_and_deactivate(runner, make_staff):
    """list shows accounts; set-role and deactivate change them; unknown emails fail."""
    make_staff("admin")
    staff = make_staff("viewer")
    assert runner.invoke(args=["users", "set-role", staff.email, "editor"]).exit_code == 0
    assert runner.invoke(args=["users", "deactivate", staff.email]).exit_code == 0
    listing = runner.invoke(args=["users", "list"]).output
    line = next(line for line in listing.splitlines() if line.startswith(staff.email))
    assert "editor" in line and "deactivated" in line and "never" in line
    missing = runner.invoke(args=["users", "deactivate", "ghost@newsroom.example"])
    assert missing.exit_code == 1 and "no staff account" in missing.output


def test_token_create_prints_it_once_and_stores_only_a_hash(runner, make_staff):
    """The token is printed; the database holds its SHA-256 and the name, not the token."""
    staff = make_staff("viewer")
    result = runner.invoke(args=["users", "token", "create", staff.email, "--name", "weekly"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("sat_") and len(token) > 40
    (row,) = db.session.scalars(db.select(StaffToken)).all()
    assert row.name == "weekly" and row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in row.token_hash
