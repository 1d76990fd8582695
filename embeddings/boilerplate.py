"""General rules that tell news text from page furniture: promos, credits, link lists, counters."""

from __future__ import annotations

import hashlib
import re
from typing import Iterable
from dataclasses import dataclass

from embeddings.textnorm import fold_width, to_simplified


@dataclass(frozen=True)
class Dropped:
    """A line kept out of the corpus, with the rule that dropped it (shown by `corpus --verbose`)."""

    text: str
    rule: str


# Every pattern is written in simplified, half-width, lower case: lines are folded before matching,
# so one rule covers both scripts.
_COPYRIGHT = re.compile(
    r"©|\(c\)\s*\d{4}|copyright|all rights reserved|版权所有|版权声明|著作权法|不得擅自使用|未经.{0,6}授权.{0,6}不得|不得转载|禁止转载|"
    r"转载请注明|转载须注明"
)
_PROMO_MARKERS = [
    r"欢迎搜寻",
    r"欢迎关注",
    r"欢迎订阅",
    r"扫码|扫描二维码|二维码",
    r"关注我们",
    r"订阅|订户",
    r"新闻信|电子报|newsletter",
    r"会员(限定|专属|独享)",
    r"加入.{0,6}会员",
    r"限时.{0,4}折|首年|优惠",
    r"解锁",
    r"下载.{0,6}(app|客户端)",
    r"instagram|facebook|twitter|youtube|telegram|whatsapp|line@",
    r"点击(这里|此处|阅读)",
    r"看更多|查看更多|阅读更多|更多精彩",
    r"本文来自|原创资讯",
]
_PROMO = [re.compile(p) for p in _PROMO_MARKERS]
_READER_ADDRESS = re.compile(r"你|您|欢迎|立即|马上|现在加入")
_CREDIT_PREFIX = re.compile(
    r"^(图源|图片来源|图片|图|摄影|摄|视频来源|视频|photo|image|credit|pic|资料图)\s*[:：/|]"
)
_AGENCIES = re.compile(
    r"reuters|getty|afp|ap photo|associated press|\bepa\b|bloomberg|nurphoto|xinhua|imaginechina|"
    r"shutterstock|unsplash|sipa|视觉中国|东方ic|路透|法新社|美联社|新华社|中新社|澎湃影像"
)
_LATIN_CREDIT = re.compile(r"^[a-z][a-z .'’\-]*(/[a-z][a-z .'’\-]*)+/?$")
_EDITOR = re.compile(r"^[(（]?(本期编辑|责任编辑|责编|编辑|校对|审核|编审|主编|监制|撰稿|实习生|美编)\s*[:：|\s]")
_ATTRIBUTION = re.compile(r"^[(（]?(本文来源|来源|稿源|出处|原标题|原文|source)\s*[:：]|^[(（](据|来源|综合|编译|本文来源)[^)）]{0,30}[)）]$")
# Photo captions and credits: an arrow before the picture's words, '图为…', a credit in brackets at the end
# ('（图／翻摄画面）'), or a photographer's name and '摄' (with the date, in the ROC calendar too).
_CAPTION = re.compile(
    r"^[▲▼△▽►]|^图为|^图片(均)?(来自|来源|取自|由)|[(（]\s*(图|图片|照片|photo)\s*[/／:：]|[(（]\s*(图|照片)?翻摄|"
    r"[\s　][^\s，。,]{2,8}\s*摄$|记者.{0,24}(摄|摄影|传真)\s*(\d{2,4}年\d{1,2}月\d{1,2}日)?$|[。！]\s*记者\s*\S{2,4}$"
)
_DISCLAIMER = re.compile(r"^(声明|免责声明|特别声明|风险提示)\s*[:：]")
_TIMESTAMP = re.compile(r"^\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?(\s+\d{1,2}:\d{2}(:\d{2})?)?$")
_COUNTER = re.compile(r"^(\d{1,7}|(阅读|浏览|评论|点赞|分享|收藏|转发|赞)\s*[:：]?\s*\d+)$")
_CAPTION_DATE = re.compile(r"^\d{4}\s+\d{1,2}\s+\d{1,2}$")
_SHARE = re.compile(r"^(分享到|分享至|转发到|返回.{0,6}查看更多|打开.{0,6}app|举报|收藏)")
_RELATED_HEADINGS = {
    "相关内容", "相关阅读", "相关新闻", "相关文章", "相关报道", "相关链接", "延伸阅读", "推荐阅读",
    "热门资讯", "热门推荐", "热点推荐", "热门文章", "热门新闻", "猜你喜欢", "更多新闻", "为你推荐",
    "最新资讯", "精彩推荐", "往期回顾", "大家都在看", "热读", "排行榜", "related", "related articles",
    "read more", "more stories", "you may also like",
}
_TERMINAL = tuple("。！？!?.…")
_TRUNCATED = re.compile(r"(?<![.…])(\.{3}|…)$")


def fold(line: str) -> str:
    return fold_width(to_simplified(line)).lower().strip()


