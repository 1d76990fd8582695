"""Plain text and scraped pages: a title line, a header (date, author, captions), then the body."""

from __future__ import annotations

import re

from embeddings.boilerplate import Dropped, clean_lines, is_heading_like, line_rule
from embeddings.documents.metadata import date_line, named_outlet, source_from_url, split_title_suffix
from embeddings.documents.model import Document, UnreadableFile, _paragraphs
from embeddings.textnorm import clean_spaces, split_sentences


_HEADER_SCAN = 8
NEWS_LINE = 20  # characters


def read_text(text: str, doc_id: str, rel_path: str, sha: str, notes: list[str],
              meta: dict | None = None, shape: str | None = None,
              headings: frozenset[str] | None = None) -> Document:
    """Title line, then a header (date, author, counters, subtitle, captions), then the body. A page's reader
    gives the `headings` its markup shows and has cleaned the lines with the page's links in view already;
    plain text has its boilerplate and headings told by the lines' own look."""
    meta = dict(meta or {})
    lines = [clean_spaces(line) for line in text.split("\n")]
    lines = [line for line in lines if line]
    if not lines:
        raise UnreadableFile("no text lines")
    title = meta.get("title")
    if not title and reads_as_news(lines[0]):
        # No headline: the first line is news, and stays quotable; its first sentence names the document.
        a, b = split_sentences(lines[0])[0]
        title = lines[0][a:b]
    elif not title:
        title, lines = lines[0], lines[1:]
    title, site = split_title_suffix(title)
    dropped: list[Dropped] = []
    date = meta.get("date")
    author = meta.get("author")
    subtitle: str | None = None

    # The header runs until the first line that reads as news. A date counts only there, and
    # only if no photo credit is beside it: dates next to credits belong to captions.
    body_start = 0
    header_rules = []
    for k, line in enumerate(lines[:_HEADER_SCAN]):
        rule = line_rule(line)
        header_rules.append(rule)
        if rule is None and date_line(line) is None and not _is_author_line(line):
            if k == 0 and len(line) > 12 and _header_follows(lines, k + 1):
                body_start = k + 1  # a subtitle above the page furniture: decided below
                continue
            break
        body_start = k + 1
    for k in range(body_start):
        line = lines[k]
        d = date_line(line)
        near_credit = any(
            line_rule(lines[j]) == "credit" for j in (k - 1, k + 1, k + 2) if 0 <= j < len(lines)
        )
        if d and not near_credit and date is None:
            date = d
            dropped.append(Dropped(line, "dateline"))
        elif d and near_credit:
            dropped.append(Dropped(line, "caption"))
        elif header_rules[k] is not None:
            dropped.append(Dropped(line, header_rules[k]))
        elif k == 0 and _header_follows(lines, 1) and not _is_author_line(line):
            subtitle = line
        elif _is_author_line(line) and author is None:
            author = re.sub(r"^(作者|文|记者|記者|撰文|by)\s*[:：|/]?\s*", "", line, flags=re.I)
            dropped.append(Dropped(line, "byline"))
        else:
            dropped.append(Dropped(line, "header"))
    body_lines, body_dropped = (lines[body_start:], []) if headings is not None else clean_lines(lines[body_start:])
    dropped.extend(body_dropped)

    items: list[tuple[str, str | None, str]] = []
    if subtitle:
        items.append((subtitle, None, "subtitle"))
    section: str | None = None
    for k, line in enumerate(body_lines):
        nxt = body_lines[k + 1] if k + 1 < len(body_lines) else None
        if (line in headings) if headings is not None else is_heading_like(line.rstrip("?？")):
            if nxt is None:
                dropped.append(Dropped(line, "trailing_heading"))
            else:
                section = line
            continue
        items.append((line, section, "body"))
    if date is None:
        notes.append("no publication date found; date unknown")
    kind = shape or ("scraped-page" if any(d.rule not in {"dateline"} for d in dropped) else "plain-text")
    return Document(
        id=doc_id,
        path=rel_path,
        shape=kind,
        title=title,
        date=date,
        url=meta.get("url"),
        author=author,
        source=meta.get("source") or site or source_from_url(meta.get("url"))
        or next((o for o in (named_outlet(d.text) for d in dropped if d.rule == "attribution") if o), None),
        paragraphs=_paragraphs(items),
        dropped=tuple(dropped),
        sha256=sha,
    )


def reads_as_news(line: str) -> bool:
    """A first line that ends a sentence and is long for a headline: the article's opening, not its title."""
    return len(line) >= NEWS_LINE and line.rstrip("”」’\"）)").endswith(("。", "！", "？", "!", "?"))


def _is_author_line(line: str) -> bool:
    s = line.strip()
    if re.match(r"^(作者|文|记者|記者|撰文|by)\s*[:：|/]", s, re.I):
        return True
    # A lone short name-like line in the header (no punctuation, no digits).
    return 1 < len(s) <= 12 and not re.search(r"[\d，。,.!?！？:：、|/]", s) and " " not in s.strip()


def _header_follows(lines: list[str], k: int) -> bool:
    """True if header furniture (a date, credit, caption, promo) comes within the next lines."""
    for line in lines[k:k + 3]:
        if date_line(line) or line_rule(line) in {"credit", "caption", "promo", "counter", "timestamp"}:
            return True
        if re.match(r"^\d{4}\s+\d{1,2}\s+\d{1,2}$", line):
            return True
    return False
