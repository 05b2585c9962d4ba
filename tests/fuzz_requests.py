"""Hypothesis strategies for hostile requests to a route; the links and forms pages show.

Values that must name rows of the current seed (a story's slug, an appeal's id, an API token)
are drawn as markers and filled in with `resolve` just before sending, so that one strategy
per route serves every example and both databases.
"""
import copy
import re
from urllib.parse import parse_qsl, quote, urlsplit

import lxml.html
from hypothesis import strategies as st
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

VARIABLE = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")  # <converter(args):name>
MARK = "\ue000"  # a private-use character: never in a value drawn otherwise
KNOWN = ("story", "section", "story_id", "appeal_id", "variant_id", "staff_id", "session_id",
         "token")
KNOWN_FOR = {"id": ("story_id", "appeal_id", "variant_id", "staff_id"),
             "slug": ("story", "section"), "default": ("story", "section")}
# A path variable's name says what it names, where it is not itself a key of KNOWN.
KNOWN_BY_NAME = {"slug": "story"}
PARTNER = "https://partner.example"  # a site allowed to embed the appeal (EMBED_ORIGINS)
# What our own scripts (and Stripe's redirect) ask for, beyond the links the pages show.
SCRIPT_QUERIES = {
    "api.appeal": (
        {"story": MARK + "story", "reads": "3", "views": "1", "title": "Harbour budget"},
        {"story": PARTNER + "/2026/ferry-fares", "title": "Ferry fares", "reader": "r" * 20}),
    "contribute.thanks": ({"session_id": MARK + "session_id"},),
}
# Typed into the empty required fields of a form the page shows, by input type.
TYPED = {"email": "new.person@newsroom.example", "password": "a long enough password",
         "text": "Fuzzed words", "number": "2", "datetime-local": "2026-11-01T09:00"}

# Query-string names the views read; form field names are added from the app's own forms.
QUERY_NAMES = ("period", "start", "end", "page", "sort", "status", "frequency", "currency",
               "story", "q", "appeal", "variant", "session_id", "reads", "views", "reader",
               "title", "next", "amount", "amount_custom", "email")
HOSTILE = ("", " ", "0", "-1", "1", "2147483647", "2147483648", "9" * 25, "9" * 5000, "1e9",
           "12.505", "NaN", "²", "٣", "\x00", "a\x00b", "x" * 3000, "../../etc/passwd",
           "<script>alert(1)</script>", "{article_count}", "%s%n", "' OR 1=1 --", "😀",
           "9999-12-31", "0001-01-01", "2026-11-01", "custom", "today", "30d", "monthly",
           "one_off", "annual", "USD", "EUR", "live", "paused", "ended", "draft", "admin",
           "viewer", "editor", "-conversion_rate", "reader@example.com", "//evil.example",
           "cs_test_" + "a" * 300, "true", "on", "null", "[]", "{}")
HOSTS = ("localhost", "news.example:8080", "a" * 64 + ".example", "evil.example", "",
         "[::1]:80", "host:notaport", "a..b", "xn--zz", "ÿ.example", "localhost:99999")
LANGUAGES = ("en", "de-CH,fr;q=0.5", "*", "", "x" * 500, ";q=", "en;q=abc", "zz-ZZ",
             "fr-CA,en;q=0.8", "en-GB;q=1e999")
COOKIES = ("sa_rid", "sa_reads", "sa_views", "sa_later", "sa_supporter")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
RAW_TYPES = ("application/json", "text/plain", "application/xml", "", "multipart/form-data",
             "application/x-www-form-urlencoded", "application/json; charset=utf-16", "x/y")
DEEP_JSON = "[" * 50_000 + "]" * 50_000
# The JSON our own scripts send, by endpoint: the beacon from appeal.js.
SCRIPT_JSON = {"tracking.events": (
    {"pv": "pageview123", "reader": "r" * 20, "events": [
        {"type": "view", "story": MARK + "story", "appeal": MARK + "appeal_id",
         "variant": MARK + "variant_id"}]},)}


def resolve(value, known, typed=False):
    """`value` with markers replaced by the seed's values, as text; `typed` (for JSON) keeps
    an id that stands alone an int."""
    if isinstance(value, dict):
        return {resolve(k, known): resolve(v, known, typed or k == "json")
                for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, known, typed) for v in value]
    if not isinstance(value, str) or MARK not in value:
        return value
    if typed and value[1:] in known:
        return known[value[1:]]
    return re.sub(MARK + r"(\w+)", lambda m: str(known.get(m.group(1), "")), value)


# ---------------------------------------------------------------- values

