"""The accessibility and layout checks (tests/a11y.py) catch what they are for, on small
pages served here under the app's own Content-Security-Policy, in a real Chromium."""
import pytest
from werkzeug.wrappers import Request, Response

from supportapp.security import CONTENT_SECURITY_POLICY
from tests.a11y import (
    assert_fits,
    assert_no_axe_violations,
    cumulative_layout_shift,
    focused,
    layouts,
    rows,
    tab_order,
    tab_to,
)

pytestmark = pytest.mark.browser


def _page(title, body, script=None):
    tag = f'<script src="/{script}" defer></script>' if script else ""
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<link rel="stylesheet" href="/site.css">{tag}</head>'
            f'<body><main><h1>{title}</h1>{body}</main></body></html>')


SITE = {
    "/site.css": (
        "body { font: 16px/1.5 sans-serif; margin: 0 1rem; color: #222; background: #fff; }"
        ".faint { color: #bbb; } #wide { width: 500px; } #slot { min-height: 4rem; }"
        ".quiet:focus { outline: none; } .chip { display: inline-block; width: 120px; }"
        "#banner { height: 200px; }"
    ),
    "/clean.html": _page("Clean", '<p>Words and <a href="/clean.html">a link</a>.</p>'
                         '<label>Name <input name="name"></label><button>Send</button>'),
    "/faulty.html": _page("Faulty", '<img src="/nothing.png"><input name="unlabelled">'
                          '<p class="faint">Hard to read</p>'),
    "/shift.html": _page("Shift", "<p>First line</p><p>Second line</p>", "shift.js"),
    "/shift.js": ("setTimeout(() => { const b = document.createElement('div');"
                  " b.id = 'banner'; b.textContent = 'Late banner';"
                  " document.querySelector('main').prepend(b); }, 100);"),
    "/steady.html": _page("Steady", '<div id="slot"></div><p>First line</p>', "steady.js"),
    "/steady.js": ("setTimeout(() => { document.getElementById('slot').textContent ="
                   " 'Filled in its reserved space'; }, 100);"),
    "/wide.html": _page("Wide", '<div id="wide">500 px wide</div>'
                        + '<span class="chip">a</span>' * 3),
    "/keys.html": _page("Keys", '<a href="/clean.html">First</a>'
                        '<div class="fake" onclick="">Not a button</div>'
                        '<button class="quiet">No outline</button>'
                        '<input id="last" aria-label="Last">'),
}


@Request.application
def _site(request):
    body = SITE.get(request.path)
    if body is None:
        return Response("not here", status=404)
    kind = {"css": "text/css", "js": "text/javascript"}.get(request.path.rsplit(".")[-1],
                                                            "text/html")
    return Response(body, mimetype=kind,
                    headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})


@pytest.fixture(scope="module")
def site():
    """The pages above on a loopback port; yields the base URL."""
    from tests.integration.conftest import serve

    url, server = serve(_site)
    yield url
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(browser, site):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.mark.a11y
def test_axe_passes_a_clean_page_and_lists_each_violation(page, site):
    """axe runs under the CSP: nothing on a clean page; rule, impact and element of each
    violation on a faulty one."""
    page.goto(f"{site}/clean.html")
    assert_no_axe_violations(page)

    page.goto(f"{site}/faulty.html")
    with pytest.raises(AssertionError) as failed:
        assert_no_axe_violations(page)
    lines = str(failed.value).splitlines()
    assert lines[0] == f"axe found on {site}/faulty.html:"
    assert [line.split(" <")[0] for line in lines[1::2]] == [
        "color-contrast (serious): Elements must meet minimum color contrast ratio thresholds",
        "image-alt (critical): Images must have alternative text",
        "label (critical): Form elements must have labels"]
    assert [line.split(":")[0].strip() for line in lines[2::2]] == ["p", "img", "input"]
    assert "contrast of 1.91" in lines[2]
    assert_no_axe_violations(page, context="h1")  # only the heading: nothing wrong there


def test_layout_shift_is_measured_after_the_scripts_ran(page, site):
    """A banner a script inserts late moves the text (CLS > 0, and what moved); content
    filling space kept for it moves nothing (CLS 0)."""
    page.goto(f"{site}/shift.html")
    shifted = cumulative_layout_shift(page)
    assert shifted.cls > 0.05
    assert shifted.sources  # what moved, to point at

    page.goto(f"{site}/steady.html")
    steady = cumulative_layout_shift(page)
    assert page.locator("#slot").inner_text() == "Filled in its reserved space"
    assert steady.cls == 0 and steady.sources == []


def test_tab_to_reaches_what_the_keyboard_can_and_names_the_way_otherwise(page, site):
    """Tab and Shift+Tab reach focusable elements; a clickable div is never reached, and
    the failure lists the path; a focus without outline is reported as invisible."""
    page.goto(f"{site}/keys.html")
    assert tab_to(page, "#last").describe == 'input#last "Last"'
    assert tab_to(page, "a", backwards=True).describe == 'a "First"'
    page.goto(f"{site}/keys.html")
    with pytest.raises(AssertionError, match=r"never reached '\.fake'.*a \"First\" -> "
                                             r"button \"No outline\" -> input#last"):
        tab_to(page, ".fake", max_tabs=4)

    tab_to(page, "button")  # tab_order starts from the top wherever the focus is
    stops = tab_order(page)
    assert [s.describe for s in stops] == ['a "First"', 'button "No outline"', 'input#last "Last"']
    assert [s.visible for s in stops] == [True, False, True]
    tab_to(page, "#last")
    page.keyboard.press("Shift+Tab")
    assert focused(page).describe == 'button "No outline"'


def test_overflow_is_found_at_the_widths_where_it_happens(page, site):
    """A 500 px element makes the page scroll sideways at 320 and 390 px, not at 768 or
    1280; the failure names it; the boxes show chips wrapping only when narrow."""
    page.goto(f"{site}/wide.html")
    with pytest.raises(AssertionError) as failed:
        assert_fits(page)
    message = str(failed.value)
    assert "at 320 px" in message and "at 390 px" in message and "div#wide" in message
    assert "at 768 px" not in message and "at 1280 px" not in message

    found = assert_fits(page, widths=(768, 1280), boxes=(".chip",))
    assert [lay.width for lay in found] == [768, 1280]
    assert all(rows(lay.boxes[".chip"]) == 1 for lay in found)
    narrow = layouts(page, widths=(320,), boxes=(".chip",))[0]
    assert narrow.overflows and rows(narrow.boxes[".chip"]) == 2

    page.goto(f"{site}/clean.html")
    assert not any(lay.overflows for lay in assert_fits(page))
