"""The emulator is a tool of its own: its wheel installs into a fresh venv that has nothing but
its declared dependencies, and the `stripe-emulator` console script serves a Checkout.

The machines are offline at test time, so the fresh venv gets the dependencies by a .pth file
pointing at a folder of symlinks to exactly the distributions the wheel requires (and theirs,
recursively), taken from this venv. Only the emulator runs in the fresh venv; the SDK that
drives it runs here.
"""

import importlib.metadata
import importlib.util
import os
import re
import select
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
import stripe
from packaging.requirements import Requirement

from stripe_emulator import __version__

from .helpers import one_off_params

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("build") is None, reason="needs `build` (requirements.txt pins it)"
)

SOURCE = Path(__file__).resolve().parents[1]
# What a build leaves in its source folder, and caches: none of it is copied.
_NOT_SOURCE = shutil.ignore_patterns(
    "__pycache__", "*.egg-info", "build", "dist", ".pytest_cache", ".hypothesis"
)


def _build(tmp_path):
    """sdist and wheel of a copy of the package (a build writes egg-info into its source)."""
    source = tmp_path / "src"
    shutil.copytree(SOURCE, source, ignore=_NOT_SOURCE)
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(source)],
        check=True, capture_output=True, timeout=300,
    )
    (wheel,) = dist.glob("*.whl")
    (sdist,) = dist.glob("*.tar.gz")
    return wheel, sdist


def _package_dirs():
    """The package and its subpackages, as the source tree has them (tests excluded)."""
    return {
        str(init.parent.relative_to(SOURCE))
        for init in SOURCE.rglob("__init__.py")
        if "tests" not in init.relative_to(SOURCE).parts
    }


def _check_contents(wheel, sdist):
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in _package_dirs():
        prefix = "stripe_emulator" if folder == "." else f"stripe_emulator/{folder}"
        assert f"{prefix}/__init__.py" in names, f"{folder} is missing from the wheel"
    assert "stripe_emulator/README.md" in names
    templates = {path.name for path in (SOURCE / "templates").iterdir()}
    assert templates and {f"stripe_emulator/templates/{name}" for name in templates} <= names
    with tarfile.open(sdist) as archive:
        in_sdist = [name.split("/", 1)[-1] for name in archive.getnames()]
    assert "README.md" in in_sdist and "templates/checkout.html" in in_sdist
    for listing in (names, in_sdist):
        assert not [name for name in listing if "tests" in name.split("/")], listing
        assert not [name for name in listing if name.endswith((".gz", "fixtures3.json"))]


def _requirement_closure(wheel):
    """Distributions the wheel requires, and what they require, recursively (markers
    evaluated here, no extras)."""
    metadata = zipfile.ZipFile(wheel).read(
        next(n for n in zipfile.ZipFile(wheel).namelist() if n.endswith(".dist-info/METADATA"))
    )
    todo = [
        Requirement(line.split(":", 1)[1].strip())
        for line in metadata.decode().splitlines()
        if line.startswith("Requires-Dist:")
    ]
    found = {}
    while todo:
        requirement = todo.pop()
        if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
            continue
        dist = importlib.metadata.distribution(requirement.name)
        key = dist.metadata["Name"].lower()
        if key not in found:
            found[key] = dist
            todo.extend(Requirement(text) for text in dist.requires or ())
    return found


def _link_dependencies(distributions, into):
    """Symlink each distribution's top-level files and folders (its packages, its
    dist-info) into `into`."""
    into.mkdir()
    for dist in distributions.values():
        for file in dist.files or ():
            top = Path(file).parts[0]
            if top == ".." or (into / top).exists():
                continue  # console scripts live outside site-packages
            (into / top).symlink_to(dist.locate_file(top))


def _fresh_venv(tmp_path, wheel):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", str(wheel)],
        check=True, timeout=300,
    )
    deps = tmp_path / "deps"
    _link_dependencies(_requirement_closure(wheel), deps)
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    Path(site, "declared_dependencies.pth").write_text(f"{deps}\n")
    return venv


def _clean_env():
    """No PYTHONPATH or venv of ours leaks into the fresh venv's processes."""
    return {
        key: value for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    }


def _start(command, cwd):
    process = subprocess.Popen(
        command, cwd=cwd, env=_clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )
    ready, _, _ = select.select([process.stdout], [], [], 30)
    line = process.stdout.readline() if ready else ""
    found = re.search(r"http://[\d.]+:\d+", line)
    if not found:
        process.kill()
        raise AssertionError(f"stripe-emulator did not start: {line}{process.stderr.read()}")
    return process, found.group(0)


def _pay_a_checkout(url):
    import requests

    client = stripe.StripeClient("sk_test_package", base_addresses={"api": url})
    session = client.v1.checkout.sessions.create(params=one_off_params(amount=1500))
    paid = requests.post(
        f"{url}/_emulator/checkout/{session.id}/pay", data={"card": "4242424242424242"},
        timeout=30,
    )
    assert paid.status_code == 200, paid.text
    session = client.v1.checkout.sessions.retrieve(session.id)
    assert (session.status, session.payment_status, session.amount_total) == (
        "complete", "paid", 1500,
    )


def test_the_wheel_runs_alone_in_a_fresh_venv(tmp_path):
    wheel, sdist = _build(tmp_path)
    assert wheel.name == f"stripe_emulator-{__version__}-py3-none-any.whl"
    _check_contents(wheel, sdist)
    venv = _fresh_venv(tmp_path, wheel)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def run(*code):
        return subprocess.run(
            [str(venv / "bin" / "python"), "-c", *code], cwd=elsewhere, env=_clean_env(),
            capture_output=True, text=True, timeout=60,
        )

    assert "No module named 'supportapp'" in run("import supportapp").stderr
    where = run("import stripe_emulator; print(stripe_emulator.__file__)").stdout
    assert where.startswith(str(venv)), where
    script = venv / "bin" / "stripe-emulator"
    version = subprocess.run(
        [str(script), "--version"], env=_clean_env(), capture_output=True, text=True
    )
    assert version.stdout.strip() == f"stripe-emulator {__version__}"

    process, url = _start([str(script), "--port", "0", "--webhook-secret", "whsec_pkg"], elsewhere)
    try:
        _pay_a_checkout(url)
    finally:
        process.terminate()
        process.wait(10)
        process.stdout.close()
        process.stderr.close()
    assert process.returncode == 0