_known = st.sampled_from([MARK + name for name in KNOWN])
DROP = object()  # a field left out
NUMBER = re.compile(r"-?[0-9][0-9,]*(\.[0-9]*)?")
NUMBERS = st.one_of(
    st.sampled_from(["0", "-1", "2147483647", "2147483648", "21474836.48", "9" * 20,
                     "99999999999999999.99", "1e9", "0.001", "1,000,000", "٣", "²"]),
    st.integers().map(str), st.decimals(allow_nan=False, allow_infinity=False).map(str))
TEXTS = st.one_of(st.sampled_from(HOSTILE), _known, st.integers().map(str), st.text(max_size=40))
_HEADER_TEXT = st.text(st.characters(max_codepoint=255, exclude_characters="\r\n"), max_size=40)
_SHAPED = {"id": st.integers(min_value=-5, max_value=2**70).map(str),
           "path": st.sampled_from(["css/site.css", "js/appeal.js", "../app.py", "a/../../x"])}
_SLUG_LIKE = st.from_regex(r"[a-z0-9]{1,12}(-[a-z0-9]{1,12}){0,3}", fullmatch=True)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | _known,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12)


def usually(likely, other):
    """`likely` two times in three. (Hypothesis steers `one_of` towards the branch with more
    to explore, which would leave a constant branch nearly unvisited.)"""
    return st.sampled_from((True, True, False)).flatmap(lambda yes: likely if yes else other)


def _path_value(converter, name):
    """Usually the row the variable names; else another row, a near miss or garbage."""
    known = st.sampled_from([MARK + key for key in KNOWN_FOR.get(converter, KNOWN)])
    other = st.one_of(known, _SHAPED.get(converter, _SLUG_LIKE), TEXTS, st.just("x" * 500))
    name = name if name in KNOWN else KNOWN_BY_NAME.get(name)
    return usually(st.just(MARK + name), other) if name else other


def field_maps(names):
    """A few fields named from `names` (or anything) with hostile or known values."""
    return st.dictionaries(st.sampled_from(sorted(names)) | st.text(max_size=10), TEXTS,
                           max_size=6)


@st.composite
def _mutated(draw, templates, names):
    """One of `templates` (as the app's pages send it) with a few of its fields replaced by
    values of the same kind or dropped, and a few others added."""
    base = dict(draw(st.sampled_from(templates or [()])))
    for name in draw(st.lists(st.sampled_from(sorted(base)), max_size=3, unique=True)) \
            if base else ():
        base[name] = draw(_like(base[name]))
    base.update(draw(field_maps({*base, *names})))
    return {name: value for name, value in base.items() if value is not DROP}


def _like(value):
    """Extremes for a number (ids, weights, amounts overflow columns), anything for the rest."""
    anything = TEXTS | st.just(DROP)
    return usually(NUMBERS, anything) if NUMBER.fullmatch(value or "") else anything


# ---------------------------------------------------------------- one request


@st.composite
def _path(draw, rule):
    def fill(match):
        converter = match.group(1) or "default"
        value = draw(_path_value(converter, match.group(2)))
        return value if value.startswith(MARK) else quote(
            value, safe="/" if converter == "path" else "")

    return VARIABLE.sub(fill, rule)


def _form(forms, names):
    return st.fixed_dictionaries({"data": _mutated(forms, names),
                                  "content_type": st.sampled_from(FORM_TYPES)})


def _objects(value):
    """Every JSON object inside `value`, itself included."""
    if isinstance(value, dict):
        yield value
        value = list(value.values())
    for child in value if isinstance(value, list) else ():
        yield from _objects(child)


@st.composite
def _json_mutated(draw, templates):
    """One of `templates` with one member of one of its objects replaced or added."""
    body = copy.deepcopy(draw(st.sampled_from(templates)))
    target = draw(st.sampled_from(list(_objects(body))))
    target[draw(usually(st.sampled_from(sorted(target)), st.text(max_size=8)))] = draw(
        JSON_VALUES | TEXTS)
    return body


def _json(templates):
    """Usually what our script sends here, altered; else any JSON value or deep nesting."""
    other = st.fixed_dictionaries({"json": JSON_VALUES}) | st.just({"data": DEEP_JSON})
    if templates:
        other = usually(st.fixed_dictionaries({"json": _json_mutated(templates)}), other)
    return st.tuples(other, st.sampled_from(RAW_TYPES)).map(
        lambda pair: {**pair[0], "content_type": pair[1]})


def _bodies(forms, json_templates, names):
    """Usually what the app's pages or scripts send here (altered), if anything; else a
    form, JSON, garbage bytes or nothing."""
    raw = st.builds(lambda data, kind: {"data": data, "content_type": kind},
                    st.binary(max_size=200), st.sampled_from(RAW_TYPES))
    other = st.one_of(st.just({}), _form(forms, names), _json(json_templates), raw)
    if forms:
        return usually(_form(forms, names), other)
    return usually(_json(json_templates), other) if json_templates else other


