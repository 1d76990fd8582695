"""Markdown with (or without) YAML front matter → a Document."""

from __future__ import annotations

import re
from pathlib import Path

from embeddings.boilerplate import Dropped
from embeddings.documents.json_records import _authors
from embeddings.documents.metadata import parse_date, source_from_url, strip_html
from embeddings.documents.model import Document, UnreadableFile, _classify_paragraphs, _paragraphs
from embeddings.textnorm import clean_spaces


def read_markdown(text: str, doc_id: str, rel_path: str, sha: str, notes: list[str]) -> Document:
    import yaml
    from markdown_it import MarkdownIt

    meta: dict = {}
    body = text
    m = re.match(r"---\s*\n(.*?)\n---\s*(\n|$)", text, re.S)
    if m:
        body = text[m.end():]
        try:
            loaded = yaml.safe_load(m.group(1))
            if isinstance(loaded, dict):
                meta = loaded
            else:
                notes.append("front matter is not a mapping; metadata ignored")
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 2}" if mark else ""
            notes.append(f"broken front matter{where}; metadata ignored")
    elif text.startswith("---"):
        notes.append("front matter is not closed; read as plain Markdown")
        body = text[3:]
    else:
        notes.append("no front matter: title from the first heading, date unknown")

    md = MarkdownIt("commonmark").enable("table")
    try:
        tokens = md.parse(body)
    except RecursionError:
        raise UnreadableFile("Markdown nested too deeply") from None
    items: list[tuple[str, str | None, str]] = []
    dropped: list[Dropped] = []
    headings: list[tuple[int, str]] = []
    section: str | None = None
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "heading_open":
            text = _heading_text(_inline_text(tokens[i + 1]))
            headings.append((int(tok.tag[1]), text))
            section = text or section
            i += 3
            continue
        if tok.type == "paragraph_open":
            text = _inline_text(tokens[i + 1])
            if text:
                items.append((text, section, "body"))
            i += 3
            continue
        if tok.type == "table_open":
            j = i
            while tokens[j].type != "table_close":
                j += 1
            items.extend((row, section, "table_row") for row in _table_rows(tokens[i:j]))
            i = j + 1
            continue
        if tok.type in {"fence", "code_block"}:
            dropped.append(Dropped(tok.content.strip()[:200], "code"))
        elif tok.type == "html_block":
            text = strip_html(tok.content)
            if text:
                items.append((text, section, "body"))
        i += 1

    title = meta.get("title")
    title = clean_spaces(str(title)) if title else None
    if not title:
        h1 = [t for level, t in headings if level == 1]
        title = h1[0] if h1 else (headings[0][1] if headings else None)
        if title and items and items[0][1] == title:
            items = [(t, None if s == title else s, k) for t, s, k in items]
    if not title and items:
        title = items[0][0][:60]
    summary = meta.get("summary") or meta.get("description")
    if isinstance(summary, str) and summary.strip():
        items.insert(0, (clean_spaces(summary), None, "summary"))
    items = _classify_paragraphs(items, dropped)
    url = meta.get("source_url") or meta.get("url") or meta.get("link")
    url = str(url) if url and str(url).startswith(("http://", "https://")) else None
    tags = meta.get("tags") or []
    date = parse_date(meta.get("date") or meta.get("published") or meta.get("pubDate"))
    if meta.get("date") and date is None:
        notes.append(f"front matter date {meta.get('date')!r} not understood; date unknown")
    return Document(
        id=doc_id,
        path=rel_path,
        shape="markdown" if meta else "markdown-no-front-matter",
        title=title or Path(rel_path).stem,
        date=date,
        url=url,
        author=_authors(meta.get("author") or meta.get("authors")),
        source=(str(meta["source"]) if meta.get("source") else None) or source_from_url(url),
        paragraphs=_paragraphs(items),
        dropped=tuple(dropped),
        tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (),
        sha256=sha,
    )


def _heading_text(text: str) -> str:
    return re.sub(r"\s*\{#[^}]*\}\s*$", "", text).strip()


def _inline_text(inline) -> str:
    """An inline token's text with the markup (emphasis, links, images, <br />) removed."""
    parts: list[str] = []
    for child in inline.children or []:
        if child.type in {"text", "code_inline"}:
            parts.append(child.content)
        elif child.type in {"softbreak", "hardbreak"}:
            parts.append("\n")
        elif child.type == "html_inline":
            continue
        elif child.type == "image":
            continue
    text = "".join(parts)
    # Line breaks inside a Markdown paragraph are layout, not content: join CJK directly.
    text = re.sub(r"(?<=[^\x00-\x7f])\n(?=[^\x00-\x7f])", "", text)
    return clean_spaces(text)


def _table_rows(tokens) -> list[str]:
    """A Markdown table → one readable sentence per row: 'first cell：header value；header value。'"""
    rows: list[list[str]] = []
    header: list[str] = []
    current: list[str] | None = None
    in_head = False
    for tok in tokens:
        if tok.type == "thead_open":
            in_head = True
        elif tok.type == "thead_close":
            in_head = False
        elif tok.type == "tr_open":
            current = []
        elif tok.type == "inline" and current is not None:
            current.append(_inline_text(tok))
        elif tok.type == "tr_close" and current is not None:
            if in_head:
                header = current
            else:
                rows.append(current)
            current = None
    out = []
    for row in rows:
        cells = [c.rstrip("。.；; ") for c in row]
        if not any(cells):
            continue
        name, rest = cells[0], cells[1:]
        pairs = []
        for k, value in enumerate(rest, start=1):
            if not value:
                continue
            label = header[k] if k < len(header) else ""
            pairs.append(f"{label} {value}".strip())
        out.append(f"{name}：{'；'.join(pairs)}。" if pairs else f"{name}。")
    return out
