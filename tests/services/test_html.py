"""Story HTML is sanitised with nh3 when it is written."""
import pytest

from supportapp.services.html import sanitise_appeal_html, sanitise_story_html


@pytest.mark.parametrize(
    "dirty, forbidden",
    [
        ("<p>hi</p><script>alert(1)</script>", "<script"),
        ('<p onclick="alert(1)">hi</p>', "onclick"),
        ('<a href="javascript:alert(1)">x</a>', "javascript:"),
        ('<img src="x" onerror="alert(1)">', "onerror"),
        ('<iframe src="https://evil.example"></iframe>', "<iframe"),
        ('<a href="JaVaScRiPt:alert(1)">x</a>', "alert"),
        ("<style>body{display:none}</style><p>x</p>", "<style"),
    ],
)
def test_story_sanitiser_strips_active_content(dirty, forbidden):
    """Scripts, event handlers and javascript: URLs never survive."""
    assert forbidden.lower() not in sanitise_story_html(dirty).lower()


def test_story_sanitiser_keeps_story_markup():
    """Ordinary story markup passes through unchanged in meaning."""
    html = '<h2>Sub</h2><p>A <strong>bold</strong> <a href="https://example.org/x">link</a></p>'
    clean = sanitise_story_html(html)
    assert "<h2>Sub</h2>" in clean
    assert "<strong>bold</strong>" in clean
    assert 'href="https://example.org/x"' in clean


def test_appeal_sanitiser_allows_only_inline_copy():
    """Appeal copy loses headings and blocks but keeps emphasis."""
    clean = sanitise_appeal_html("<h1>Big</h1><p><em>hi</em></p><div>x</div>")
    assert "<h1>" not in clean and "<div>" not in clean
    assert "<em>hi</em>" in clean
