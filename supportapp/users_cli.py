"""`flask users create|list|set-role|deactivate` and `flask users token create`."""
import click

from supportapp.extensions import db
from supportapp.models.staff import ROLES
from supportapp.services.staff import (
    StaffError,
    create_staff,
    create_token,
    deactivate_staff,
    get_staff,
    list_staff,
    set_role,
)

users_cli = click.Group("users", help="Manage staff accounts for the dashboard.")
ROLE_CHOICE = click.Choice(ROLES)


def _run(change, *args):
    """Call a staff service; a refusal becomes a clear CLI error and nothing is saved."""
    try:
        return change(*args)
    except StaffError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=ROLE_CHOICE, default="viewer", show_default=True)
@click.option("--password", help="Asked for (hidden, twice) when not given.")
def create_user(email, role, password):
    """Create a staff account."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    staff = _run(create_staff, email, password, role)
    click.echo(f"Created {staff.role} {staff.email}.")


@users_cli.command("list")
def list_users():
    """One line per account: email, role, active, last login."""
    accounts = list_staff()
    if not accounts:
        click.echo("No staff accounts yet. Create one with `flask --app app users create`.")
    for staff in accounts:
        state = "active" if staff.active else "deactivated"
        last = staff.last_login_at.strftime("%Y-%m-%d %H:%M UTC") if staff.last_login_at \
            else "never"
        click.echo(f"{staff.email:<40} {staff.role:<7} {state:<12} last login: {last}")


@users_cli.command("set-role")
@click.argument("email")
@click.argument("role", type=ROLE_CHOICE)
def set_user_role(email, role):
    """Change an account's role."""
    staff = _run(get_staff, email)
    _run(set_role, staff, role)
    click.echo(f"{staff.email} is now {staff.role}.")


@users_cli.command("deactivate")
@click.argument("email")
def deactivate_user(email):
    """Deactivate an account: it can no longer sign in or use its tokens."""
    staff = _run(get_staff, email)
    _run(deactivate_staff, staff)
    click.echo(f"{staff.email} is deactivated.")


token_cli = click.Group("token", help="API tokens for /api/reports.")
users_cli.add_command(token_cli)


@token_cli.command("create")
@click.argument("email")
@click.option("--name", required=True, help="What the token is for, e.g. 'weekly report'.")
def create_user_token(email, name):
    """Create an API token; it is printed once and cannot be shown again."""
    staff = _run(get_staff, email)
    token = _run(create_token, staff, name)
    click.echo(f"Token {name!r} for {staff.email} (copy it now; it is not stored):")
    click.echo(token)
