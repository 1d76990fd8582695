"""JSON news-API articles and crawler records (one object, or an array of them) → Documents."""

from __future__ import annotations

import json
import re
from typing import Any, Iterable

from embeddings.boilerplate import Dropped, is_heading_like
from embeddings.documents.metadata import parse_date, source_from_url, strip_html
from embeddings.documents.model import Document, UnreadableFile, _classify_paragraphs, _paragraphs
from embeddings.textnorm import clean_spaces, strip_controls


_TITLE_KEYS = ("name", "title", "headline")
_DATE_KEYS = ("displayDate", "publishedAt", "published_at", "datePublished", "pubDate", "date", "publishDate",
              "firstPublishedDate", "publish_time", "publishTime", "pub_time", "pubtime", "release_time", "post_time",
              "time", "datetime", "ctime", "created_at", "lastModifiedDate")  # a crawler's names after the APIs'
_SOURCE_KEYS = ("source", "src", "publisher", "media", "site_name", "siteName", "outlet")
_URL_KEYS = ("permaLink", "canonicalUrl", "url", "link", "webUrl", "shareUrl")
_BODY_KEYS = ("body", "content", "articleBody", "text", "html")
_HEADING_TYPES = {"heading", "header", "subheadline", "subheading", "title", "h2", "h3"}
_TEXT_TYPES = {"paragraph", "text", "p", "quote", "blockquote", "listitem"}


def read_json(text: str, doc_id: str, rel_path: str, sha: str, notes: list[str]) -> list[Document]:
    try:
        data = json.loads(text)
    except RecursionError:
        raise UnreadableFile("JSON nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise UnreadableFile(f"invalid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    articles: list[tuple[str, dict]]
    if isinstance(data, dict) and isinstance(data.get("articles") or data.get("items"), list):
        data = data.get("articles") or data.get("items")
    if isinstance(data, list):
        articles = [(f"{doc_id}#{i}", a) for i, a in enumerate(data) if isinstance(a, dict)]
    elif isinstance(data, dict):
        articles = [(doc_id, data)]
    else:
        raise UnreadableFile("JSON is not an article object")
    docs = []
    for aid, art in articles:
        doc = _json_article(art, aid, rel_path, sha)
        if doc is None:
            notes.append(f"JSON object {aid!r} has no title or body; skipped")
            continue
        docs.append(doc)
    if not docs:
        raise UnreadableFile("JSON holds no article (no title and body found)")
    return docs


def _first(d: dict, keys: Iterable[str]) -> Any:
    for k in keys:
        v = d.get(k)
        if v not in (None, "", [], {}):
            return v
    return None


def _authors(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return clean_spaces(value) or None
    if isinstance(value, dict):
        return _authors(value.get("name"))
    if isinstance(value, list):
        names = [n for n in (_authors(v) for v in value) if n]
        return "、".join(names) or None
    return None


def _json_article(art: dict, doc_id: str, rel_path: str, sha: str) -> Document | None:
    title = _first(art, _TITLE_KEYS)
    title = strip_controls(strip_html(title)) if isinstance(title, str) else None
    dropped: list[Dropped] = []
    items: list[tuple[str, str | None, str]] = []
    teaser = _first(art, ("teaser", "summary", "description", "abstract", "lead"))
    if isinstance(teaser, str) and strip_html(teaser):
        items.append((strip_html(teaser), None, "summary"))
    body = _first(art, _BODY_KEYS)
    section: str | None = None
    if isinstance(body, list):
        for block in body:
            kind, text = _json_block(block)
            if kind == "heading":
                section = text
            elif kind == "text":
                items.append((text, section, "body"))
            elif kind == "media":
                dropped.append(Dropped(text, "media"))
    elif isinstance(body, str):
        for kind, text in _html_blocks(body):
            if kind == "heading":
                section = text
            else:
                items.append((text, section, "body"))
    if not title or len(items) == 0:
        return None
    items = _classify_paragraphs(items, dropped)
    url = _first(art, _URL_KEYS)
    url = url if isinstance(url, str) and url.startswith(("http://", "https://")) else None
    named = _first(art, _SOURCE_KEYS)
    source = clean_spaces(strip_html(named)) or None if isinstance(named, str) else _authors(named)
    tags = art.get("tags") or art.get("keywords") or []
    return Document(
        id=doc_id,
        path=rel_path,
        shape="json-article",
        title=title,
        date=parse_date(_first(art, _DATE_KEYS)),
        url=url,
        author=_authors(_first(art, ("authors", "author", "byline", "creator"))),
        source=source or source_from_url(url),
        paragraphs=_paragraphs(items),
        dropped=tuple(dropped),
        tags=tuple(str(t) for t in tags if isinstance(t, (str, int))) if isinstance(tags, list) else (),
        sha256=sha,
    )


def _json_block(block: Any) -> tuple[str, str]:
    """One body item → ('text'|'heading'|'media'|'skip', text)."""
    if isinstance(block, str):
        return _html_kind(block)
    if not isinstance(block, dict):
        return "skip", ""
    content = block.get("content", block)
    if isinstance(content, str):
        return _html_kind(content)
    if not isinstance(content, dict):
        return "skip", ""
    ctype = str(content.get("type", "paragraph")).lower()
    if ctype in _HEADING_TYPES:
        return "heading", strip_html(str(content.get("text", "")))
    if ctype in _TEXT_TYPES and isinstance(content.get("text"), str):
        return _html_kind(content["text"])
    label = content.get("name") or content.get("caption") or content.get("title") or ctype
    return "media", f"[{ctype}] {strip_html(str(label))}"


def _html_kind(fragment: str) -> tuple[str, str]:
    text = strip_html(fragment)
    if not text:
        return "skip", ""
    # A paragraph that is nothing but bold text is a section title in these APIs.
    bare = re.sub(r"\s+", "", fragment)
    if re.fullmatch(r"(<(strong|b|h\d)>.*</(strong|b|h\d)>)+", bare, re.S) and is_heading_like(text.rstrip("？?")):
        return "heading", text
    return "text", text


def _html_blocks(fragment: str) -> list[tuple[str, str]]:
    """A record's body as text: lines of plain text, or the blocks and <br>-separated runs of HTML."""
    from embeddings.documents.html import html_lines

    if "<" not in fragment:
        return [("text", clean_spaces(p)) for p in re.split(r"\n\s*\n|\n", fragment) if p.strip()]
    return [("heading" if line.heading else "text", line.text) for line in html_lines(fragment)
            if not line.caption]
