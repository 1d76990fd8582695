"""Seed files → Documents: decoding, shape detection, and one reader per shape."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlparse

from embeddings.boilerplate import Dropped, clean_lines, is_heading_like, line_rule
from embeddings.textnorm import clean_spaces, cjk_ratio, normalize, split_sentences, strip_controls

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 10 * 1024 * 1024
SEED_SUFFIXES = {".txt", ".json", ".md", ".markdown", ".html", ".htm", ""}


class UnreadableFile(Exception):
    """A seed file that cannot be turned into a document; the message says why."""


@dataclass(frozen=True)
class Paragraph:
    """One quotable paragraph: its exact text (markup removed) and sentence spans into it."""

    index: int
    text: str
    section: str | None
    sentences: tuple[tuple[int, int], ...]
    kind: str = "body"  # body | summary | subtitle | table_row

    @property
    def sentence_texts(self) -> tuple[str, ...]:
        return tuple(self.text[a:b] for a, b in self.sentences)

    @property
    def norm(self) -> str:
        return normalize(self.text)


@dataclass(frozen=True)
class Document:
    id: str
    path: str
    shape: str
    title: str
    date: str | None
    url: str | None
    author: str | None
    source: str | None
    paragraphs: tuple[Paragraph, ...]
    dropped: tuple[Dropped, ...] = ()
    tags: tuple[str, ...] = ()
    sha256: str = ""
    notes: tuple[str, ...] = ()

    @property
    def sentence_count(self) -> int:
        return sum(len(p.sentences) for p in self.paragraphs)


@dataclass(frozen=True)
class LoadWarning:
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(frozen=True)
class Corpus:
    documents: tuple[Document, ...]
    warnings: tuple[LoadWarning, ...] = field(default=())


# ---------------------------------------------------------------------------------------------
# Reading the corpus


def seed_files(seeds_dir: Path) -> list[Path]:
    """The files of a seeds folder that may be documents, in a stable order."""
    files = []
    for p in sorted(seeds_dir.rglob("*")):
        if not p.is_file() or any(part.startswith(".") for part in p.relative_to(seeds_dir).parts):
            continue
        if p.suffix.lower() in SEED_SUFFIXES:
            files.append(p)
    return files


def load_corpus(seeds_dir: Path, max_bytes: int = MAX_FILE_BYTES) -> Corpus:
    """Read every seed file; a file that cannot be read is skipped with a warning naming it."""
    seeds_dir = Path(seeds_dir)
    docs: list[Document] = []
    warnings: list[LoadWarning] = []
    for path in seed_files(seeds_dir):
        loaded, notes = read_file(seeds_dir, path.relative_to(seeds_dir).as_posix(), max_bytes)
        docs.extend(loaded)
        warnings.extend(notes)
    return Corpus(tuple(docs), tuple(warnings))


def read_file(seeds_dir: Path, rel: str, max_bytes: int = MAX_FILE_BYTES) -> tuple[list[Document], list[LoadWarning]]:
    """One seed file → its documents and warnings; never raises for a bad file, it warns instead."""
    try:
        data = (Path(seeds_dir) / rel).read_bytes()
        loaded, notes = read_document(data, rel, max_bytes=max_bytes)
    except UnreadableFile as exc:
        log.warning("skipped %s: %s", rel, exc)
        return [], [LoadWarning(rel, f"skipped: {exc}")]
    except OSError as exc:
        return [], [LoadWarning(rel, f"skipped: cannot read file ({exc.strerror or exc})")]
    except Exception as exc:  # a reader bug must not take the whole corpus down
        log.exception("reader failed on %s", rel)
        return [], [LoadWarning(rel, f"skipped: unexpected {type(exc).__name__}: {exc}")]
    return loaded, [LoadWarning(rel, note) for note in notes]


def read_document(data: bytes, rel_path: str, max_bytes: int = MAX_FILE_BYTES) -> tuple[list[Document], list[str]]:
    """Bytes of one file → its documents (usually one) and notes worth a warning."""
    if not data.strip():
        raise UnreadableFile("empty file")
    if len(data) > max_bytes:
        raise UnreadableFile(f"too large ({len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB)")
    text = decode(data)
    sha = hashlib.sha256(data).hexdigest()
    doc_id = rel_path
    suffix = Path(rel_path).suffix.lower()
    body = text.lstrip("\ufeff \t\r\n")
    notes: list[str] = []
    if body.startswith(("{", "[")):
        docs = read_json(body, doc_id, rel_path, sha, notes)
    elif body.startswith("---") and re.match(r"---\s*\n", body):
        docs = [read_markdown(body, doc_id, rel_path, sha, notes)]
    elif suffix in {".md", ".markdown"} or _looks_like_markdown(body):
        docs = [read_markdown(body, doc_id, rel_path, sha, notes)]
    elif suffix in {".html", ".htm"} or re.search(r"<(html|body|article)\b", body[:5000], re.I):
        docs = [read_html(body, doc_id, rel_path, sha, notes)]
    else:
        docs = [read_text(body, doc_id, rel_path, sha, notes)]
    kept = []
    for doc in docs:
        if not doc.paragraphs:
            notes.append(f"skipped document {doc.id!r}: no paragraphs left after cleaning")
            continue
        kept.append(doc)
    if not kept:
        raise UnreadableFile("no readable paragraphs")
    return kept, notes


def decode(data: bytes) -> str:
    """Bytes → text, detecting the encoding (UTF-8, GB18030/GBK, Big5, UTF-16 …)."""
    import charset_normalizer

    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif not data.startswith((b"\xff\xfe", b"\xfe\xff")) and b"\x00" in data[:65536]:
        raise UnreadableFile("binary file (contains NUL bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        best = charset_normalizer.from_bytes(data).best()
        text = str(best) if best is not None else _chinese_fallback(data)
        if text is None:
            raise UnreadableFile("not text: no encoding fits (binary file?)") from None
        # A Chinese news file decoded as a Western code page comes out as Latin mojibake;
        # prefer the Chinese encodings when one of them also fits.
        if cjk_ratio(text) < 0.05:
            cjk = charset_normalizer.from_bytes(
                data, cp_isolation=["gb18030", "big5", "big5hkscs", "utf_16", "euc_jp", "euc_kr"]
            ).best()
            if cjk is not None and cjk_ratio(str(cjk)) > 0.2:
                text = str(cjk)
    text = strip_controls(text.replace("\r\n", "\n").replace("\r", "\n"))
    if not text.strip():
        raise UnreadableFile("no text after decoding")
    printable = sum(1 for c in text if c.isprintable() or c in "\n\t")
    if printable / len(text) < 0.9:
        raise UnreadableFile("not text: mostly unprintable characters (binary file?)")
    return text


def _chinese_fallback(data: bytes) -> str | None:
    """The Chinese encodings the detector may miss: GB18030 or Big5 that fit the bytes, else the one with the
    fewest broken characters when they are rare (a saved page cut inside a character here and there)."""
    tries = []
    for encoding in ("gb18030", "big5"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            text = data.decode(encoding, errors="replace")
            tries.append((text.count("\ufffd"), text))
    broken, text = min(tries, key=lambda t: t[0])
    return text if broken <= max(3, len(data) // 2000) and cjk_ratio(text) > 0.2 else None


def _looks_like_markdown(text: str) -> bool:
    head = text[:20000]
    atx = len(re.findall(r"^#{1,6}\s+\S", head, re.M))
    setext = len(re.findall(r"^\S.*\n[-=]{4,}\s*$", head, re.M))
    table = len(re.findall(r"^\|.*\|\s*$", head, re.M))
    return atx + setext >= 2 or (atx + setext >= 1 and table >= 2)


# ---------------------------------------------------------------------------------------------
# Metadata helpers

_DATE_PATTERNS = [
    (re.compile(r"(?<!\d)(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})(?!\d)"), "ymd"),
    (re.compile(r"(?<!\d)(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"), "ymd"),
    (re.compile(r"(?<!\d)(\d{1,2})/(\d{1,2})/(\d{4})(?!\d)"), "dmy"),
]
_DATE_LINE_EXTRA = re.compile(
    r"^(发布时间|发表时间|发布日期|日期|時間|时间|更新|更新时间|發布時間|發佈時間|published|updated|date)?\s*[:：]?\s*"
)


def parse_date(value: Any) -> str | None:
    """Any common date form (ISO, 2025年7月19日, 29/01/2026, a date object) → ISO date, or None."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    s = str(value).strip()
    for pattern, order in _DATE_PATTERNS:
        m = pattern.search(s)
        if not m:
            continue
        a, b, c = (int(x) for x in m.groups())
        if order == "ymd":
            y, mo, d = a, b, c
        else:
            # Day first unless that is impossible: the sources here are not American.
            y, d, mo = c, a, b
            if mo > 12 and d <= 12:
                d, mo = mo, d
        try:
            return dt.date(y, mo, d).isoformat()
        except ValueError:
            continue
    return None


