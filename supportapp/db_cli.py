"""`flask db ...` and app.extensions["migrate"], with Flask-Migrate imported on first use.

Flask-Migrate imports Alembic, which imports Mako and Pygments: about 10 MB in every web
worker, which never migrates. So the app gets a stand-in for each: a `db` command group
that hands over to Flask-Migrate's own only when the CLI runs it, and an
app.extensions["migrate"] that sets Flask-Migrate up the first time anything reads it
(`flask db upgrade`, flask_migrate.upgrade() in tests and scripts/run_dev.py, the
migrations' env.py). From then on the app holds Flask-Migrate's own objects.
"""
import click

EXTENSION = "migrate"  # the key Flask-Migrate and migrations/env.py read


def init_app(app, db, directory):
    """Register `flask db` and app.extensions["migrate"] for the migrations in directory."""
    app.extensions[EXTENSION] = _DeferredMigrate(app, db, directory)
    app.cli.add_command(_DeferredDbGroup("db", help="Perform database migrations."))


class _DeferredMigrate:
    """app.extensions["migrate"] until first read: then Flask-Migrate's, which replaces it."""

    def __init__(self, app, db, directory):
        self._app, self._db, self._directory = app, db, directory

    def __getattr__(self, name):
        # Called only for names this object lacks: Flask-Migrate's attributes.
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._set_up(), name)

    def _set_up(self):
        """Flask-Migrate's extension state for the app, set up the first time."""
        if self._app.extensions.get(EXTENSION) is self:
            from flask_migrate import Migrate  # deferred: see the module docstring

            # Sets app.extensions["migrate"] and replaces the `db` group with its own.
            Migrate(self._app, self._db, self._directory, render_as_batch=True)
        return self._app.extensions[EXTENSION]


class _DeferredDbGroup(click.Group):
    """`flask db`: Flask-Migrate's command group, imported when the CLI reaches it.

    The CLI runs (and completes, and prints the help of) what make_context returns, so the
    real group takes over there, its options and callback included.
    """

    def make_context(self, info_name, args, parent=None, **extra):
        from flask_migrate.cli import db  # deferred: see the module docstring

        return db.make_context(info_name, args, parent=parent, **extra)
