"""Saved web pages: the article's text by readability or trafilatura (a measured choice), and its metadata."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace

from embeddings.boilerplate import Dropped, is_prose, is_related_heading, line_rule
from embeddings.documents.dates import page_date
from embeddings.documents.metadata import named_outlet, page_title, source_from_url, strip_site_suffix
from embeddings.documents.model import Document, UnreadableFile
from embeddings.documents.text import read_text
from embeddings.textnorm import clean_spaces

SHORT_BODY = 200  # characters: readability kept next to nothing (a frameset, a forum's first post missed)
PROSE_RATIO = 3.0  # trafilatura's body wins when it holds this many times readability's text (plateau 3–4)
PROSE_LINE = 15  # characters
LINK_SHARE = 0.5  # a line mostly made of link text that does not read as news is a link, not the article
_BLOCKS = {"p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th", "blockquote", "section",
           "article", "table", "ul", "ol", "dd", "dt", "pre", "center", "header", "footer", "figure", "figcaption"}
_LINK = "\u2063"  # marks where link text starts and ends while the tree is flattened into lines
_PICTURE = "\u2064"  # stands for a picture in the flattened lines
_CAPTION_CLASS = re.compile(r"caption|pic-?txt|pic-?text|img-?desc|photo-?desc|picintro|img_txt|tutext", re.I)
CAPTION_CHARS = 40  # a phrase under a picture this short is what the picture shows
_SENTENCE_END = ("。", "！", "？", "!", "?", "…")


@dataclass(frozen=True)
class Line:
    """One line of a page's article text, and how much of it is link text."""

    text: str
    links: float = 0.0
    heading: bool = False
    caption: bool = False


def read_html(text: str, doc_id: str, rel_path: str, sha: str, notes: list[str]) -> Document:
    """A saved web page → a Document: the body the two extractors agree on or the one holding more news prose,
    cleaned by the boilerplate rules with the page's links in view; title, date, url and outlet from the page."""
    date = page_date(text)  # read with the crawler's wrapper: its title and url help place the dateline
    text, wrapper = unwrap(text)
    meta = page_meta(text)
    meta["date"] = date
    meta["url"] = meta["url"] or wrapper.get("url")
    meta["title"] = meta["title"] or wrapper.get("title")
    lines = article_lines(text)
    kept, dropped = clean_page_lines(lines)
    if meta["title"] and kept and clean_spaces(kept[0]) == meta["title"]:
        kept = kept[1:]
    if not meta["title"]:
        meta["title"] = kept[0] if kept else None
    if not meta["title"]:
        raise UnreadableFile("HTML page without a title or text")
    headings = frozenset(x.text for x in lines if x.heading)
    doc = read_text("\n".join(kept), doc_id, rel_path, sha, notes, meta=meta, shape="html-page", headings=headings)
    return replace(doc, dropped=tuple(dropped) + doc.dropped)


_WRAPPER = re.compile(r"""^\s*<([a-z][\w:-]*)((?:\s+[\w:-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*>""", re.I)
_ATTRIBUTE = re.compile(r"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_HTML_START = {"html", "head", "body", "meta", "title", "link", "script", "style", "div", "table", "p", "center",
               "form", "frameset", "base", "font", "span", "br", "a", "img"}


def unwrap(text: str) -> tuple[str, dict]:
    """A page a crawler saved inside an element of its own (<text id="URL" title="…">…</text>) → the page, and
    the url and title that element records; any other page as it is. The extractors lose a page so wrapped."""
    m = _WRAPPER.match(text)
    if not m or m.group(1).lower() in _HTML_START:
        return text, {}
    tag = m.group(1)
    body = re.sub(rf"</{re.escape(tag)}>\s*$", "", text[m.end():], flags=re.I)
    attrs = {k.lower(): a or b for k, a, b in _ATTRIBUTE.findall(m.group(2))}
    url = next((v for k, v in attrs.items() if k in ("id", "url", "href", "src") and v.startswith(("http://", "https://"))), None)
    out = {"url": url}
    if attrs.get("title"):
        out["title"] = strip_site_suffix(clean_spaces(attrs["title"]), None, source_from_url(url))[0]
    return body, out


def page_meta(text: str) -> dict:
    """Title (without the site's suffix), url, author and outlet from the page's head and markup."""
    root = parse_page(text)
    metas: dict[str, str] = {}
    for el in root.iter("meta"):
        key = (el.get("property") or el.get("name") or "").strip().lower()
        value = clean_spaces(el.get("content") or "")
        if key and value:
            metas.setdefault(key, value)

    def meta_content(*names: str) -> str | None:
        return next((metas[n] for n in names if n in metas), None)

    def first_text(tag: str) -> str | None:
        el = next(root.iter(tag), None)
        return clean_spaces(el.text_content()) or None if el is not None else None

    site = meta_content("og:site_name", "application-name")
    canonical = next((el.get("href") for el in root.iter("link") if (el.get("rel") or "").lower() == "canonical"), None)
    url = meta_content("og:url") or canonical
    url = url if url and url.startswith(("http://", "https://")) else None
    head = first_text("title")
    title, named = page_title(meta_content("og:title", "twitter:title"), head, first_text("h1"), site, source_from_url(url))
    return {"title": title, "url": url, "author": meta_content("author", "article:author"),
            "source": origin(root, title) or site or named or source_from_url(url)}


