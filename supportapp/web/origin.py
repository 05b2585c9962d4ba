"""Where a POST that carries no session token came from.

The appeal's one-click button posts from story pages, which hold no session (so they stay
cheap and cacheable) and therefore no CSRF token. What protects that POST is the browser's
own word on where it came from: `Origin`, which every current browser sends with a form
POST, else `Sec-Fetch-Site`. A POST from this site or from a site allowed to embed the
appeal is taken; any other, or one with neither header, is not.
"""
from flask import request


def own_origin():
    """This site's origin as the browser sees it ("https://news.example")."""
    return request.host_url.rstrip("/").lower()


def posted_from_allowed_origin(embed_origins):
    """True when the request says it comes from this site or one of `embed_origins`."""
    origin = request.headers.get("Origin")
    if origin is not None:
        origin = origin.strip().rstrip("/").lower()
        return origin == own_origin() or origin in embed_origins
    return request.headers.get("Sec-Fetch-Site") == "same-origin"
