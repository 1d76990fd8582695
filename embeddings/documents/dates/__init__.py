"""Publication date of a saved news page: structured metadata first, then the dateline by the headline."""

from __future__ import annotations

import datetime as dt
import re

import lxml.html
from lxml import etree

from embeddings.documents.dates.datelines import _candidates, _text_date, text_dateline
from embeddings.documents.dates.stream import _Stream
from embeddings.documents.dates.structured import _htmldate_fallback, _structured_date, _url_dates

__all__ = ["page_date", "text_dateline"]


_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
# A page revised for more than this long after it first went up (a wiki article) has no single
# date its text was published on.
_LIVING_DOCUMENT = dt.timedelta(days=365)


def _parse(html_text: str):
    # HTML comments go at parse time: they hold the save stamp of the tool that cached the page
    # and CMS build times, never a date a reader saw.
    try:
        # A parser of its own per call: an lxml parser must not be shared by concurrent threads.
        parser = lxml.html.HTMLParser(remove_comments=True, remove_pis=True)
        return lxml.html.document_fromstring(_XML_DECL.sub("", html_text, count=1), parser=parser)
    except (etree.ParserError, ValueError):
        return None


def page_date(html_text: str) -> str | None:
    """The article's publication date (ISO 'YYYY-MM-DD') of a saved page, or None when the page does not show one."""
    if not html_text or not html_text.strip():
        return None
    tree = _parse(html_text)
    if tree is None:
        return None
    published, modified = _structured_date(tree)
    if published and modified and \
            dt.date.fromisoformat(modified) - dt.date.fromisoformat(published) > _LIVING_DOCUMENT:
        return None
    body = tree.find("body")
    stream = _Stream(body if body is not None else tree)
    cands = list(_candidates(stream))
    for _, _, kind, date in cands:
        if kind == "doc":
            # A government document is dated by its signing (成文日期), which is how it is cited;
            # the page's 发布日期 (and its PubDate meta) is when a clerk put it online.
            return date
    if published:
        return published
    url_dates = _url_dates(tree)
    return (_text_date(tree, stream, cands, url_dates | ({modified} if modified else set()))
            or _htmldate_fallback(tree, url_dates))
