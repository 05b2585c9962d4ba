"""Staff accounts, for admins: list, create, change a role, deactivate."""
from flask import abort, flash, redirect, render_template, url_for

from supportapp.blueprints.dashboard import bp
from supportapp.blueprints.dashboard.access import role_required
from supportapp.blueprints.dashboard.forms import StaffCreateForm, StaffRoleForm
from supportapp.extensions import db
from supportapp.models import Staff
from supportapp.services.staff import (
    StaffError,
    create_staff,
    deactivate_staff,
    list_staff,
    set_role,
)


def _users_page(form, status=200):
    return render_template("dashboard/users.html", accounts=list_staff(), form=form,
                           role_form=StaffRoleForm()), status


@bp.get("/users")
@role_required("admin")
def users():
    return _users_page(StaffCreateForm())


@bp.post("/users")
@role_required("admin")
def create_user():
    form = StaffCreateForm()
    if not form.validate_on_submit():
        return _users_page(form, 400)
    try:
        staff = create_staff(form.email.data, form.password.data, form.role.data)
    except StaffError as exc:
        db.session.rollback()
        flash(f"Not created: {exc}.", "error")
        return _users_page(form, 400)
    flash(f"Created {staff.role} account {staff.email}.", "info")
    return redirect(url_for("dashboard.users"))


def _change(staff_id, change, *args):
    staff = db.get_or_404(Staff, staff_id)
    try:
        change(staff, *args)
    except StaffError as exc:
        db.session.rollback()
        flash(f"Not changed: {exc}.", "error")
    else:
        flash(f"{staff.email} is now {staff.role if staff.active else 'deactivated'}.", "info")
    return redirect(url_for("dashboard.users"))


@bp.post("/users/<id:staff_id>/role")
@role_required("admin")
def change_role(staff_id):
    form = StaffRoleForm()
    if not form.validate_on_submit():
        abort(400)
    return _change(staff_id, set_role, form.role.data)


@bp.post("/users/<id:staff_id>/deactivate")
@role_required("admin")
def deactivate_user(staff_id):
    return _change(staff_id, deactivate_staff)
