"""A page's visible text as one stream, with where its headline stands in it."""

from __future__ import annotations

import bisect
import re

from lxml import etree

_SKIP_TAGS = frozenset({
    "script", "style", "noscript", "template", "select", "option", "textarea", "button", "iframe", "object",
    "embed", "svg", "head", "title", "meta", "link", "input", "marquee", "map", "area",
})
_BLOCK_TAGS = frozenset({
    "p", "div", "br", "td", "th", "tr", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "tbody", "thead", "tfoot", "section", "article", "header", "footer", "aside", "nav", "form",
    "blockquote", "pre", "hr", "center", "figure", "figcaption", "main", "address", "caption", "fieldset", "body",
})
_LINK, _ASIDE = 1, 2
# Containers whose dates belong to something other than the article: readers' comments, lists of
# other stories, photo captions, page chrome.
_ASIDE_TAGS = frozenset({"figcaption", "aside", "nav", "caption"})
_ASIDE_NAME = re.compile(
    r"comment|reply|replies|related|relate|recommend|caption|sidebar|breadcrumb|crumb|"
    r"\bnav|menu|\bhot|rank|calendar|archive|copyright|"
    r"(?:pic|img|image|photo|figure)[-_]?(?:desc|te?xt|note|info|intro)|"
    r"piclist|newslist|listbox|\bads?\b|advert|widget|toolbar|share|weather|clock",
    re.I,
)


def _aside(el) -> bool:
    if el.tag in _ASIDE_TAGS:
        return True
    cls, ident = el.get("class"), el.get("id")
    if not cls and not ident or el.tag in ("body", "html"):
        return False
    names = f"{cls or ''} {ident or ''}"
    # A URL or path kept in an id (some savers wrap the page in one) is not a class name; nor is
    # <body class="…-responsive sidebar-…"> an aside: that is the theme's name for the whole page.
    return len(names) < 80 and "/" not in names and bool(_ASIDE_NAME.search(names))


_SPACES = re.compile(r"[ \t\r\n\f\v\u00a0\u3000\u2002\u2003\u2009\u200b\ufeff]+")


class _Stream:
    """The page text with blocks on their own lines, and what kind of container each span sits in."""

    def __init__(self, body):
        self.parts: list[str] = []
        self.length = 0
        self.starts: list[int] = [0]
        self.flags: list[int] = [0]
        stack: list[int] = []
        for event, el in etree.iterwalk(body, events=("start", "end")):
            tag = el.tag if isinstance(el.tag, str) else ""
            if event == "start":
                parent = stack[-1] if stack else 0
                if parent < 0 or tag in _SKIP_TAGS or not tag:
                    stack.append(-1)  # a skipped subtree; its tail still belongs to the parent
                    continue
                flags = parent
                if tag == "a" and el.get("href") is not None:
                    flags |= _LINK
                if not flags & _ASIDE and _aside(el):
                    flags |= _ASIDE
                stack.append(flags)
                if tag in _BLOCK_TAGS:
                    self._newline()
                if el.text:
                    self._add(el.text, flags)
            else:
                flags = stack.pop()
                if flags >= 0 and tag in _BLOCK_TAGS:
                    self._newline()
                if el.tail and el is not body:
                    parent = stack[-1] if stack else 0
                    if parent >= 0:
                        self._add(el.tail, parent)
        self.text = "".join(self.parts)

    def _add(self, text: str, flags: int) -> None:
        text = _SPACES.sub(" ", text)
        if not text or (text == " " and (not self.parts or self.parts[-1].endswith((" ", "\n")))):
            return
        if flags != self.flags[-1]:
            self.starts.append(self.length)
            self.flags.append(flags)
        self.parts.append(text)
        self.length += len(text)

    def _newline(self) -> None:
        if self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n")
            self.length += 1

    def flags_at(self, offset: int) -> int:
        return self.flags[bisect.bisect_right(self.starts, offset) - 1]


# --- finding the headline ---------------------------------------------------------------------

_TITLE_SPLIT = re.compile(r"\s*(?:[_|｜»«·•]|--+|::|\s[-–—]\s|——)\s*")


def _heading(tree) -> str | None:
    """The first <h1> (else <h2>) that is a headline: not a link to elsewhere, not in a sidebar."""
    for tag in ("h1", "h2"):
        for el in tree.iter(tag):
            text = _SPACES.sub("", el.text_content())
            linked = _SPACES.sub("", "".join(a.text_content() for a in el.iter("a") if a.get("href") is not None))
            if len(text) < 5 or text == linked:
                continue  # a logo linking home ("某某的博客"), a section name ("导航")
            if any(_aside(a) for a in el.iterancestors()):
                continue
            return text
    return None


def _headlines(tree) -> list[str]:
    """Headline candidates, most specific first: og:title, the parts of <title>, the first heading."""
    found: list[str] = []
    for el in tree.iter("meta"):
        if (el.get("property") or el.get("name") or "").lower() == "og:title":
            found.append(el.get("content") or "")
    title = tree.find(".//title")
    if title is not None and title.text_content():
        whole = _SPACES.sub(" ", title.text_content()).strip()
        found.extend(sorted(_TITLE_SPLIT.split(whole), key=len, reverse=True))
    found.append(_heading(tree) or "")
    out = []
    for h in found:
        h = _SPACES.sub("", h).strip("-—－")
        # Short titles ("显示", "1", a site's name) are not headlines; matching them finds page chrome.
        if len(h) >= 5 and h not in out:
            out.append(h)
    return out


def _find_headline(tree, stream: _Stream) -> tuple[int, int] | None:
    """Where the article's headline stands in the stream: its first occurrence outside a link,
    preferring one on a line of its own to one at the end of a breadcrumb ("首页 > 国内 > …")."""
    text = stream.text
    for headline in _headlines(tree):
        # The page may shorten or decorate its <title>; its first 16 characters are enough to find it.
        key = headline[:16]
        pattern = re.compile(r"\s*".join(re.escape(c) for c in key))
        found = None
        for m in pattern.finditer(text):
            if stream.flags_at(m.start()) & (_LINK | _ASIDE):
                continue
            end, tail = m.end(), headline[len(key):]
            while tail and end < len(text) and (text[end] == tail[0] or text[end] == " "):
                if text[end] == tail[0]:
                    tail = tail[1:]
                end += 1
            line_start = text.rfind("\n", 0, m.start()) + 1
            if found is None:
                found = (m.start(), end)
            if not text[line_start:m.start()].strip():
                return m.start(), end
        if found:
            return found
    return None
