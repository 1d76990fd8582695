"""Saved web pages: metadata from the page head, the article's text from its blocks."""

from __future__ import annotations

from embeddings.documents.metadata import parse_date
from embeddings.documents.model import Document, UnreadableFile
from embeddings.documents.text import read_text
from embeddings.textnorm import clean_spaces


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
