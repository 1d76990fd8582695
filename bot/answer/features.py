"""Sentence features as pure functions: coverage, typed answers near question words, clause windows."""

from __future__ import annotations

import re
from typing import Callable, Sequence

MAX_QUOTE_CHARS = 160

_TYPE_PATTERNS = {
    "number": re.compile(r"\d|[一二三四五六七八九十百千万亿两][个名人次年天倍种项家位条座只枚颗件届所元%]|[零一二三四五六七八九十百千万亿两]{2,}|半|数十|数百|数千"),
    "date": re.compile(r"\d{2,4}年|\d{1,2}月|\d{1,2}日|[一二三四五六七八九十]+月|世纪|年代|今年|去年|明年|上周|本周|周[一二三四五六日]|星期|春|夏|秋|冬|初|底|年间"),
    "person": re.compile(r"·|先生|女士|教授|博士|总统|总理|主席|部长|首相|国王|皇帝|将军|ceo|执行长|首席执行官|创始人|发言人|总裁|董事长|经理|作家|导演|演员|歌手|[a-z]{3,} [a-z]{3,}|他|她"),
    "place": re.compile(r"[省市县区州国城岛山河湖海港湾镇村路街洲]|地区|大陆|北京|上海|香港|台湾|华盛顿|欧洲|亚洲|美洲|非洲"),
    "reason": re.compile(r"因为|由于|因此|所以|为了|原因|导致|以便|以免|鉴于|出于"),
}



def _words(tokens: Sequence[str]) -> list[str]:
    return [t for t in tokens if not t.startswith("#")]


def _bigrams(tokens: Sequence[str]) -> list[str]:
    # in order of first occurrence: a set's order follows the process's string hashes, and sums of
    # idf over it would differ in the last bit from one run to the next
    return list(dict.fromkeys(t for t in tokens if t.startswith("#") and len(t) == 3))


def weighted_coverage(terms: dict[str, float], present: set[str] | frozenset[str]) -> float:
    return coverage_over(terms)(present)


def coverage_over(terms: dict, alternatives: dict | None = None) -> Callable[[frozenset], float]:
    """weighted_coverage(terms, ·), the total taken once: one question's terms, many candidates. A term absent
    but for one of its `alternatives` ({term: ((other term, credit), …)}: a synonym) counts for that credit."""
    total = sum(terms.values())
    if not total > 0:
        return lambda present: 0.0
    items = list(terms.items())
    if not alternatives:
        return lambda present: sum([w for t, w in items if t in present]) / total
    alts = [(t, w, alternatives.get(t, ())) for t, w in items]
    return lambda present: sum([w if t in present else w * max([c for a, c in others if a in present], default=0.0)
                                for t, w, others in alts]) / total


def type_matches(qtype: str, sentence_norm: str) -> tuple[tuple[int, str], ...]:
    """(offset, text) of each answer of the asked type in the sentence (none for other questions)."""
    pattern = _TYPE_PATTERNS.get(qtype)
    return tuple((m.start(), m.group(0)) for m in pattern.finditer(sentence_norm)) if pattern else ()


def typed_near(qtype: str, sentence_norm: str, question_norm: str, words: set[str], window: int = 12,
               matches: tuple[tuple[int, str], ...] | None = None) -> float:
    """1 if an answer of the asked type stands within `window` characters of a question word.

    SQuAD-style answers sit next to the words the question repeats ("…于1903年建成" for
    "哪年建成"): a fitting number far from them answers something else.
    """
    if qtype not in _TYPE_PATTERNS or not words:
        return 0.0
    fresh = [at for at, text in (type_matches(qtype, sentence_norm) if matches is None else matches)
             if text not in question_norm]
    if not fresh:
        return 0.0
    anchors = [at for w in words if len(w) > 1 for at in _occurrences(w, sentence_norm)]
    return 1.0 if any(abs(at - a) <= window for at in fresh for a in anchors) else 0.0


def _occurrences(word: str, text: str) -> list[int]:
    """Where `word` starts in `text`, left to right without overlaps (as re.finditer finds it)."""
    out, at = [], text.find(word)
    while at >= 0:
        out.append(at)
        at = text.find(word, at + len(word))
    return out


def type_match(qtype: str, sentence_norm: str, question_norm: str,
               matches: tuple[tuple[int, str], ...] | None = None) -> float:
    """1 if the sentence holds an answer of the asked type that the question does not already hold."""
    found = type_matches(qtype, sentence_norm) if matches is None else matches
    return 1.0 if any(text not in question_norm for _, text in found) else 0.0