ORIGIN_REACH = 400  # characters after the headline where the page names the story's outlet


def origin(root, title: str | None) -> str | None:
    """The outlet the page names for the story ('来源：新华社') right under its headline: a syndicated article's
    original outlet, else the site's own name there."""
    if not title:
        return None
    body = next(root.iter("body"), None)
    text = clean_spaces(" ".join((body if body is not None else root).itertext()))
    at = text.find(title)
    if at < 0:
        return None
    return named_outlet(text[at + len(title):at + len(title) + ORIGIN_REACH])


def parse_page(text: str):
    """The page's element tree (lxml), from text that may still carry an XML declaration."""
    from lxml import etree
    from lxml import html as lxml_html

    text = re.sub(r"^\s*<\?xml[^>]*>", "", text)
    try:
        return lxml_html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return lxml_html.document_fromstring("<html></html>")


def article_lines(text: str) -> list[Line]:
    """The article's lines: readability's, unless it kept next to nothing or trafilatura's body holds far more
    news prose (readability took one reply of a forum thread, a sidebar), measured on web-extraction."""
    first = _readability(text)
    if len("".join(x.text for x in first)) >= SHORT_BODY:
        second = _trafilatura(text)
        return second if prose(second) > PROSE_RATIO * prose(first) else first
    second = _trafilatura(text)
    return second or first


def prose(lines: list[Line]) -> int:
    """Characters of the lines long enough to be text rather than labels, links or menus."""
    return sum(len(x.text) for x in lines if len(x.text) >= PROSE_LINE and x.links < LINK_SHARE)


def _readability(text: str) -> list[Line]:
    from readability import Document as Readable

    try:
        return html_lines(Readable(text).summary(html_partial=True))
    except Exception as exc:  # readability gives up on some malformed pages; trafilatura may not
        logging.getLogger(__name__).debug("readability failed: %s", exc)
        return []


def _trafilatura(text: str) -> list[Line]:
    import trafilatura

    out = trafilatura.extract(text, favor_precision=True, include_comments=False, include_tables=True) or ""
    lines: list[Line] = []
    for raw in out.split("\n"):
        if raw.lstrip().startswith("|"):  # a table row, written as Markdown: one line a cell
            lines.extend(Line(c) for c in (clean_spaces(x) for x in raw.split("|")) if c and not re.fullmatch(r"-+", c))
        elif clean_spaces(raw):
            lines.append(Line(clean_spaces(raw)))
    return lines


def html_lines(fragment: str) -> list[Line]:
    """An HTML fragment as lines: one a block or <br>-separated run, each with the share of its text in links."""
    from lxml import html as lxml_html

    if not fragment or not fragment.strip():
        return []
    root = lxml_html.fromstring(fragment)
    for a in root.iter("a"):
        a.text = _LINK + (a.text or "")
        if len(a):
            a[-1].tail = (a[-1].tail or "") + _LINK
        else:
            a.text += _LINK
    headings = {clean_spaces(h.text_content().replace(_LINK, "")) for h in root.iter("h1", "h2", "h3", "h4", "h5", "h6")}
    captions = {clean_spaces(el.text_content().replace(_LINK, "")) for el in root.iter()
                if isinstance(el.tag, str) and (el.tag == "figcaption" or _CAPTION_CLASS.search(el.get("class") or ""))}
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag == "img":
            el.tail = "\n" + _PICTURE + "\n" + (el.tail or "")
        elif el.tag == "br":
            el.tail = "\n" + (el.tail or "")
        elif el.tag in _BLOCKS:
            el.text = "\n" + (el.text or "")
            el.tail = "\n" + (el.tail or "")
    lines: list[Line] = []
    after_picture = False
    for raw in root.text_content().split("\n"):
        text = clean_spaces(raw.replace(_LINK, ""))
        if text == _PICTURE:
            after_picture = True
            continue
        if text:
            linked = sum(len(clean_spaces(x)) for x in raw.split(_LINK)[1::2])
            # the short phrase right under a picture is what the picture shows (a sentence there may be the story)
            caption = text in captions or after_picture and len(text) <= CAPTION_CHARS and not text.endswith(_SENTENCE_END)
            lines.append(Line(text, linked / len(text), text in headings, caption))
            after_picture = False
    return lines


def clean_page_lines(lines: list[Line]) -> tuple[list[str], list[Dropped]]:
    """The article's lines without boilerplate: each line's own rule (credits, promos, footers, counters), the
    list a 'related articles' heading opens, and lines that are mostly links. Short lines in a run are kept:
    on a page the links say which runs are menus, and a programme or a table is article text."""
    kept: list[str] = []
    dropped: list[Dropped] = []
    in_list = False
    for line in lines:
        rule = line_rule(line.text)
        if is_related_heading(line.text):
            in_list = True
            dropped.append(Dropped(line.text, "link_list"))
            continue
        if in_list and not (is_prose(line.text) and rule is None and line.links < LINK_SHARE):
            dropped.append(Dropped(line.text, "link_list"))
            continue
        in_list = False
        if line.caption and rule is None:
            rule = "caption"
        if rule is not None and rule != "link_list":
            if rule != "empty":
                dropped.append(Dropped(line.text, rule))
            continue
        if line.links > LINK_SHARE and not is_prose(line.text):
            dropped.append(Dropped(line.text, "link"))
            continue
        kept.append(line.text)
    return kept, dropped
