"""Signing in and out of the dashboard."""
from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from supportapp.blueprints.dashboard import bp
from supportapp.blueprints.dashboard.forms import LoginForm
from supportapp.extensions import limiter
from supportapp.security import safe_local_path
from supportapp.services.staff import authenticate

# One message whatever was wrong, so the page never tells whether an account exists.
LOGIN_FAILED = "That email and password do not match an active staff account."


def _next_page():
    return safe_local_path(request.args.get("next"), url_for("dashboard.overview"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_next_page())
    form = LoginForm()
    if form.validate_on_submit():
        staff = authenticate(form.email.data, form.password.data)
        if staff is not None:
            session.clear()  # nothing from before signing in carries over
            login_user(staff)
            current_app.logger.info("staff %s signed in", staff.id)
            return redirect(_next_page())
        flash(LOGIN_FAILED, "error")
    return render_template("dashboard/login.html", form=form)


@bp.post("/logout")
def logout():
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("dashboard.login"))
