"""The app as `bench/story_page.py` serves it: `gunicorn bench.story_page_app:app`.

The real app from `create_app()`, plus one route that exists only here:
`GET /bench/same-bytes` answers the bytes of the file SUPPORTAPP_BENCH_PAGE_FILE (a story
page as the app served it), read once per worker and kept in memory. It goes through the
same gunicorn, WSGI, Flask routing and after-request hooks as `GET /stories/<slug>`, so
the difference between the two is the story page's own work.
"""
import os

from flask import Response

from supportapp import create_app

app = create_app()


@app.get("/bench/same-bytes")
def same_bytes():
    page = app.extensions.get("bench_same_bytes")
    if page is None:
        with open(os.environ["SUPPORTAPP_BENCH_PAGE_FILE"], "rb") as handle:
            page = app.extensions.setdefault("bench_same_bytes", handle.read())
    return Response(page, mimetype="text/html")
