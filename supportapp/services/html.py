"""Sanitising untrusted HTML before it is stored or shown.

nh3 is imported where it is used: only a story or appeal being written is sanitised, and
every web worker imports this module with the models, where nh3 would take 1.5 MB.
"""

STORY_TAGS = {
    "p", "h2", "h3", "h4", "blockquote", "ul", "ol", "li", "a", "em", "strong", "b", "i",
    "br", "hr", "figure", "figcaption", "img", "code", "pre", "sub", "sup", "small",
    "table", "thead", "tbody", "tr", "th", "td", "caption", "abbr", "cite", "q", "s",
}
STORY_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "abbr": {"title"},
    "th": {"scope", "colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
}
URL_SCHEMES = {"http", "https", "mailto"}

APPEAL_TAGS = {"p", "em", "strong", "b", "i", "br", "a"}
APPEAL_ATTRIBUTES = {"a": {"href", "title"}}


def sanitise_story_html(html):
    """Return story body HTML with scripts, event handlers and unsafe URLs removed."""
    import nh3  # deferred: see the module docstring

    return nh3.clean(
        html,
        tags=STORY_TAGS,
        attributes=STORY_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
    )


def sanitise_appeal_html(html):
    """Return appeal copy reduced to a few inline tags and paragraphs."""
    import nh3  # deferred: see the module docstring

    return nh3.clean(
        html,
        tags=APPEAL_TAGS,
        attributes=APPEAL_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
    )
