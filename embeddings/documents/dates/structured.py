"""Dates a page states as data: meta tags, the article's JSON-LD, <time>, its URL, htmldate's fast mode."""

from __future__ import annotations

import json
import re

from embeddings.documents.dates.stream import _aside
from embeddings.documents.dates.values import _iso, _value_date

_META_PUBLISHED = (
    "article:published_time", "og:published_time", "og:article:published_time", "article:publish_time",
    "rnews:datepublished", "datepublished", "og:release_date", "og:pubdate", "publishdate", "publish_date",
    "publish-date", "publishtime", "publish_time", "pubdate", "pubtime", "dcterms.issued", "dc.date.issued",
    "citation_publication_date", "citation_date", "citation_online_date", "prism.publicationdate",
    "parsely-pub-date", "sailthru.date", "article.published", "article_date_original", "originalpublicationdate",
    "dcterms.created", "dc.date.created", "dcterms.date", "dc.date", "date",
)
# Only the article's own "modified" (not HTTP Last-Modified, which is when the copy was served).
_META_MODIFIED = (
    "article:modified_time", "og:updated_time", "datemodified", "dateupdate", "dcterms.modified", "dc.date.modified",
)
_ARTICLE_TYPES = re.compile(r"(Article|Posting|WebPage|Report|CreativeWork)$")


def _meta_dates(tree) -> tuple[str | None, str | None]:
    found: dict[str, str] = {}
    for el in tree.iter("meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        if key and key not in found and (key in _META_PUBLISHED or key in _META_MODIFIED):
            date = _value_date(el.get("content"))
            if date:
                found[key] = date
    published = next((found[k] for k in _META_PUBLISHED if k in found), None)
    modified = next((found[k] for k in _META_MODIFIED if k in found), None)
    return published, modified


def _json_ld_dates(tree) -> tuple[str | None, str | None]:
    published: set[str] = set()
    modified: set[str] = set()

    def visit(obj, depth=0):
        if depth > 4:
            return
        if isinstance(obj, list):
            for item in obj:
                visit(item, depth + 1)
            return
        if not isinstance(obj, dict):
            return
        if "@graph" in obj:
            visit(obj["@graph"], depth + 1)
        types = obj.get("@type")
        types = types if isinstance(types, list) else [types]
        # Only the page's own article: an ItemList of related stories carries their dates too.
        if any(isinstance(t, str) and _ARTICLE_TYPES.search(t) for t in types):
            date = _value_date(obj.get("datePublished") if isinstance(obj.get("datePublished"), str) else None)
            if date:
                published.add(date)
            date = _value_date(obj.get("dateModified") if isinstance(obj.get("dateModified"), str) else None)
            if date:
                modified.add(date)

    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json" or not script.text:
            continue
        try:
            visit(json.loads(script.text, strict=False))
        except ValueError:
            continue
    # Several articles with different dates: the page is a list, and which one is ours is a guess.
    return (published.pop() if len(published) == 1 else None, modified.pop() if len(modified) == 1 else None)


def _markup_date(tree) -> str | None:
    """<time pubdate>, or an element marked itemprop=datePublished (microdata) of the article itself."""
    for el in tree.xpath('//time[@pubdate] | //*[@itemprop="datePublished"]'):
        scope = next((a for a in el.iterancestors() if a.get("itemscope") is not None), None)
        if scope is not None and not _ARTICLE_TYPES.search((scope.get("itemtype") or "Article").rstrip("/")):
            continue  # a Comment's or a related item's datePublished
        if any(_aside(a) for a in el.iterancestors()):
            continue
        date = _value_date(el.get("datetime") or el.get("content") or el.text_content())
        if date:
            return date
    return None


def _structured_date(tree) -> tuple[str | None, str | None]:
    meta_pub, meta_mod = _meta_dates(tree)
    ld_pub, ld_mod = _json_ld_dates(tree)
    return meta_pub or ld_pub or _markup_date(tree), meta_mod or ld_mod


_URL_DATE = re.compile(r"(?<!\d)((?:19|20)\d\d)[-/_.]?(0[1-9]|1[0-2])[-/_.]?(0[1-9]|[12]\d|3[01])(?!\d)")


def _url_dates(tree) -> set[str]:
    urls = [el.get("href") for el in tree.iter("link") if (el.get("rel") or "").lower() == "canonical"]
    urls += [el.get("content") for el in tree.iter("meta") if (el.get("property") or "").lower() == "og:url"]
    return {d for u in urls if u for m in _URL_DATE.finditer(u) if (d := _iso(*map(int, m.groups())))}


def _htmldate_fallback(tree, url_dates: set[str]) -> str | None:
    """htmldate's fast mode (canonical URL, markup conventions), believed only when the page's URL
    carries the same date.

    Left to itself on a page without a dateline it falls back to the first date-like string in
    the text (a reader's comment, a related story) or to HTTP Last-Modified and other "modified"
    metadata (when the copy was served); a date in the article's own URL is what news CMSs write
    when they publish.
    """
    if not url_dates:
        return None
    import htmldate

    for el in list(tree.iter()):
        if isinstance(el.tag, str) and el.getparent() is not None and _aside(el):
            el.drop_tree()  # comments, related lists and captions out of its way, as out of ours
    try:
        found = htmldate.find_date(tree, extensive_search=False, original_date=True)
    except Exception:  # htmldate raises on odd markup now and then; no date is the honest answer
        return None
    return found if found in url_dates else None
