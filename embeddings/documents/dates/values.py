"""Date strings of any common form → ISO dates, within the years news has been on the web."""

from __future__ import annotations

import datetime as dt
import re
from email.utils import parsedate_to_datetime


# Nothing was published on the web before this (htmldate uses the same floor); earlier dates on a
# page are the dates of the events it tells about.
_MIN_DATE = dt.date(1995, 1, 1)


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        d = dt.date(year, month, day)
    except ValueError:
        return None
    # A date in the future is a typo or an event announced, never when the page was published.
    if d < _MIN_DATE or d > dt.date.today() + dt.timedelta(days=1):
        return None
    return d.isoformat()


_VALUE_YMD = re.compile(
    r"(?<!\d)((?:19|20)\d\d)\s*(?:([-/.])\s*(\d{1,2})\s*\2\s*(\d{1,2})|年\s*(\d{1,2})\s*月\s*(\d{1,2}))(?!\d)"
)
_VALUE_COMPACT = re.compile(r"^((?:19|20)\d\d)(\d\d)(\d\d)(?:\D|$)")


def _value_date(value: str | None) -> str | None:
    """A machine-written date value (meta content, JSON-LD, time@datetime) → ISO date."""
    if not value:
        return None
    s = value.strip()
    m = _VALUE_YMD.search(s[:40])
    if m:
        month, day = (m.group(3), m.group(4)) if m.group(2) else (m.group(5), m.group(6))
        # The date as the publisher wrote it, in its own time zone: that is the day its readers saw.
        return _iso(int(m.group(1)), int(month), int(day))
    m = _VALUE_COMPACT.match(s)
    if m:
        return _iso(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    try:
        parsed = parsedate_to_datetime(s)  # RFC 2822, as some feeds and old CMSs write it
    except (TypeError, ValueError, IndexError):
        return None
    return _iso(parsed.year, parsed.month, parsed.day) if parsed else None
