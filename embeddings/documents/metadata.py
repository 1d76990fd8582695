"""Metadata of any shape: dates, sources from URLs, site suffixes of titles, text of HTML fragments."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any
from urllib.parse import urlparse

from embeddings.textnorm import clean_spaces


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
