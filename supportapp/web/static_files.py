"""Static files with content-hashed names, served by WhiteNoise with compressed copies.

At app start the files of static/ are copied into a build folder (instance/static-build/
<fingerprint>/, gitignored) under their own name and under a hashed one (css/site.css and
css/site.3f2a9c1b7d4e.css), each with .gz (and .br, when brotli is installed) beside it.
The folder's name is a hash of static/'s contents, so a build is made once per change of the
files and shared by every process that starts afterwards; no step downloads anything.

url_for('static', filename='css/site.css') answers the hashed URL, which WhiteNoise serves
with a one-year immutable Cache-Control. The plain names stay served, with a short max-age,
for pages on other sites: embed.js loads /static/js/giving.js and /static/js/appeal.js.
"""
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from whitenoise import WhiteNoise

MANIFEST = "manifest.json"
HASH_LENGTH = 12
ONE_YEAR = 31536000
# Plain (unhashed) names: kept by browsers and CDNs this long, then asked again.
PLAIN_MAX_AGE = 300
# Builds older than the newest few are removed; a process still running keeps its own.
KEPT_BUILDS = 3


def source_files(source):
    """Relative paths of the files under `source`, sorted, hidden files left out."""
    root = Path(source)
    return sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )


def hashed_name(name, data):
    """`css/site.css` -> `css/site.<12 hex of sha256>.css`."""
    digest = hashlib.sha256(data).hexdigest()[:HASH_LENGTH]
    stem, dot, ext = name.rpartition(".")
    if not dot or "/" in ext:
        return f"{name}.{digest}"
    return f"{stem}.{digest}.{ext}"


def fingerprint(source, names):
    digest = hashlib.sha256()
    for name in names:
        digest.update(name.encode() + b"\0" + (Path(source) / name).read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def build(source, target):
    """Copy every file under `source` to `target` under its own and its hashed name, compress
    both, and write the manifest (plain name -> hashed name) last."""
    # Here, not at the top: a build is made once per change of static/, and the compressor
    # brings brotli and argparse (0.6 MB of a worker's memory) into every worker that never
    # builds.
    from whitenoise.compress import Compressor

    compressor = Compressor(quiet=True)
    manifest = {}
    for name in source_files(source):
        data = (Path(source) / name).read_bytes()
        manifest[name] = hashed_name(name, data)
        for out_name in (name, manifest[name]):
            out = Path(target) / out_name
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)
            if compressor.should_compress(out_name):
                compressor.compress(str(out))
    (Path(target) / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return manifest


def ensure_build(source, build_root):
    """The build folder for static/'s current contents, made now if missing. Safe when several
    processes start together: each builds in a temporary folder and the first rename wins."""
    names = source_files(source)
    final = Path(build_root) / fingerprint(source, names)
    if not (final / MANIFEST).is_file():
        Path(build_root).mkdir(parents=True, exist_ok=True)
        scratch = tempfile.mkdtemp(prefix=".building-", dir=build_root)
        build(source, scratch)
        try:
            os.rename(scratch, final)
        except OSError:  # another process finished first: use theirs
            shutil.rmtree(scratch, ignore_errors=True)
        prune(build_root, keep=final)
    return final


def prune(build_root, keep):
    builds = sorted((p for p in Path(build_root).iterdir()
                     if p.is_dir() and not p.name.startswith(".")),
                    key=lambda p: p.stat().st_mtime, reverse=True)
    for old in builds[KEPT_BUILDS:]:
        if old != keep:
            shutil.rmtree(old, ignore_errors=True)


def init_app(app):
    """Build the static files if needed, serve them with WhiteNoise, and make
    url_for('static', ...) answer hashed names."""
    folder = ensure_build(app.static_folder, os.path.join(app.instance_path, "static-build"))
    manifest = json.loads((folder / MANIFEST).read_text())
    hashed_urls = {f"{app.static_url_path}/{name}" for name in manifest.values()}
    app.extensions["static_manifest"] = manifest
    app.wsgi_app = WhiteNoise(
        app.wsgi_app, root=str(folder), prefix=app.static_url_path.lstrip("/") + "/",
        max_age=PLAIN_MAX_AGE, add_headers_function=_cache_headers(hashed_urls),
    )
    app.url_defaults(_hashed_static_name(manifest))


def _cache_headers(hashed_urls):
    def add_headers(headers, _path, url):
        # WhiteNoise's own "immutable" is ten years; a year is what the HTTP spec suggests
        # as the longest useful, and what CDNs and checkers expect.
        if url in hashed_urls:
            headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
        headers["X-Content-Type-Options"] = "nosniff"  # Flask's after_request never sees these
    return add_headers


def _hashed_static_name(manifest):
    def rewrite(endpoint, values):
        # url_for('static', filename=...) in templates: the hashed name, when there is one.
        if endpoint == "static" and values.get("filename") in manifest:
            values["filename"] = manifest[values["filename"]]
    return rewrite
