"""Reading story files (JSON, Markdown with front matter, HTML, RSS/Atom) into StoryRecords.

The parsers (python-frontmatter, Markdown, lxml, feedparser) are imported by the reader
that needs them: only `flask stories import` and `flask seed` read files, and every web
worker imports this module (through the CLI it registers), where they would only take memory.
"""
import json
from calendar import timegm
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from supportapp.extensions import db
from supportapp.services.stories import StoryError, StoryRecord, upsert_story

FEED_SUFFIXES = {".xml", ".rss", ".atom", ".feed"}


class ImportFileError(Exception):
    """A file that cannot be imported; carries the path and, where known, the line."""

    def __init__(self, path, message, line=None):
        self.path, self.message, self.line = str(path), message, line
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {message}")


@dataclass
class ImportResult:
    path: str
    created: int = 0
    updated: int = 0
    error: ImportFileError | None = None


def parse_datetime(value, path, field="published"):
    """ISO 8601 text, a date or a datetime -> an aware UTC datetime."""
    if value in (None, ""):
        return datetime.now(UTC)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ImportFileError(path, f"'{field}' is not an ISO 8601 date: {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _record_from_mapping(data, path, where=""):
    if not isinstance(data, dict):
        raise ImportFileError(path, f"{where}expected an object with story fields")
    body = data.get("body_html", data.get("body"))
    fields = {
        "title": data.get("title"),
        "body_html": body,
        "slug": data.get("slug") or "",
        "standfirst": data.get("standfirst") or data.get("summary") or "",
        "byline": data.get("byline") or data.get("author") or "",
        "section": data.get("section") or "",
        "published_at": parse_datetime(data.get("published") or data.get("date"), path),
        "source_url": data.get("source_url") or data.get("url") or None,
        "appeal_disabled": bool(data.get("appeal_disabled", False)),
    }
    for name in ("title", "body_html", "slug", "standfirst", "byline", "section"):
        if fields[name] is not None and not isinstance(fields[name], str):
            raise ImportFileError(path, f"{where}field '{name}' must be text")
    return StoryRecord(**fields)


def read_json(path, text):
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFileError(path, f"malformed JSON: {exc.msg}", exc.lineno) from exc
    if isinstance(data, dict) and isinstance(data.get("stories"), list):
        data = data["stories"]
    items = data if isinstance(data, list) else [data]
    if len(items) == 1:
        return [_record_from_mapping(items[0], path)]
    return [_record_from_mapping(item, path, f"story #{i + 1}: ") for i, item in enumerate(items)]


def read_markdown(path, text):
    import frontmatter  # deferred: see the module docstring
    import markdown
    import yaml

    try:
        post = frontmatter.loads(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ImportFileError(path, "malformed front matter", line) from exc
    data = dict(post.metadata)
    if post.content.strip():
        data["body_html"] = markdown.markdown(post.content, extensions=["extra"])
    return [_record_from_mapping(data, path)]


def _meta(doc, *names):
    for name in names:
        found = doc.xpath(f'//meta[@name="{name}" or @property="{name}"]/@content')
        if found and found[0].strip():
            return found[0].strip()
    return ""


def read_html(path, text):
    import lxml.html  # deferred: see the module docstring

    try:
        doc = lxml.html.document_fromstring(text)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise ImportFileError(path, f"malformed HTML: {exc}") from exc
    h1 = doc.find(".//h1")
    title = _meta(doc, "og:title") or (h1.text_content().strip() if h1 is not None else "")
    title = title or (doc.findtext(".//title") or "").strip()
    container = doc.find(".//article") if doc.find(".//article") is not None else doc.body
    if h1 is not None and h1.getparent() is not None:
        h1.getparent().remove(h1)
    body = "".join(lxml.html.tostring(child, encoding="unicode") for child in container)
    canonical = doc.xpath('//link[@rel="canonical"]/@href')
    data = {
        "title": title,
        "body_html": body,
        "slug": _meta(doc, "slug"),
        "standfirst": _meta(doc, "description", "og:description"),
        "byline": _meta(doc, "author"),
        "section": _meta(doc, "section", "article:section"),
        "published": _meta(doc, "article:published_time", "published"),
        "source_url": canonical[0] if canonical else None,
    }
    return [_record_from_mapping(data, path)]


def _feed_entry_record(entry, path, index):
    import lxml.html  # deferred: see the module docstring

    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    published = datetime.fromtimestamp(timegm(parsed), UTC) if parsed else None
    content = entry.get("content")
    body = content[0].get("value") if content else entry.get("summary")
    tags = entry.get("tags") or []
    summary = entry.get("summary", "")
    standfirst = lxml.html.fromstring(summary).text_content().strip() if summary else ""
    data = {
        "title": entry.get("title"),
        "body_html": body,
        "standfirst": standfirst if content else "",
        "byline": entry.get("author", ""),
        "section": tags[0].get("term", "") if tags else "",
        "published": published,
        "source_url": entry.get("link") or entry.get("id"),
    }
    return _record_from_mapping(data, path, f"entry #{index + 1}: ")


def read_feed(path, text):
    import feedparser  # deferred: see the module docstring

    feed = feedparser.parse(text)
    error = feed.get("bozo_exception")
    if feed.get("bozo") and not isinstance(error, feedparser.CharacterEncodingOverride):
        line = error.getLineNumber() if hasattr(error, "getLineNumber") else None
        raise ImportFileError(path, f"malformed feed: {error}", line)
    if not feed.entries:
        raise ImportFileError(path, "feed has no entries")
    return [_feed_entry_record(entry, path, i) for i, entry in enumerate(feed.entries)]


def read_story_file(path):
    """Parse one file into StoryRecords, choosing the format by suffix (or content for feeds)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFileError(path, f"cannot read file: {exc}") from exc
    suffix = path.suffix.lower()
    if suffix == ".json":
        return read_json(path, text)
    if suffix in {".md", ".markdown"}:
        return read_markdown(path, text)
    if suffix in FEED_SUFFIXES or text.lstrip().startswith(("<?xml", "<rss", "<feed")):
        return read_feed(path, text)
    if suffix in {".html", ".htm"}:
        return read_html(path, text)
    raise ImportFileError(path, f"unknown file type {suffix!r} (json, md, html, rss, atom, xml)")


def _upsert_one(record, path, index, total):
    try:
        return upsert_story(record)[1]
    except StoryError as exc:
        where = f"story #{index + 1}: " if total > 1 else ""
        raise ImportFileError(path, f"{where}{exc}") from exc


def import_story_file(path):
    """Import every story in one file in one transaction: all of it is written, or none."""
    result = ImportResult(str(path))
    try:
        records = read_story_file(path)
        for index, record in enumerate(records):
            created = _upsert_one(record, path, index, len(records))
            result.created += created
            result.updated += not created
        db.session.commit()
    except ImportFileError as exc:
        db.session.rollback()
        result.error = exc
        result.created = result.updated = 0
    except SQLAlchemyError as exc:
        db.session.rollback()
        result.error = ImportFileError(path, f"could not store: {exc.__class__.__name__}")
        result.created = result.updated = 0
    return result
