"""Publication date of a saved news page: structured metadata first, then the dateline by the headline."""

from __future__ import annotations

import bisect
import datetime as dt
import json
import re
from email.utils import parsedate_to_datetime

import lxml.html
from lxml import etree

# --- turning date strings into ISO dates -------------------------------------------------------

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


# --- structured metadata ----------------------------------------------------------------------

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


# --- the page's text as one stream ------------------------------------------------------------

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


# --- datelines in text ------------------------------------------------------------------------

_DATE_IN_TEXT = re.compile(
    r"(?<![\d/.\-])"
    r"(?:(?P<y1>(?:19|20)\d\d)\s*(?P<sep>[-/.])\s*(?P<m1>\d{1,2})\s*(?P=sep)\s*(?P<d1>\d{1,2})(?![\d/\-])"
    r"|(?P<y2>(?:19|20)\d\d)\s*年\s*(?P<m2>\d{1,2})\s*月\s*(?P<d2>\d{1,2})(?:\s*[日号號]|(?!\d))"
    r"|(?P<a3>\d{1,2})/(?P<b3>\d{1,2})/(?P<y3>(?:19|20)\d\d)(?![\d/\-]))"
)
_TIME_AFTER = re.compile(  # used with .match(text, pos): anchored there; " " not "\s", to stay on the line
    r"(?: ?[,，]? ?[（(]? ?(?:星期|周|礼拜|禮拜)[一二三四五六日天] ?[）)]?)?"
    r"(?: ?(?:T|[-–—,，](?= ?[0-2]?\d ?[:：]))? ?(?:(?P<ampm1>上午|下午|晚上|凌晨|早上|中午) ?)?"
    r"(?P<h>[0-2]?\d) ?(?::|：|时|時|點|点) ?(?P<mi>[0-5]\d)(?: ?(?::|：|分) ?(?:[0-5]\d)?(?: ?秒)?)?"
    r"(?: ?(?P<ampm2>AM|PM|am|pm|a\.m\.|p\.m\.))?)?"
    r"(?: ?[,，]? ?[（(]? ?(?:星期|周|礼拜|禮拜)[一二三四五六日天] ?[）)]?)?"
)

# The word right before a date says whose date it is. Publication labels, with the prefixes and
# verbs news CMSs put in front of them ("本文发布时间", "最后更新", "发表于"); "last updated" counts,
# since on a news page it is close to publication and often the only date shown.
_PUB_WORD = re.compile(
    r"(?:本文|本帖|本贴|本貼|文章|新闻|新聞|信息|資訊|资讯|稿件|最后|最後|首次)?"
    r"(?:(?:发布|發布|發佈|发表|發表|发帖|發帖|发贴|發貼|刊发|刊發|刊登|发稿|發稿|上传|上傳|出版|录入|錄入|添加|"
    r"更新|修改|编辑|編輯|播出|登载|提交|创建|創建|首发|首發|撰写|撰寫)(?:时间|時間|日期|于|於)?|时间|時間|日期)"
)
# A label glued to the site's name ("IT之家发布时间："): the verb makes it a publication label still.
_STRONG_LABEL = re.compile(
    r"(?:发布|發布|發佈|发表|發表|发帖|發帖|发贴|發貼|刊发|刊發|刊登|发稿|發稿|上传|上傳|更新|首发|首發)(?:时间|時間|日期|于|於)$"
)
_DOC_WORD = re.compile(r"成文(?:日期|时间|時間)")
_WORD_BEFORE = re.compile(r"([\u4e00-\u9fff]+)\s*([:：]?)\s*$")
_ENGLISH_LABEL = re.compile(
    r"(?<![A-Za-z])(?:posted|published|updated|date|pubdate)(?:\s+(?:on|at))?\s*[:：]?\s*$", re.I
)
_SOURCE_LABEL = re.compile(r"(?:来源|來源|稿源|出处|出處)\s*[:：]\s*[^\n:：]{1,24}?\s+$")
# "于/至/为/是/在 + date" is a sentence about something that happened on that day.
_PROSE_BEFORE = re.compile(r"(?:于|於|至|到|从|從|自|为|為|是|在|截至|截止|生|始|起|和|与|與|及|或)$")
_POST_LABEL = re.compile(r"^\s*(?:更新|发布|發布|發佈|发表|發表|发稿|發稿|刊发|刊發|published|posted|updated)", re.I)
# "本贴由某某于2005年8月12日16:12:21在〖某版〗发表": the verb after the date makes it the post's own.
_POST_PUBLISHED = re.compile(r"^[^\n，。,；;！？!?]{0,30}?(?:发表|發表|发布|發布|发贴|發貼|发帖|發帖)")
_RANGE_AFTER = re.compile(r"^\s*(?:至|到|[-–—~～－]\s*\d{1,4}\s*[-/.年月日号])")
_RANGE_BEFORE = re.compile(r"(?:\d\s*[-–—~～－]|至|到)\s*$")
_EVENT_AFTER = re.compile(r"地点|地點|地址|会场|會場|场地|場地")
_METADATA_AFTER = re.compile(
    r"^\s*(?:[|｜/·•\-]|来源|來源|作者|编辑|編輯|责任编辑|責任編輯|责编|阅读|閱讀|点击|點擊|浏览|瀏覽|访问|字号|字體|字体|"
    r"记者|記者|本报|本報|新华社|新華社|评论|評論|打印|收藏|分享|楼主|樓主|by\b|第\s*\d+\s*[版页頁])",
    re.I,
)
_CAPTION = re.compile(r"[摄攝]\s*[)）]|[摄攝]\s*$|图为|圖為|供图|供圖|资料图|資料圖|图片来源|圖片來源|配图|配圖")
_SENTENCE_AFTER = re.compile(r"^[，,、；;。：:的起前后後以间間]")
_BRACKET_OPEN = "([（【〔［<《〈"
_AM_PM = re.compile(r"AM|PM|am|pm|a\.m\.|p\.m\.")

