"""The supportapp application factory."""
import logging
from pathlib import Path

from flask import Flask

from supportapp.config import check_config, load_config


def create_app(config=None):
    """Build the app: settings, extensions, blueprints, CLI and error handlers."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    app.config.update(load_config(app.instance_path))
    if config:
        app.config.update(config)
    check_config(app.config)
    logging.basicConfig(level=app.config["LOG_LEVEL"])
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # fpdf2's font subsetting (statement PDFs) logs every table it touches at INFO.
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    register_request_guard(app)
    register_extensions(app)
    register_caches(app)
    register_url_converters(app)
    register_blueprints(app)
    register_commands(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_security_headers(app)
    register_http_caching(app)
    return app


def register_request_guard(app):
    from supportapp.request_guard import register

    register(app)  # first, so it runs before the extensions' hooks


def register_extensions(app):
    from supportapp import (
        db_cli,
        models,  # noqa: F401  (the models must be known to Migrate)
    )
    from supportapp.config import engine_options
    from supportapp.extensions import csrf, db, limiter, login_manager, mail

    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config)
    db.init_app(app)
    # Flask-Migrate (with Alembic) loads when `flask db` or upgrade() first needs it.
    db_cli.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    mail.init_app(app)


def register_caches(app):
    # Caches and per-process state belong to the app, so each app (and test) has its own.
    from supportapp import api_description, caches
    from supportapp.services import (
        background_rollup,
        clock,
        content_stamp,  # noqa: F401 (its session hooks stamp every story and appeal change)
        event_journal,
        known_targets,
    )

    caches.init_app(app)
    api_description.init_app(app)
    clock.init_app(app)
    known_targets.init_app(app)
    event_journal.init_app(app)
    background_rollup.init_app(app)


def register_url_converters(app):
    from supportapp.routing import register

    register(app)  # before the blueprints, whose routes use the converters


def register_blueprints(app):
    from supportapp.blueprints import (
        api,
        articles,
        contribute,
        dashboard,
        health,
        reminders,
        reports_api,
        support_manage,
        tracking,
        webhooks,
    )

    app.register_blueprint(articles.bp)
    app.register_blueprint(contribute.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(tracking.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(reports_api.bp)
    app.register_blueprint(support_manage.bp)
    app.register_blueprint(reminders.bp)
    if app.config["SUPPORTAPP_ENV"] == "development":
        from supportapp.blueprints import dev_mail

        app.register_blueprint(dev_mail.bp)  # the local mail server's messages; 404 elsewhere


def register_commands(app):
    from supportapp.cli import register_cli

    register_cli(app)


def register_errorhandlers(app):
    from supportapp.blueprints.errors import register

    register(app)


def register_template_helpers(app):
    from supportapp.templating import register

    register(app)


def register_security_headers(app):
    from supportapp.security import add_security_headers, trust_proxies

    trust_proxies(app)
    app.after_request(add_security_headers)



def register_http_caching(app):
    from supportapp.web import http_cache, static_files

    http_cache.init_app(app)
    static_files.init_app(app)  # outermost: static files never reach Flask
