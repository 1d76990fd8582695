"""Datelines in a page's text: which dates by the headline are the publication date, and which are not."""

from __future__ import annotations

import re

from embeddings.documents.dates.stream import _ASIDE, _LINK, _SPACES, _Stream, _find_headline
from embeddings.documents.dates.values import _iso

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