# Headings that end the article: what follows is other stories and readers' comments.
_END_OF_ARTICLE = re.compile(
    r"^\s*[【\[［〖]?\s*(?:相关(?:报道|新闻|链接|阅读|文章|内容|专题|推荐)|相關(?:報導|新聞|連結|閱讀|文章)|延伸阅读|推荐阅读|"
    r"热门|热点|熱門|更多|猜你喜欢|网友评论|網友評論|最新评论|最新評論|评论|評論|发表评论|發表評論|"
    r"上一篇|下一篇|上一条|下一条|上篇|下篇|上一篇文章|下一篇文章)"
)

_NEAR_BEFORE, _NEAR_AFTER = 60, 260  # chars around the headline where a dateline belongs
_ABUTTING = 24  # at most this much (a time, a weekday, an issue number) between a date and the headline after it


def _match_date(m: re.Match, after: str) -> str | None:
    if m.group("y1"):
        return _iso(int(m.group("y1")), int(m.group("m1")), int(m.group("d1")))
    if m.group("y2"):
        return _iso(int(m.group("y2")), int(m.group("m2")), int(m.group("d2")))
    a, b, year = int(m.group("a3")), int(m.group("b3")), int(m.group("y3"))
    if a > 12 >= b:
        return _iso(year, b, a)
    if b > 12 >= a:
        return _iso(year, a, b)
    # Both could be the month. A 12-hour clock after it is the American (and .NET default)
    # month/day/year; otherwise the day comes first, as everywhere else that writes slashes.
    if _AM_PM.search(after[:30]):
        return _iso(year, a, b)
    return _iso(year, b, a)


def _label_before(before: str) -> str:
    """What the words right before a date make of it: 'pub', 'doc', 'other' (a label of something
    else: "报名日期：", "建立于:", "访问统计："), 'prose', or '' (nothing said)."""
    b = before.rstrip()
    if _SOURCE_LABEL.search(before.rsplit("\n", 1)[-1]) or _ENGLISH_LABEL.search(b):
        return "pub"
    m = _WORD_BEFORE.search(b)
    if not m:
        return ""
    word, colon = m.group(1), m.group(2)
    if _DOC_WORD.search(word[-4:]):
        return "doc"
    if _PUB_WORD.fullmatch(word) or _STRONG_LABEL.search(word):
        return "pub"  # also from the line above: "<td>发布日期：</td><td>2019-09-07</td>"
    if colon:
        return "other"
    if before.rsplit("\n", 1)[-1].strip() and _PROSE_BEFORE.search(word):
        return "prose"  # on the same line only: the line above may be a headline ending in 生, 在…
    return ""