def date_line(line: str) -> str | None:
    """The ISO date if the whole line is a publication date (optionally with a label or a time)."""
    s = clean_spaces(line)
    if len(s) > 48:
        return None
    rest = _DATE_LINE_EXTRA.sub("", s, count=1)
    date = parse_date(rest)
    if date is None:
        return None
    leftover = re.sub(r"[\d\s:：年月日/.\-TZ+]|(上午|下午|am|pm)", "", rest, flags=re.I)
    return date if len(leftover) <= 12 else None


def source_from_url(url: str | None) -> str | None:
    if not url:
        return None
    host = urlparse(url).netloc.lower()
    host = re.sub(r"^(www|p|m|api|news)\.", "", host)
    return host or None


def split_title_suffix(title: str) -> tuple[str, str | None]:
    """'Headline | Site' → ('Headline', 'Site'); the suffix is the publisher, not the title."""
    m = re.match(r"^(.*\S)\s+[|｜]\s+([^|｜]{1,30})$", title.strip())
    if m and len(m.group(1)) >= 4:
        return m.group(1).strip(), m.group(2).strip()
    return title.strip(), None


def strip_html(fragment: str) -> str:
    """HTML fragment → its text (tags removed, entities decoded), whitespace collapsed."""
    from bs4 import BeautifulSoup

    if "<" not in fragment and "&" not in fragment:
        return clean_spaces(fragment)
    text = BeautifulSoup(fragment, "html.parser").get_text()
    return clean_spaces(html.unescape(text))


