"""The appeal goes into story HTML exactly once, after top-level paragraph N, breaking nothing."""
import html

import lxml.html
from hypothesis import given, settings
from hypothesis import strategies as st

from supportapp.services.html import sanitise_story_html
from supportapp.services.injection import inject_appeal

APPEAL = '<section class="appeal"><h2>Since you are here</h2><p>Appeal copy</p></section>'

words = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
                min_size=1, max_size=30).filter(lambda s: s.strip())


def _p(text):
    return f"<p>{html.escape(text)}</p>"


blocks = st.one_of(
    words.map(_p),
    words.map(lambda t: f"<p>{html.escape(t)} <em>{html.escape(t)}</em></p>"),
    words.map(lambda t: f"<h2>{html.escape(t)}</h2>"),
    st.lists(words, min_size=1, max_size=3).map(
        lambda ts: "<blockquote>" + "".join(_p(t) for t in ts) + "</blockquote>"),
    st.lists(words, min_size=1, max_size=3).map(
        lambda ts: "<ul>" + "".join(f"<li>{html.escape(t)}</li>" for t in ts) + "</ul>"),
    st.just("<p>line<br>break</p>"),
    st.just("<hr>"),
)


def _top_level(fragment_html):
    return lxml.html.fragment_fromstring(fragment_html, create_parent="div")


def _paragraph_texts(root):
    return [p.text_content() for p in root.iter("p")
            if not any(a.get("class") == "appeal" for a in p.iterancestors())]


@settings(max_examples=300, deadline=None)
@given(st.lists(blocks, max_size=20), st.one_of(st.none(), st.integers(min_value=1, max_value=25)))
def test_injection_properties(parts, after):
    """Output parses, has one appeal, keeps every paragraph in order, and follows N."""
    body = sanitise_story_html("\n".join(parts))
    out = inject_appeal(body, APPEAL, after)
    before_root, after_root = _top_level(body), _top_level(out)
    appeals = after_root.xpath("//section[@class='appeal']")
    assert len(appeals) == 1
    assert appeals[0].getparent() is after_root  # top level, never inside another element
    assert _paragraph_texts(after_root) == _paragraph_texts(before_root)
    children = list(after_root)
    position = children.index(appeals[0])
    top_paragraphs_before = sum(1 for c in children[:position] if c.tag == "p")
    total_top_paragraphs = sum(1 for c in before_root if c.tag == "p")
    if after is None or after > total_top_paragraphs:
        assert position == len(children) - 1
    else:
        assert top_paragraphs_before == after
        assert children[position - 1].tag == "p"
    assert out.replace(APPEAL, "", 1) == body  # every original byte, in order


def test_nested_paragraphs_are_not_counted():
    """Paragraphs inside a blockquote are not top-level paragraphs."""
    body = "<p>one</p><blockquote><p>quoted</p></blockquote><p>two</p><p>three</p>"
    out = inject_appeal(body, "<aside>A</aside>", 2)
    assert out == "<p>one</p><blockquote><p>quoted</p></blockquote><p>two</p><aside>A</aside>" \
                  "<p>three</p>"


def test_short_story_gets_appeal_at_end():
    """A story with fewer than N paragraphs carries the appeal at its end."""
    assert inject_appeal("<p>a</p><p>b</p>", "<aside>A</aside>", 5) == \
        "<p>a</p><p>b</p><aside>A</aside>"


def test_multiline_body_offsets():
    """Offsets are right when the body spans several lines."""
    body = "<p>a</p>\n<p>b\nc</p>\n<p>d</p>"
    assert inject_appeal(body, "<X>", 2) == "<p>a</p>\n<p>b\nc</p><X>\n<p>d</p>"
