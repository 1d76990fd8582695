"""The words of a quote to set in bold: the answer of the asked type, else the question's words it repeats."""

from __future__ import annotations

import re

from bot.answer.features import _occurrences
from embeddings.textnorm import normalize

_NUMERAL = r"(?:\d[\d,.]*|[零一二三四五六七八九十百千两]+)"
# Whole answers of a type, as a reader would mark them ('27000美元', '200余万枚', '2026年1月23日', '7月31日').
SPANS = {
    "number": re.compile(_NUMERAL + r"\s*(?:余|多)?\s*(?:万亿|万|亿|千|百)?\s*(?:余|多)?\s*"
                         r"(?:亿美元|万美元|美元|亿元|万元|元|人民币|日元|欧元|%|％|倍|颗|枚|个|名|人|年|天|家|项|次|公里|座|片|岁)?"),
    "date": re.compile(r"\d{4}年(?:\d{1,2}月)?(?:\d{1,2}日)?|\d{1,2}月\d{1,2}日|\d{1,2}月(?:初|中|底)?|"
                       r"[一二三四五六七八九十]+月|(?:今|去|明)年\d{1,2}月"),
}


WINDOW = 12  # characters either side of an answer in which the question's words count for it


def marks(text: str, qtype: str, question_norm: str, words: dict[str, float]) -> tuple[tuple[int, int], ...]:
    """(start, end) offsets into `text`, sorted and not overlapping: the answer of type `qtype` that the question
    does not already hold and that has the most of the question's weight close by (`words`: folded word → idf;
    '27000美元' beside the rare 单价, not '200余万枚' beside the common H200), else every occurrence of the
    question's words (two characters or more). None when folding changes the text's length, as offsets would no
    longer line up."""
    folded = normalize(text)
    if len(folded) != len(text):
        return ()
    weights = {w: v for w, v in words.items() if len(w) > 1 and not w.startswith("#")}
    found = [(at, at + len(w), w) for w in sorted(weights, key=len, reverse=True) for at in _occurrences(w, folded)]
    pattern = SPANS.get(qtype)
    typed = [m.span() for m in pattern.finditer(folded)] if pattern else []
    typed = [(a, b) for a, b in typed if folded[a:b].strip() and folded[a:b] not in question_norm]
    if typed:
        def support(span: tuple[int, int]) -> float:  # each word once, at its nearest, fading with the gap
            best: dict[str, float] = {}
            for a, b, w in found:
                gap = max(a - span[1], span[0] - b, 0)
                if gap <= WINDOW:
                    best[w] = max(best.get(w, 0.0), weights[w] / (1 + gap))
            return sum(best.values())

        return (max(typed, key=lambda s: (support(s), -s[0])),)
    return merged([(a, b) for a, b, _ in found])


def merged(spans: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Overlapping or touching spans joined, in order."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return tuple(out)
