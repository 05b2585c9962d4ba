"""Find the Chromium that the browser tests drive; `--install` (run by `make test`) gets one
when none is found.

Looked for in this order: SUPPORTAPP_CHROMIUM (a path or a command; `none` means "no
browser", to try the skip path), `chromium`, `chromium-browser` and `google-chrome` on the
PATH, then Playwright's own Chromium. `--install` then tries `python -m playwright install
chromium` (needs the internet) and, only as root on Debian, `apt-get install chromium`.
Without a browser, `--install` still exits 0: the browser tests skip and say why (with
CI=true they fail). A SUPPORTAPP_CHROMIUM that names nothing runnable is an error.
"""
import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

SETTING = "SUPPORTAPP_CHROMIUM"
COMMANDS = ("chromium", "chromium-browser", "google-chrome")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]
HOW_TO_GET_ONE = f"set {SETTING} or install chromium"
# A download that cannot connect should give up in seconds, not after Playwright's 30 s
# per attempt; a real download may still take minutes.
PLAYWRIGHT_CONNECT_MS = "10000"
INSTALL_TIMEOUT_SECONDS = 900


class ChromiumSettingError(RuntimeError):
    """SUPPORTAPP_CHROMIUM names something that cannot be run."""


def find_chromium():
    """The Chromium executable to use, or None when there is none (or SUPPORTAPP_CHROMIUM=none)."""
    chosen = os.environ.get(SETTING, "").strip()
    if chosen.lower() == "none":
        return None
    if chosen:
        path = shutil.which(chosen)
        if path is None:
            raise ChromiumSettingError(f"{SETTING}={chosen} is not an executable file or command")
        return path
    for command in COMMANDS:
        if path := shutil.which(command):
            return path
    return playwright_chromium()


def playwright_chromium():
    """Where `python -m playwright install chromium` puts Chromium, if it is there."""
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            path = playwright.chromium.executable_path
    except Exception:  # no Playwright or no driver: then there is no Playwright Chromium
        return None
    return path if os.access(path, os.X_OK) else None


def install_with_playwright():
    """Try Playwright's download; True when it worked. Quiet unless it worked."""
    print("No Chromium found: trying `python -m playwright install chromium`...", flush=True)
    env = {"PLAYWRIGHT_DOWNLOAD_CONNECTION_TIMEOUT": PLAYWRIGHT_CONNECT_MS, **os.environ}
    try:
        done = subprocess.run([sys.executable, "-m", "playwright", "install", "chromium"],
                              env=env, capture_output=True, text=True,
                              timeout=INSTALL_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        print(f"  gave up after {INSTALL_TIMEOUT_SECONDS} s")
        return False
    if done.returncode != 0:
        errors = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
        print(f"  it could not: {errors[0] if errors else f'exit status {done.returncode}'}")
    return done.returncode == 0


def can_use_apt():
    """Root on Debian (or a derivative): the only case where installing a package is ours to do."""
    return (hasattr(os, "geteuid") and os.geteuid() == 0
            and Path("/etc/debian_version").exists() and shutil.which("apt-get") is not None)


def install_with_apt():
    """`apt-get update` then `apt-get install -y chromium`; True when both worked."""
    print("Installing Debian's chromium with apt-get (running as root)...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        if subprocess.run(command, env=env).returncode != 0:
            print(f"  `{' '.join(command)}` failed")
            return False
    return True


def install():
    """Find Chromium, else try to install one; the path, or None."""
    if (path := find_chromium()) is not None or os.environ.get(SETTING):
        return path
    if install_with_playwright() and (path := find_chromium()):
        return path
    if can_use_apt() and install_with_apt():
        return find_chromium()
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--install", action="store_true",
                        help="when none is found, try Playwright's download, then apt as root")
    args = parser.parse_args(argv)
    try:
        path = install() if args.install else find_chromium()
    except ChromiumSettingError as exc:
        print(exc, file=sys.stderr)
        return 2
    if path:
        print(f"Browser tests use {path}")
        return 0
    why = (f"{SETTING}=none" if os.environ.get(SETTING, "").strip() else HOW_TO_GET_ONE)
    outcome = "fail (CI=true)" if os.environ.get("CI") == "true" else "be skipped"
    print(f"No Chromium ({why}): the browser tests will {outcome}")
    return 0 if args.install else 1


if __name__ == "__main__":
    sys.exit(main())
