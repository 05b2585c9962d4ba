"""Putting the appeal into a story's body HTML after top-level paragraph N."""
from html.parser import HTMLParser

VOID_ELEMENTS = frozenset(
    "area base br col embed hr img input link meta param source track wbr".split()
)


class _ParagraphEnds(HTMLParser):
    """Finds the (line, column) at which each top-level </p> starts."""

    def __init__(self, wanted):
        super().__init__(convert_charrefs=False)
        self.wanted = wanted
        self.stack = []
        self.ends = []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID_ELEMENTS:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag not in self.stack:
            return
        while self.stack and self.stack.pop() != tag:
            pass  # an end tag closes everything opened inside it
        if tag == "p" and not self.stack and len(self.ends) < self.wanted:
            self.ends.append(self.getpos())


def _offset(html, line, column):
    start = 0
    for _ in range(line - 1):
        start = html.index("\n", start) + 1
    return start + column


def insertion_offset(html, after_paragraph):
    """Where the appeal goes: just after top-level paragraph N, or at the end of the story.

    Story bodies are sanitised (well-formed) when stored.
    """
    if not after_paragraph or after_paragraph < 1:
        return len(html)
    parser = _ParagraphEnds(after_paragraph)
    parser.feed(html)
    parser.close()
    if len(parser.ends) < after_paragraph:
        return len(html)
    line, column = parser.ends[after_paragraph - 1]
    return html.index(">", _offset(html, line, column)) + 1


def inject_appeal(body_html, appeal_html, after_paragraph=None, offsets=None):
    """The story body with appeal_html inserted exactly once; every original byte kept in order.

    The same body is served again and again: with `offsets` (the app's insertion_offsets
    cache) the place is worked out once per body and N.
    """
    if offsets is None:
        offset = insertion_offset(body_html, after_paragraph)
    else:
        offset = offsets.get((body_html, after_paragraph),
                             lambda: insertion_offset(body_html, after_paragraph))
    return body_html[:offset] + appeal_html + body_html[offset:]
