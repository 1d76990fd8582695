"""Metadata of any shape: dates, sources from URLs, site suffixes of titles, text of HTML fragments."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any
from urllib.parse import urlparse

from embeddings.textnorm import clean_spaces, to_simplified


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


# A title's tail that names a site or one of its channels, not the story.
# (matched on the tail in simplified characters)
_SITE_WORDS = re.compile(r"网|新闻|报|频道|社区|论坛|博客|部落格|在线|周刊|杂志|电视|广播|门户|资讯|中心|首页|"
                         r"bbs|news|online|times|daily|post|\.com|\.cn|www\.", re.I)
_CHANNELS = re.compile(r"财经|科技|体育|娱乐|汽车|房产|教育|军事|国际|国内|社会|时尚|健康|旅游|文化|数码|游戏|股票|理财|评论")
_SITE_PREFIX = re.compile(r"^([^|｜_]{2,20}?)\s+(?:--|-|–|—|\||｜)\s+")
_QUOTES = set("\"'“”「」『』")
_TITLE_SEPARATORS = re.compile(r"\s*(?:[|｜_—–]|\s-\s|-(?=[^-\s]{1,16}$)|::)\s*")


def page_title(og: str | None, head: str | None, h1: str | None, site: str | None,
               domain: str | None) -> tuple[str | None, str | None]:
    """A page's headline and the site its titles name: og:title or <title> without the site's suffix (a tail
    after _ | - – that is the site's name or domain, or reads as a site or channel), or the <h1> when the
    title is the <h1> plus such a suffix. Quotes never cut a title."""
    head_title, named = strip_site_suffix(head, site, domain) if head else (None, None)
    if og and head and len(head) > len(og) and head_title.startswith(og) and head[len(og):len(og) + 1] in _QUOTES:
        og = None  # an unescaped quote in the page's markup cut the attribute short ('奖金711万元！"中国…')
    for candidate in (og, head):
        if not candidate:
            continue
        title, cut = strip_site_suffix(candidate, site, domain)
        if h1 and len(h1) >= 4 and h1 != title and title.startswith(h1) and h1 in candidate:
            title = h1
        return title, cut or named
    return (h1 or None), named


def strip_site_suffix(title: str, site: str | None = None, domain: str | None = None) -> tuple[str, str | None]:
    """'黄仁勋访华_新浪科技_新浪网' → ('黄仁勋访华', '新浪网'): tails that name the site are cut, right to left,
    while a headline of four characters or more is left; the first tail cut (the site) is returned."""
    title = title.strip()
    named: str | None = None
    m = _SITE_PREFIX.match(title)
    if m and len(title) - m.end() >= 4 and (_SITE_WORDS.search(to_simplified(m.group(1))) or m.group(1) == site):
        named, title = m.group(1), title[m.end():]  # '信報即時新聞 -- 官媒:央企重組不設時間表'
    while True:
        cuts = list(_TITLE_SEPARATORS.finditer(title))
        if not cuts:
            break
        last = cuts[-1]
        head, tail = title[:last.start()].strip(), title[last.end():].strip()
        if len(head) < 4 or not tail or len(tail) > 30:
            break
        latin_tail = not re.search(r"[\u4e00-\u9fff]", tail) and re.search(r"[\u4e00-\u9fff]", head)
        sited = (site and (tail == site or site in tail or tail in site)) or (domain and domain.split(".")[0] in tail.lower())
        channel = named is not None and len(tail) <= 8 or len(tail) <= 6 and _CHANNELS.search(to_simplified(tail))
        if not (sited or latin_tail or channel or _SITE_WORDS.search(to_simplified(tail))):
            break
        named = named or tail
        title = head
    return title.rstrip(" _|｜-–—:："), named


_ORIGIN = re.compile(r"(?:来源|來源|稿源|本文来源|本文來源|出处|出處)\s*[:：]\s*([^\s:：|｜/,，、。()（）\[\]【】<>]{2,20})")
_ORIGIN_END = re.compile(r"(作者|编辑|編輯|记者|記者|责编|責編|时间|時間|发布|發布|\d).*$")


def named_outlet(text: str) -> str | None:
    """The outlet a '来源：新华社' label in the text names (up to a following label, a space or a date)."""
    m = _ORIGIN.search(text)
    outlet = _ORIGIN_END.sub("", m.group(1)) if m else ""
    return outlet if len(outlet) >= 2 else None


def strip_html(fragment: str) -> str:
    """HTML fragment → its text (tags removed, entities decoded), whitespace collapsed."""
    from bs4 import BeautifulSoup

    if "<" not in fragment and "&" not in fragment:
        return clean_spaces(fragment)
    text = BeautifulSoup(fragment, "html.parser").get_text()
    return clean_spaces(html.unescape(text))
