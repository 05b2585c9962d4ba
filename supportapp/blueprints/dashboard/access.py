"""Who may see which dashboard page: the one place where roles are checked."""
from functools import wraps

from flask import abort
from flask_login import current_user

from supportapp.extensions import login_manager
from supportapp.models.staff import ROLES


def role_required(role):
    """Signed out: off to the login page. Signed in below `role`: 403."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(role):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_role = role  # lets a test check that every page has a rule
        return wrapped

    return decorator
