"""Flask CLI commands: `flask --app app seed`, `flask --app app stories import ...`."""
import sys

import click
from flask import Flask

from supportapp.appeals_cli import appeals_cli
from supportapp.services.seed import load_seed_content, seed_appeal, seed_stories
from supportapp.services.story_import import import_story_file
from supportapp.statements_cli import statements_cli
from supportapp.stripe_cli import stripe_cli
from supportapp.tracking_cli import tracking_cli
from supportapp.users_cli import users_cli
from supportapp.worker_cli import worker_command


@click.command("seed")
def seed_command():
    """Load the demo stories (and appeal); running it again changes nothing."""
    content = load_seed_content()
    created, updated = seed_stories(content)
    click.echo(f"Stories: {created} created, {updated} already there.")
    appeal = seed_appeal(content)
    click.echo(f"Appeal: {'created and live' if appeal else 'already there'}.")


stories_cli = click.Group("stories", help="Manage stories.")


@stories_cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
def import_stories_command(paths):
    """Import stories from JSON, Markdown, HTML and RSS/Atom files."""
    results = []
    with click.progressbar(paths, label="Importing stories", file=sys.stderr,
                           item_show_func=lambda p: p or "") as bar:
        for path in bar:
            results.append(import_story_file(path))
    failed = [r for r in results if r.error]
    for result in results:
        if result.error:
            click.secho(f"error: {result.error}", fg="red", err=True)
        else:
            click.echo(f"{result.path}: {result.created} created, {result.updated} updated")
    created = sum(r.created for r in results)
    updated = sum(r.updated for r in results)
    click.echo(f"Imported {created} new and {updated} updated stories from "
               f"{len(results) - len(failed)} of {len(results)} files.")
    if failed:
        raise SystemExit(1)


def register_cli(app: Flask):
    """Attach every command group to the app's CLI."""
    app.cli.add_command(seed_command)
    app.cli.add_command(stories_cli)
    app.cli.add_command(appeals_cli)
    app.cli.add_command(tracking_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(stripe_cli)
    app.cli.add_command(statements_cli)
    app.cli.add_command(worker_command)