def _classify(text: str, m: re.Match) -> tuple[str, str] | None:
    """(kind, ISO date) for one date in running text — kind 'doc', 'label', 'timed' or 'bare' — or
    None when the date is not a dateline (a sentence, a range, a list item, someone else's label)."""
    start, end = m.start(), m.end()
    tm = _TIME_AFTER.match(text, end)
    timed = bool(tm and tm.group("h"))
    after_end = tm.end() if tm else end
    after = text[after_end:after_end + 40].split("\n", 1)[0]
    before = text[max(0, start - 40):start]
    before_line = before.rsplit("\n", 1)[-1]
    date = _match_date(m, text[end:end + 30])
    if date is None or _RANGE_AFTER.match(after) or _RANGE_BEFORE.search(before_line):
        return None
    if _END_OF_ARTICLE.match(before_line):
        return None  # "相关新闻：… 2019-09-05", "上一篇：…": another story's date
    label = _label_before(before)
    if label == "doc":
        return "doc", date
    if label in ("other", "prose"):
        if timed and _POST_PUBLISHED.match(after):
            return "label", date
        return None
    if label == "pub" or _POST_LABEL.match(after):
        if (not timed and _SENTENCE_AFTER.match(after)) or _EVENT_AFTER.search(after):
            return None  # "时间：2005年4月27日，地点：…" announces an event
        return "label", date
    line_after = text[after_end:after_end + 80].split("\n", 1)[0]
    if _CAPTION.search(line_after):
        return None  # "2019年11月24日 游客在故宫参观（新华社记者 张三 摄）": a photo's date
    stripped = before_line.rstrip()
    if stripped and stripped[-1] in _BRACKET_OPEN:
        if timed and stripped[-1] in "(（" and after.lstrip()[:1] in (")", "）"):
            # "新华网河北频道 ( 2012-06-04 09:20:26 )": a stamp of its own, trusted by the headline only,
            # since "标题(2005-04-27 18:03)" is also how lists of other stories look.
            return "bracket", date
        # "(2005-04-27 18:03)" after a link, "(2020年4月17日)" in a notice: a list item or an aside.
        return None
    if after[:1] and after[:1] in "，,；;。":
        return None
    glued_before = bool(before_line) and not before_line[-1].isspace()
    if timed:
        if glued_before and after[:1] and not after[0].isspace() and not _METADATA_AFTER.match(after) \
                and re.match(r"[\u4e00-\u9fff]", after):
            return None  # "记者3月1日16时在现场看到…": a time inside a sentence
        return "timed", date
    if after[:1] and (after[0] in _BRACKET_OPEN or _SENTENCE_AFTER.match(after)):
        return None  # "1976年4月25日（45岁）", "2006年12月27日（京港台时间）", "…日，"
    if after and not after[0].isspace() and not _METADATA_AFTER.match(after) \
            and (len(line_after.strip()) > 4 or re.search(r"[，。,；;]", line_after)):
        return None  # the date runs on into a sentence (a short tail, "2017-09-10港聞", is a section name)
    if m.group("y2") and glued_before:
        return None  # "出道日期1995年9月1日": 年月日 glued to words reads as prose; a dateline stands apart
    return "bare", date


def _candidates(stream: _Stream):
    text = stream.text
    for m in _DATE_IN_TEXT.finditer(text):
        flags = stream.flags_at(m.start())
        if flags & (_LINK | _ASIDE):
            continue
        got = _classify(text, m)
        if got:
            yield m.start(), m.end(), got[0], got[1]


def _end_of_article(stream: _Stream, after: int) -> int:
    """Offset of the first "相关报道"/"网友评论"… heading after the headline: the article ends there."""
    pos = after
    text = stream.text
    while True:
        nl = text.find("\n", pos)
        if nl < 0:
            return len(text)
        line_end = text.find("\n", nl + 1)
        line = text[nl + 1: line_end if line_end >= 0 else len(text)]
        first_char = nl + 1 + len(line) - len(line.lstrip())
        if len(line.strip()) <= 16 and _END_OF_ARTICLE.match(line) and not stream.flags_at(first_char) & _LINK:
            return nl + 1
        pos = nl + 1