def _paragraphs(items: Iterable[tuple[str, str | None, str]]) -> tuple[Paragraph, ...]:
    """(text, section, kind) → Paragraphs with sentence spans; blank texts are skipped."""
    out: list[Paragraph] = []
    for text, section, kind in items:
        text = strip_controls(text).strip()  # JSON escapes (\u0000) decode after the file-level pass
        if not text:
            continue
        out.append(Paragraph(len(out), text, section, split_sentences(text), kind))
    return tuple(out)


def _classify_paragraphs(
    items: list[tuple[str, str | None, str]], dropped: list[Dropped]
) -> list[tuple[str, str | None, str]]:
    kept = []
    for text, section, kind in items:
        rule = line_rule(text)
        if rule is not None and rule != "link_list":
            dropped.append(Dropped(text, rule))
        else:
            kept.append((text, section, kind))
    return kept


# ---------------------------------------------------------------------------------------------
# JSON news-API articles

_TITLE_KEYS = ("name", "title", "headline")
_DATE_KEYS = ("displayDate", "publishedAt", "published_at", "datePublished", "pubDate", "date", "publishDate",
              "firstPublishedDate", "lastModifiedDate", "created_at")
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
    source = art.get("source") if isinstance(art.get("source"), str) else None
    if isinstance(art.get("source"), dict):
        source = _authors(art["source"])
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
    from bs4 import BeautifulSoup

    if "<" not in fragment:
        return [("text", clean_spaces(p)) for p in re.split(r"\n\s*\n|\n", fragment) if p.strip()]
    soup = BeautifulSoup(fragment, "html.parser")
    out = []
    for el in soup.find_all(["p", "h1", "h2", "h3", "h4", "li", "blockquote"]):
        if el.find_parent(["p", "li", "blockquote"]) is not None:
            continue
        text = clean_spaces(el.get_text())
        if text:
            out.append(("heading" if el.name.startswith("h") else "text", text))
    return out


