"""Appeals: the list, editing an appeal and its variants with a live preview, start/pause/end,
and the variant comparison."""
from types import SimpleNamespace

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from supportapp.blueprints.dashboard import bp
from supportapp.blueprints.dashboard.access import role_required
from supportapp.blueprints.dashboard.appeal_form import apply_form, form_data, preview_context
from supportapp.blueprints.dashboard.forms import MAX_VARIANTS, AppealForm
from supportapp.blueprints.dashboard.reporting import current_period
from supportapp.extensions import db
from supportapp.models import Appeal
from supportapp.models.appeal import configured_holdback_percent
from supportapp.routing import database_id
from supportapp.services.appeal_audit import list_changes, staff_actor
from supportapp.services.appeal_change_words import describe_appeal_change, placeholder_parts
from supportapp.services.appeal_copy import placeholder_help
from supportapp.services.appeals import AppealError, save_appeal, set_appeal_status
from supportapp.services.clock import current_time
from supportapp.services.goal import appeal_goal_status
from supportapp.services.report_sheets import variants_sheet
from supportapp.services.report_subjects import report_appeal

# Buttons on the appeal page: the status each one sets, and what the flash says.
STATUS_ACTIONS = {"live": "started", "paused": "paused", "ended": "ended"}
PREVIEW_STORY = SimpleNamespace(slug="preview")
NEW_APPEAL = {"goal_currency": "USD", "variants": [
    {"name": "control", "heading": "Since you're here…", "cta_label": "Support us",
     "default_frequency": "monthly", "weight": 1, "is_control": True}]}


@bp.get("/appeals")
@role_required("viewer")
def appeals():
    rows = db.session.scalars(select(Appeal).order_by(Appeal.id.desc())).all()
    return render_template("dashboard/appeals/list.html", appeals=rows)


@bp.get("/appeals/<id:appeal_id>")
@role_required("viewer")
def appeal_report(appeal_id):
    appeal = report_appeal(appeal_id)
    period = current_period()
    changes = list_changes(appeal_id, _changes_page())
    if changes.page > 1 and not changes.items:
        abort(404, description="There is no such page of changes.")
    return render_template("dashboard/appeals/report.html", appeal=appeal, period=period,
                           goal_status=appeal_goal_status(appeal), changes=changes,
                           described=[describe_appeal_change(c, appeal.goal_currency)
                                      for c in changes.items],
                           placeholder_parts=placeholder_parts,
                           **vars(variants_sheet(appeal_id, period, current_time().date())))


def _changes_page():
    """The page of the change log asked for (?changes_page=2); 400 for anything but 1, 2…"""
    text = request.args.get("changes_page", "1")
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 1_000_000:
        abort(400, description="The page of changes must be a whole number from 1.")
    return int(text)


def _save(form, appeal):
    """Save a validated form; a redirect when saved, None (and a flash saying why) when not."""
    try:
        warnings = save_appeal(apply_form(form, appeal), staff_actor(current_user))
    except AppealError as exc:
        db.session.rollback()  # nothing of the refused form is kept
        flash(f"Not saved: {exc}.", "error")
        return None
    for warning in warnings:
        flash(warning, "warning")
    flash("Appeal saved.", "info")
    return redirect(url_for("dashboard.edit_appeal", appeal_id=appeal.id))


def _edit_page(form, appeal):
    """Add a variant, refresh the preview, or save; the form page again unless saved."""
    if request.form.get("add_variant"):
        if len(form.variants) < MAX_VARIANTS:
            form.variants.append_entry()
        else:
            flash(f"An appeal can have at most {MAX_VARIANTS} variants.", "error")
    elif not request.form.get("refresh_preview") and form.validate_on_submit():
        saved = _save(form, appeal)
        if saved is not None:
            return saved
    return render_template(
        "dashboard/appeals/edit.html", form=form, appeal=appeal, story=PREVIEW_STORY,
        placeholders=placeholder_help(current_app.config["APPEAL_VIEW_WINDOW_DAYS"]),
        **preview_context(form, appeal.id))


@bp.route("/appeals/new", methods=["GET", "POST"])
@role_required("editor")
def new_appeal():
    new = {**NEW_APPEAL, "holdback_percent": configured_holdback_percent()}
    form = AppealForm(data=None if request.method == "POST" else new)
    return _edit_page(form, Appeal(status="draft"))


@bp.route("/appeals/<id:appeal_id>/edit", methods=["GET", "POST"])
@role_required("editor")
def edit_appeal(appeal_id):
    appeal = db.get_or_404(Appeal, appeal_id)
    form = AppealForm(data=None if request.method == "POST" else form_data(appeal))
    return _edit_page(form, appeal)


@bp.post("/appeals/preview")
@role_required("editor")
def preview_appeal():
    """The appeal partial for the chosen variant of the form as typed (nothing is saved)."""
    form = AppealForm()
    context = preview_context(form, request.args.get("appeal", type=database_id))
    return render_template("dashboard/appeals/_preview.html", story=PREVIEW_STORY, **context)


@bp.post("/appeals/<id:appeal_id>/status")
@role_required("editor")
def appeal_status(appeal_id):
    status = request.form.get("status", "")
    if status not in STATUS_ACTIONS:
        abort(400)
    try:
        appeal = set_appeal_status(appeal_id, status, staff_actor(current_user))
    except AppealError as exc:
        db.session.rollback()
        flash(f"Not changed: {exc}.", "error")
        return redirect(url_for("dashboard.edit_appeal", appeal_id=appeal_id))
    if appeal is None:
        abort(404)
    flash(f"Appeal {STATUS_ACTIONS[status]}.", "info")
    return redirect(url_for("dashboard.appeals"))
