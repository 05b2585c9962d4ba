"""`.env` is read by the entry points (app.py, the `flask` command, `make run`), never by
create_app(), so a developer's `.env` cannot change what the tests see."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import child_env

ROOT = Path(__file__).resolve().parents[1]
DOTENV = ("STRIPE_SECRET_KEY=sk_test_fromdotenv\nSUPPORTAPP_SITE_NAME=Dotenv Gazette\n"
          "SUPPORTAPP_ENV=production\nDATABASE_URL=sqlite:////nonexistent/x.db\n")
PRINT_SETTINGS = ("import json; print(json.dumps({k: app.config[k] for k in "
                  "('SITE_NAME', 'STRIPE_SECRET_KEY')}))")


@pytest.fixture(params=["working directory", "project folder"])
def dotenv_file(request, tmp_path, monkeypatch):
    """A `.env` that would change four settings, where `flask` looks (the working directory)
    or beside the code (where python-dotenv looks by default); removed afterwards."""
    if request.param == "working directory":
        monkeypatch.chdir(tmp_path)
        path = tmp_path / ".env"
    else:
        path = ROOT / ".env"
        if path.exists():
            pytest.skip("a .env of your own is there: the other tests already run beside it")
    with path.open("x") as file:
        file.write(DOTENV)
    yield path
    path.unlink()


def test_create_app_ignores_dotenv(dotenv_file):
    """create_app() with a `.env` present builds the same settings as without it."""
    from supportapp import create_app

    config = create_app({"TESTING": True}).config
    assert config["SITE_NAME"] == "The Harbour Ledger"
    assert config["STRIPE_SECRET_KEY"] == "sk_test_emulator" and config["STRIPE_USES_EMULATOR"]
    assert config["SUPPORTAPP_ENV"] == "testing"
    assert "nonexistent" not in config["SQLALCHEMY_DATABASE_URI"]
    assert "SUPPORTAPP_SITE_NAME" not in os.environ


def _settings_seen_by(command, tmp_path, **env):
    (tmp_path / ".env").write_text("STRIPE_SECRET_KEY=sk_test_fromdotenv\n"
                                   "SUPPORTAPP_SITE_NAME=Dotenv Gazette\n"
                                   f"DATABASE_URL=sqlite:///{tmp_path / 'x.db'}\n")
    done = subprocess.run(command, cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)},
                          input=PRINT_SETTINGS, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    printed = done.stdout[done.stdout.index("{"):]  # `flask shell` adds ">>> " prompts
    return json.loads(printed[:printed.index("}") + 1])


def test_app_module_loads_dotenv(tmp_path):
    """`gunicorn app:app` (importing app.py) reads the `.env` of its working directory."""
    env = {k: v for k, v in os.environ.items() if k != "FLASK_SKIP_DOTENV"}
    seen = _settings_seen_by([sys.executable, "-c", f"from app import app; {PRINT_SETTINGS}"],
                             tmp_path, **env)
    assert seen == {"SITE_NAME": "Dotenv Gazette", "STRIPE_SECRET_KEY": "sk_test_fromdotenv"}


@pytest.mark.parametrize("command", [
    [sys.executable, "-c", f"from app import app; {PRINT_SETTINGS}"],
    [sys.executable, "-m", "flask", "--app", "app", "shell"],
], ids=["app.py", "flask"])
def test_flask_skip_dotenv_turns_it_off(tmp_path, command):
    """With FLASK_SKIP_DOTENV=1 (what tests give their child processes) neither app.py nor
    the `flask` command reads `.env`."""
    seen = _settings_seen_by(command, tmp_path, **child_env())
    assert seen == {"SITE_NAME": "The Harbour Ledger", "STRIPE_SECRET_KEY": "sk_test_emulator"}