# ---------------------------------------------------------------------------------------------
# Markdown with (or without) YAML front matter


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


# ---------------------------------------------------------------------------------------------
# Plain text and scraped pages

_HEADER_SCAN = 8


def read_text(text: str, doc_id: str, rel_path: str, sha: str, notes: list[str],
              meta: dict | None = None, shape: str | None = None) -> Document:
    """Title line, then a header (date, author, counters, subtitle, captions), then the body."""
    meta = dict(meta or {})
    lines = [clean_spaces(line) for line in text.split("\n")]
    lines = [line for line in lines if line]
    if not lines:
        raise UnreadableFile("no text lines")
    title = meta.get("title")
    if not title:
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
    body_lines, body_dropped = clean_lines(lines[body_start:])
    dropped.extend(body_dropped)

    items: list[tuple[str, str | None, str]] = []
    if subtitle:
        items.append((subtitle, None, "subtitle"))
    section: str | None = None
    for k, line in enumerate(body_lines):
        nxt = body_lines[k + 1] if k + 1 < len(body_lines) else None
        if is_heading_like(line.rstrip("?？")):
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
        source=meta.get("source") or site or source_from_url(meta.get("url")),
        paragraphs=_paragraphs(items),
        dropped=tuple(dropped),
        sha256=sha,
    )


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


def read_html(text: str, doc_id: str, rel_path: str, sha: str, notes: list[str]) -> Document:
    """A saved web page: metadata from <head>, body text from the article's blocks."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "html.parser")

    def meta_content(*names: str) -> str | None:
        for name in names:
            el = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
            if el and el.get("content"):
                return clean_spaces(el["content"])
        return None

    title = meta_content("og:title", "twitter:title")
    if not title and soup.title and soup.title.string:
        title = clean_spaces(soup.title.string)
    h1 = soup.find("h1")
    if not title and h1:
        title = clean_spaces(h1.get_text())
    date = parse_date(meta_content("article:published_time", "pubdate", "publishdate", "date", "og:published_time"))
    if date is None:
        t = soup.find("time")
        if t is not None:
            date = parse_date(t.get("datetime") or t.get_text())
    canonical = soup.find("link", rel="canonical")
    url = meta_content("og:url") or (canonical.get("href") if canonical else None)
    author = meta_content("author", "article:author")
    for tag in soup(["script", "style", "noscript", "nav", "footer", "header", "aside", "form", "figure", "iframe", "svg"]):
        tag.decompose()
    root = soup.find("article") or soup.body or soup
    blocks = []
    for el in root.find_all(["p", "h2", "h3", "h4", "li", "blockquote", "div"]):
        if el.name == "div" and el.find(["p", "div", "h2", "h3", "li"]):
            continue
        if el.find_parent(["p", "li", "blockquote"]) is not None:
            continue
        line = clean_spaces(el.get_text())
        if line:
            blocks.append(line)
    if title and blocks and blocks[0] == title:
        blocks = blocks[1:]
    meta = {"title": title or (blocks[0] if blocks else None), "date": date, "url": url, "author": author}
    if not meta["title"]:
        raise UnreadableFile("HTML page without a title or text")
    return read_text("\n".join(blocks), doc_id, rel_path, sha, notes, meta=meta, shape="html-page")