def line_rule(line: str) -> str | None:
    """The boilerplate rule a single line or paragraph matches, or None if it may be news."""
    f = fold(line)
    if not f:
        return "empty"
    # Notices and promos are short; a long paragraph that mentions copyright or subscriptions is
    # news about them (measured: a 421-character CMRC paragraph on copyright law was lost before).
    if len(f) <= 200 and _COPYRIGHT.search(f):
        return "copyright"
    promo = sum(1 for p in _PROMO if p.search(f))
    if (promo >= 2 and len(f) <= 300) or (promo == 1 and _READER_ADDRESS.search(f) and len(f) < 200):
        return "promo"
    short = len(f) <= 60
    if short and _ATTRIBUTION.search(f):
        return "attribution"
    if short and _CREDIT_PREFIX.search(f):
        return "credit"
    if short and _AGENCIES.search(f) and ("/" in f or " via " in f or not f.endswith(_TERMINAL)):
        return "credit"
    if short and _LATIN_CREDIT.match(f):
        return "credit"
    if len(f) <= 40 and _EDITOR.search(f):
        return "editor"
    if len(f) <= 120 and _CAPTION.search(f):
        return "caption"
    if len(f) <= 300 and _DISCLAIMER.search(f):
        return "disclaimer"
    if _TIMESTAMP.match(f):
        return "timestamp"
    if _COUNTER.match(f):
        return "counter"
    if _CAPTION_DATE.match(f):
        return "caption"
    if short and _SHARE.search(f):
        return "share"
    if is_related_heading(f):
        return "link_list"
    if _TRUNCATED.search(f):
        return "link_list"
    return None


def is_related_heading(line: str) -> bool:
    f = re.sub(r"[\s:：>»|#*\-]+", " ", fold(line)).strip()
    return f in _RELATED_HEADINGS


def is_heading_like(line: str) -> bool:
    """Short and without a sentence end: a section title, a caption or a link, never a paragraph."""
    s = line.strip()
    if not s or len(s) > 32:
        return False
    if "。" in s or s.endswith(("。", "！", "!", "；", ";", "…", "，", ",", "：", ":")):
        return False
    return True


def is_prose(line: str) -> bool:
    """A line that reads as a full news paragraph (long, ending a sentence, not a teaser)."""
    s = line.strip()
    return len(s) >= 40 and s.endswith(("。", "！", "？", "」", "”", "!", "?", ")", "）")) and not _TRUNCATED.search(s)


REPEAT_DOCS = 3  # a short line in this many documents of different titles is the sites' furniture
REPEAT_CHARS = 120


def repeat_key(text: str) -> str | None:
    """What a paragraph is counted by across the corpus (its folded text, hashed), or None when it cannot be
    furniture repeated page after page: longer than REPEAT_CHARS, or a full news paragraph."""
    f = re.sub(r"\s+", "", fold(text))
    if not f or len(f) > REPEAT_CHARS or is_prose(text):
        return None
    return hashlib.blake2b(f.encode("utf-8"), digest_size=8).hexdigest()


def title_key(title: str) -> str:
    return hashlib.blake2b(re.sub(r"\s+", "", fold(title)).encode("utf-8"), digest_size=8).hexdigest()


def repeated(occurrences: Iterable[tuple[str, str]], min_docs: int = REPEAT_DOCS) -> frozenset[str]:
    """The paragraph keys that stand in documents of at least `min_docs` different titles: a menu, a footer, a
    promo each site prints on every page. Copies of one article (the same title) count once, so a
    programme or a list syndicated with the story stays."""
    titles: dict[str, set[str]] = {}
    for key, title in occurrences:
        titles.setdefault(key, set()).add(title)
    return frozenset(k for k, t in titles.items() if len(t) >= min_docs)


def clean_lines(lines: list[str]) -> tuple[list[str], list[Dropped]]:
    """Drop boilerplate lines from a page's body, keeping the order of the rest.

    Line rules catch what a single line gives away; block rules catch link lists, whose lines
    are each harmless (a short headline) but come in runs or after a "related" heading.
    """
    rules = [line_rule(line) for line in lines]
    n = len(lines)
    # A "related articles" heading opens a list that runs until prose resumes.
    in_list = False
    for i, line in enumerate(lines):
        if is_related_heading(line):
            in_list = True
            rules[i] = "link_list"
            continue
        if in_list:
            if is_prose(line) and rules[i] is None:
                in_list = False
            else:
                rules[i] = rules[i] or "link_list"
    # Three or more heading-like lines in a row are a list of links, not section titles.
    i = 0
    while i < n:
        j = i
        while j < n and (
            rules[j] in {"link_list", "timestamp"} or (rules[j] is None and is_heading_like(lines[j]))
        ):
            j += 1
        if j - i >= 3 and any(rules[k] in {"link_list", "timestamp"} for k in range(i, j)) or j - i >= 4:
            for k in range(i, j):
                rules[k] = rules[k] or "link_list"
        i = max(j, i + 1)
    # A short line wedged between a caption date and a photo credit is the caption itself.
    for i in range(1, n - 1):
        if rules[i] is None and is_heading_like(lines[i]):
            if rules[i - 1] == "caption" and rules[i + 1] == "credit":
                rules[i] = "caption"
    kept = [line for line, rule in zip(lines, rules) if rule is None]
    dropped = [Dropped(line, rule) for line, rule in zip(lines, rules) if rule is not None and rule != "empty"]
    return kept, dropped
