"""`make run`: serve the app, with the local Stripe emulator beside it when no
STRIPE_SECRET_KEY is set (in the environment or `.env`); the emulator stops with the app."""
import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from supportapp.config import load_config, load_dotenv_files  # noqa: E402  (after the path)


def start_emulator(config, host, port):
    base = urlsplit(config["STRIPE_API_BASE"])
    command = [sys.executable, "-m", "stripe_emulator", "--host", base.hostname or "127.0.0.1",
               "--port", str(base.port or 12111),
               "--forward-to", f"http://{host}:{port}/stripe/webhook",
               "--webhook-secret", config["STRIPE_WEBHOOK_SECRET"]]
    print(f"  No STRIPE_SECRET_KEY: payments go to the local Stripe emulator at "
          f"{config['STRIPE_API_BASE']}\n  (test card 4242 4242 4242 4242; nothing leaves this "
          "machine). Webhooks are forwarded to the app.\n", flush=True)
    return subprocess.Popen(command, cwd=ROOT)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="5000")
    args = parser.parse_args(argv)
    os.chdir(ROOT)  # where the `flask` it starts looks for .env too
    load_dotenv_files()
    config = load_config(str(ROOT / "instance"))
    emulator = None
    if config["STRIPE_USES_EMULATOR"]:
        emulator = start_emulator(config, args.host, args.port)
    else:
        print("  STRIPE_SECRET_KEY is set: payments go to Stripe (test mode). Forward webhooks "
              f"with: stripe listen --forward-to {args.host}:{args.port}/stripe/webhook\n",
              flush=True)
    flask = [sys.executable, "-m", "flask", "--app", "app", "run", "--host", args.host,
             "--port", args.port]
    # Stopped by Ctrl-C or a TERM signal: stop the app and the emulator with it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = subprocess.Popen(flask, cwd=ROOT)
    try:
        return server.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        for process in (server, emulator):
            _stop(process)


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