_YEARLESS = re.compile(
    r"(?<![\d年/.\-])(0?[1-9]|1[0-2])\s*(?:月\s*([0-3]?\d)\s*[日号號]|[-/]([0-3]\d|[1-9](?![\d/\-])))"
)


def _yearless_date(stream: _Stream, lo: int, hi: int, known: set[str]) -> str | None:
    """A dateline without its year ("发布时间：09-30 22:46", "10月23日 17:26" under the headline),
    completed from a date the page states elsewhere (a modified-time meta, its URL) on that same
    month and day; otherwise the year is a guess."""
    if not known:
        return None
    text = stream.text
    for m in _YEARLESS.finditer(text, max(lo, 0), hi):
        if stream.flags_at(m.start()) & (_LINK | _ASIDE):
            continue
        tm = _TIME_AFTER.match(text, m.end())
        if not (tm and tm.group("h")) and _label_before(text[max(0, m.start() - 40):m.start()]) != "pub":
            continue
        month, day = int(m.group(1)), int(m.group(2) or m.group(3))
        same_day = sorted(d for d in known if d[5:] == f"{month:02d}-{day:02d}")
        if len(same_day) == 1:
            return same_day[0]
    return None


def _text_date(tree, stream: _Stream, cands: list[tuple[int, int, str, str]], known: set[str]) -> str | None:
    """The dateline's date, chosen by where it stands relative to the headline."""
    headline = _find_headline(tree, stream)
    if not headline:
        # No headline to anchor on: the first labelled dateline is the post's (replies and lists
        # come after it), else the first time stamp; a bare date is too weak a sign on its own.
        for wanted in ("label", "timed"):
            for _, _, kind, date in cands:
                if kind == wanted:
                    return date
        return None
    h_start, h_end = headline
    end = _end_of_article(stream, h_end)
    # Just above the headline only if close (an e-paper's issue date, a blog's post stamp):
    # further up is the site header, where "today" is printed on every page.
    lo, hi = h_start - _NEAR_BEFORE, min(h_end + _NEAR_AFTER, end)
    # Below it, the dateline comes before the story: past the first full stop of the body, an
    # unlabelled date is a schedule, a timeline, a caption.
    first_sentence = stream.text.find("。", h_end)
    if first_sentence >= 0:
        hi = min(hi, first_sentence)
    for pos, date_end, _, date in cands:
        # Above the headline, the date must lead straight into it.
        if lo <= pos < hi and (pos >= h_start or h_start - date_end <= _ABUTTING):
            return date
    # Further down (a blog's "发表于" under the post, a forum's first "发布时间") only a date that
    # is labelled as the publication's, and only before related stories and comments begin: an
    # unlabelled time stamp in the body is as likely a schedule as a dateline.
    labelled = next((date for pos, _, kind, date in cands if h_end <= pos < end and kind == "label"), None)
    return labelled or _yearless_date(stream, lo, hi, known)


# --- the public functions -----------------------------------------------------------------------

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


def text_dateline(line: str) -> str | None:
    """The ISO date if this line of page/plain text is a publication dateline (labels like 时间：/发布时间/来源：… allowed; a long news sentence that merely mentions a date is not one)."""
    s = _SPACES.sub(" ", line or "").strip()
    if not s or len(s) > 80:
        return None
    for m in _DATE_IN_TEXT.finditer(s):
        got = _classify(s, m)
        if not got:
            continue
        kind, date = got
        if kind in ("label", "doc"):
            return date
        if kind == "bracket":
            continue  # "(2005-04-27 18:03)" on a line of its own is a list item
        # Unlabelled, a date is a dateline only when the line is little else: a short line of
        # metadata ("2019-11-25 16:04 来源：新华网"), not a story that opens with a time stamp.
        rest = len(re.sub(r"[\s\d:：|/·•\-]", "", _DATE_IN_TEXT.sub("", s)))
        if rest <= (40 if kind == "timed" else 24):
            return date
    return None
