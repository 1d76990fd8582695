"""Event dates: the date a sentence gives for what it reports, resolved against the article's publication date."""

from __future__ import annotations

import datetime as dt
import re

_CN_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")}
_NUM = r"(\d{1,4}|[零一二三四五六七八九十]{1,3})"
_FULL = re.compile(rf"(?<!\d)(\d{{4}})\s*年\s*{_NUM}\s*月(?:\s*{_NUM}\s*[日号])?")
_MONTH_DAY = re.compile(rf"(?<![\d年])(今年|去年|明年)?\s*{_NUM}\s*月(?:\s*{_NUM}\s*[日号])?")
_YEAR_ONLY = re.compile(r"(?<!\d)(\d{4})\s*年(?!\s*\d{1,2}\s*月)")
_WEEKDAY = re.compile(r"(本周|上周|这周|周|星期|礼拜)([一二三四五六日天])")
_WEEKDAYS = "一二三四五六日"


def _number(text: str | None) -> int | None:
    if not text:
        return None
    if text.isdigit():
        return int(text)
    if text == "十":
        return 10
    if text.startswith("十"):
        return 10 + _CN_DIGITS.get(text[1], 0)
    if text.endswith("十"):
        return 10 * _CN_DIGITS.get(text[0], 0)
    if "十" in text:
        a, b = text.split("十", 1)
        return 10 * _CN_DIGITS.get(a, 0) + _CN_DIGITS.get(b, 0)
    return _CN_DIGITS.get(text)


def _iso(year: int, month: int, day: int | None) -> str | None:
    try:
        return dt.date(year, month, day or 1).isoformat()[: 10 if day else 7]
    except ValueError:
        return None


def event_date(sentence: str, published: str | None) -> str | None:
    """The first date the sentence states ('1月23日' in a 2026-01-29 article → '2026-01-23'; '本周二';
    '去年8月'), as ISO 'YYYY-MM-DD' or 'YYYY-MM'; None when it states none that can be placed."""
    pub = None
    if published:
        try:
            pub = dt.date.fromisoformat(published[:10])
        except ValueError:
            pub = None
    m = _FULL.search(sentence)
    if m:
        month = _number(m.group(2))
        if month and 1 <= month <= 12:
            return _iso(int(m.group(1)), month, _number(m.group(3)))
    if pub is not None:
        m = _MONTH_DAY.search(sentence)
        if m:
            month, day = _number(m.group(2)), _number(m.group(3))
            if month and 1 <= month <= 12:
                year = pub.year + {"去年": -1, "明年": 1}.get(m.group(1) or "", 0)
                if not m.group(1) and (month, day or 1) > (pub.month, pub.day) and month - pub.month > 1:
                    year -= 1  # news reports the past: '11月' in a January article is last year's
                return _iso(year, month, day)
        m = _WEEKDAY.search(sentence)
        if m:
            target = _WEEKDAYS.index(m.group(2).replace("天", "日"))
            monday = pub - dt.timedelta(days=pub.weekday())
            if m.group(1) == "上周":
                monday -= dt.timedelta(days=7)
            return (monday + dt.timedelta(days=target)).isoformat()
        if "去年" in sentence:
            return str(pub.year - 1)
    m = _YEAR_ONLY.search(sentence)
    if m and 1900 <= int(m.group(1)) <= 2100:
        return m.group(1)
    return None
