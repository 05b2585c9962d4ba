"""`make run`: one process that migrates, seeds and serves the app, with the local Stripe
emulator beside it when no STRIPE_SECRET_KEY is set (in the environment or `.env`), the
local mail server when mail goes to this machine, and the worker that sends the mail.

The emulator and the mail server start first, as processes of their own, so they boot while
the app is imported; the worker once the database is ready. They all stop with the app.
The emulator keeps its state in `instance/stripe-emulator.sqlite3`, so that it still knows
the customers and subscriptions the app's database names after a restart (`make reset`
wipes both).
"""
import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
INSTANCE = ROOT / "instance"
EMULATOR_STATE_FILE = INSTANCE / "stripe-emulator.sqlite3"

from supportapp.config import load_config, load_dotenv_files  # noqa: E402  (after the path)

# Set by Werkzeug in the process that serves when FLASK_DEBUG=1 turns the reloader on: the
# first process already started the emulator and prepared the database.
RELOADED = "WERKZEUG_RUN_MAIN"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def start_emulator(config, host, port):
    base = urlsplit(config["STRIPE_API_BASE"])
    command = [sys.executable, "-m", "stripe_emulator", "--host", base.hostname or "127.0.0.1",
               "--port", str(base.port or 12111),
               "--forward-to", f"http://{host}:{port}/stripe/webhook",
               "--webhook-secret", config["STRIPE_WEBHOOK_SECRET"],
               "--state-file", str(EMULATOR_STATE_FILE)]
    print(f"  No STRIPE_SECRET_KEY: payments go to the local Stripe emulator at "
          f"{config['STRIPE_API_BASE']}\n  (test card 4242 4242 4242 4242; nothing leaves this "
          "machine). Webhooks are forwarded to the app.\n  Its state is kept in "
          f"{EMULATOR_STATE_FILE.relative_to(ROOT)} (`make reset` wipes it and the database).\n",
          flush=True)
    return subprocess.Popen(command, cwd=ROOT)


def start_mail_server(config):
    """The local mail server (python -m devmail) where SUPPORTAPP_MAIL_URL points, when that
    is this machine; nothing when mail goes to a real server."""
    if config["MAIL_SERVER"] not in LOOPBACK:
        print(f"  Mail goes to {config['MAIL_SERVER']}:{config['MAIL_PORT']} "
              "(SUPPORTAPP_MAIL_URL).\n", flush=True)
        return None
    command = [sys.executable, "-m", "devmail", "--host", config["MAIL_SERVER"],
               "--port", str(config["MAIL_PORT"]), "--folder", config["DEV_MAIL_DIR"]]
    return subprocess.Popen(command, cwd=ROOT)


def start_worker():
    """`flask --app app worker`: sends the outbox (to the local mail server by default)."""
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker"], cwd=ROOT)


def prepare_database(app):
    """`flask db upgrade` then `flask seed`, in this process."""
    from flask_migrate import upgrade

    from supportapp.cli import seed_command

    with app.app_context():
        upgrade()
        seed_command.callback()


def print_addresses(host, port, config):
    base = f"http://{host}:{port}"
    mail = (f"    local mail:  {base}/_dev/mail\n"
            if config["SUPPORTAPP_ENV"] == "development" else "")
    print(f"\n  supportapp is starting on {base}/\n"
          f"    front page:  {base}/\n"
          f"    a section:   {base}/sections/local-government\n"
          f"    health:      {base}/healthz\n"
          f"    contribute:  {base}/contribute\n"
          f"    dashboard:   {base}/dashboard  "
          "(first: .venv/bin/flask --app app users create EMAIL --role admin)\n"
          f"{mail}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args(argv)
    os.chdir(ROOT)  # where `flask` would look for .env, and where the emulator ran before
    load_dotenv_files()
    first = os.environ.get(RELOADED) != "true"
    config = load_config(str(INSTANCE))
    emulator = mail_server = worker = None
    if first and config["STRIPE_USES_EMULATOR"]:
        emulator = start_emulator(config, args.host, args.port)
    elif first:
        print("  STRIPE_SECRET_KEY is set: payments go to Stripe (test mode). Forward webhooks "
              f"with: stripe listen --forward-to {args.host}:{args.port}/stripe/webhook\n",
              flush=True)
    if first:
        mail_server = start_mail_server(config)
    # Stopped by Ctrl-C or a TERM signal: stop the others with the app.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        from supportapp import create_app

        app = create_app()
        if first:
            prepare_database(app)
            # Only now: it imports the app too, and doing so beside this process's import
            # made the first page twice as slow; and it finds the tables already there.
            worker = start_worker()
            print_addresses(args.host, args.port, config)
        app.run(host=args.host, port=args.port, load_dotenv=False)
    except KeyboardInterrupt:
        pass
    finally:
        # The worker first: it finishes the message in flight while the mail server listens.
        for process in (worker, mail_server, emulator):
            _stop(process)
    return 0


def _stop(process):
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()


if __name__ == "__main__":
    sys.exit(main())