HEADERS = st.fixed_dictionaries({}, optional={
    "Host": st.sampled_from(HOSTS) | _HEADER_TEXT,
    "Accept-Language": st.sampled_from(LANGUAGES) | _HEADER_TEXT,
    "Authorization": st.sampled_from([f"Bearer {MARK}token", "Bearer", "Basic eDp5"])
    | _HEADER_TEXT,
    "Origin": _HEADER_TEXT, "Stripe-Signature": _HEADER_TEXT,
    "User-Agent": st.sampled_from(["Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0", ""])
    | _HEADER_TEXT,
    "DNT": st.sampled_from(["1", "0"]),
})
COOKIE_VALUES = st.dictionaries(st.sampled_from(COOKIES),
                                TEXTS.filter(lambda v: "\x00" not in v), max_size=3)


def requests(rule, method, endpoint, seen, field_names):
    """Everything of one request to `rule` but the seed's values: path, query, body, headers,
    cookies. Queries start from the links pages show (`seen.queries`), bodies from their
    forms (`seen.forms`) or what our scripts send; GETs carry no body."""
    body = st.just({}) if method == "GET" else _bodies(
        seen.forms, SCRIPT_JSON.get(endpoint), field_names)
    return st.fixed_dictionaries({
        "path": _path(rule), "query": _mutated(seen.queries, QUERY_NAMES), "body": body,
        "headers": HEADERS, "cookies": COOKIE_VALUES})


# ---------------------------------------------------------------- what the app's pages show


def form_field_names(app):
    """Every field name of the app's forms, nested ones included (variants-0-heading...)."""
    from flask_wtf import FlaskForm

    def classes(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from classes(sub)

    def names(form_field):
        if hasattr(form_field, "__iter__") and not hasattr(form_field, "choices"):
            for sub in form_field:
                yield from names(sub)
        else:
            yield form_field.name

    with app.test_request_context():
        return {name for cls in classes(FlaskForm)
                for form_field in cls(meta={"csrf": False}) for name in names(form_field)}


def _submissions(form):
    """What the form sends, its empty required fields typed in: as is (Enter, or an unnamed
    button), and once per named button."""
    typed = {el.name: TYPED.get(el.get("type") or "text", "") for el in form.inputs
             if el.name and el.get("required") is not None and not el.value}
    values = tuple((name, value or typed.get(name, "")) for name, value in form.form_values())
    buttons = [(b.get("name"), b.get("value", "")) for b in form.xpath(".//button[@name]")]
    return [values, *(values + (button,) for button in buttons)]


class Seen:
    """The links and forms the app's pages show, for one endpoint."""

    def __init__(self, queries=(), forms=()):
        self.queries, self.forms = sorted(queries), sorted(forms)


def _endpoint(adapter, url, method):
    try:
        return adapter.match(urlsplit(url).path, method=method)[0]
    except (HTTPException, RequestRedirect):  # not a route of ours
        return None


def _harvest(adapter, page, url, found):
    doc = lxml.html.fromstring(page)
    for href in doc.xpath("//a/@href"):
        if endpoint := _endpoint(adapter, href, "GET"):
            query = tuple(parse_qsl(urlsplit(href).query))
            found.setdefault(endpoint, Seen()).queries.append(query)
    for form in doc.forms:
        method = (form.method or "GET").upper()
        if endpoint := _endpoint(adapter, form.action or url, method):
            seen = found.setdefault(endpoint, Seen())
            if method == "GET":
                seen.queries.extend(_submissions(form))
            else:
                seen.forms.extend(_submissions(form))


def seen_on_pages(app, client, urls):
    """{endpoint: Seen}: the links and forms on these pages, by the view they lead to."""
    adapter, found = app.url_map.bind("localhost"), {}
    for url in urls:
        response = client.get(url, buffered=True)  # streamed CSVs are read (and closed) too
        if response.status_code == 200 and response.mimetype == "text/html":
            _harvest(adapter, response.get_data(as_text=True), url, found)
    for endpoint, queries in SCRIPT_QUERIES.items():
        found.setdefault(endpoint, Seen()).queries.extend(tuple(q.items()) for q in queries)
    return {endpoint: Seen(set(s.queries), set(s.forms)) for endpoint, s in found.items()}


def concrete_urls(rule, known):
    """The rule once per known id, its variables filled with that id or the story's slug."""
    return [VARIABLE.sub(lambda m, i=i: str(known[i]) if m.group(1) == "id"
                         else known["story"], rule) for i in KNOWN_FOR["id"]]
