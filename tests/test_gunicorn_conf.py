"""gunicorn.conf.py: gunicorn reads it from the project folder without being told, and its
worker hook leaves the app's import out of the garbage collector's full passes."""
import subprocess
import sys
from pathlib import Path

from gunicorn.config import Config

ROOT = Path(__file__).resolve().parent.parent
# What a worker has after importing the app, then the hook: the count of frozen objects.
SCRIPT = """
import gc, runpy
import app  # noqa: F401  (the app, as a gunicorn worker imports it)
before = gc.get_freeze_count()
runpy.run_path("gunicorn.conf.py")["post_worker_init"](None)
print(before, gc.get_freeze_count())
"""


def test_gunicorn_reads_the_config_file_of_its_working_directory():
    assert Config().settings["config"].default == "./gunicorn.conf.py"
    assert (ROOT / "gunicorn.conf.py").is_file()


def test_the_worker_hook_freezes_what_the_app_built(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "SECRET_KEY": "test",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'frozen.db'}"}
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    before, after = map(int, result.stdout.split())
    assert before == 0
    assert after > 50_000  # the app's modules, templates and settings: far more than this


def test_worker_heartbeat_file_lives_in_memory():
    """Each worker's heartbeat file is touched before every request: on a disk's filesystem
    that can wait for the filesystem's journal, so the config puts it in /dev/shm."""
    import runpy

    from gunicorn.workers.workertmp import WorkerTmp

    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    if not Path("/dev/shm").is_dir():
        assert "worker_tmp_dir" not in settings
        return
    config = Config()
    config.set("worker_tmp_dir", settings["worker_tmp_dir"])  # a setting gunicorn knows
    heartbeat = WorkerTmp(config)
    try:
        heartbeat.notify()
        assert config.worker_tmp_dir == "/dev/shm"
    finally:
        heartbeat.close()