def clause_cuts(text: str, start: int, end: int) -> list[int]:
    """Where the clauses of text[start:end] begin and end (after each comma, semicolon, colon)."""
    return sorted({start, end, *(start + m.end() for m in re.finditer(r"[，,；;：:、]", text[start:end]))})


def clause_window(text: str, start: int, end: int, keep: set[str], tokenize, limit: int = MAX_QUOTE_CHARS) -> tuple[int, int]:
    """Within the too-long text[start:end], the run of whole clauses ≤ limit covering most of `keep`."""
    cuts = clause_cuts(text, start, end)
    clause_tokens = [keep & set(tokenize(text[a:b])) for a, b in zip(cuts, cuts[1:])]
    best, span = -1.0, (start, min(end, start + limit))
    for i in range(len(cuts) - 1):
        covered: set[str] = set()
        for j in range(i + 1, len(cuts)):
            a, b = cuts[i], cuts[j]
            if b - a > limit:
                break
            covered |= clause_tokens[j - 1]
            score = len(covered) + 0.001 * (b - a)
            if score > best:
                best, span = score, (a, b)
    a, b = span
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


# --- the asked attribute of a lookup ---------------------------------------------------------------

_SLOT_WH = re.compile(r"多少|几|多大|多长|多远|多高|多重|多久|哪一?[天年月]|什么时候|何时|什么时间")
_FILLER = set("是有为的了要能会将在把被都还又就也吗呢啊一")
# A reader's word for money meets the article's units and price words.
_MONEY = {"钱": "元币价费金", "价": "元币钱费", "卖": "售元价", "售": "卖元价", "费": "元钱"}


def asked_attribute(question_norm: str) -> str:
    """The Han characters next to a lookup's question word that say what the number or date is *of*: those
    after it where the question goes on, else the two before it ('华为910c的售价是多少' → '售价';
    '摩尔线程什么时候正式上市' → '正式上市'; '座谈会有多少人参加' → '人参加')."""
    around = _around_question_word(question_norm)
    if around is None:
        return ""
    after, before = around
    return "".join(after[:4] or before[-2:])


def attribute_named(question_norm: str) -> bool:
    """The question names what its number or date is of after its question word ('有多少员工')."""
    around = _around_question_word(question_norm)
    return bool(around and around[0])


def _around_question_word(question_norm: str) -> tuple[list[str], list[str]] | None:
    """The content characters after a lookup's question word (to the end of its clause) and before it."""
    m = _SLOT_WH.search(question_norm)
    if not m:
        return None
    return _content_chars(re.split(r"[，,？?。！!、]", question_norm[m.end():])[0]), _content_chars(question_norm[:m.start()])


def _content_chars(text: str) -> list[str]:
    """The Han characters of the text that are not function words."""
    return [c for c in text if "\u4e00" <= c <= "\u9fff" and c not in _FILLER]


def attribute_near(attribute: str, sentence_norm: str, matches: tuple[tuple[int, str], ...], window: int = 15,
                   named: bool = False) -> bool:
    """The sentence names the asked attribute, or a typed answer stands within `window` characters of one
    of its characters: the number is the one asked for, not another number about the same topic (a near
    miss: '910C的售价' against '性能大约是H20的六倍'). A `named` attribute (the question names it after its
    question word: '有多少员工') must stand near as a word, not as one of its characters ('参加工作').
    True when there is no attribute to check."""
    if not attribute:
        return True
    if names_attribute(attribute, sentence_norm):
        return True  # the sentence names what was asked, as the question words it: the lookup's own evidence
    money = {x for c in attribute for x in _MONEY.get(c, "")}
    for at, text in matches:
        near = sentence_norm[max(0, at - window):at + len(text) + window]
        # the attribute itself (two of its characters together), or a unit or price word of money asked
        if names_attribute(attribute, near) or any(c in near for c in money) or (
                not named and any(c in near for c in attribute)):
            return True
    return False


def names_attribute(attribute: str, text_norm: str) -> bool:
    """Two characters of the attribute stand together in the text (a one-character attribute: that one)."""
    if len(attribute) == 1:
        return attribute in text_norm
    return any(attribute[i:i + 2] in text_norm for i in range(len(attribute) - 1))
