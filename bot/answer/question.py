"""Question analysis: what kind of answer a question asks for, about what, and when."""

from __future__ import annotations

import re

from embeddings.textnorm import normalize

_QTYPES = [
    ("reason", re.compile(r"为什么|为何|什么原因|原因是|因何|怎么会")),
    ("date", re.compile(r"何时|哪天|哪一天|什么时候|哪年|哪一年|几月|几号|何年|什么时间|哪个时候|日期|哪个月|几年")),
    ("number", re.compile(r"多少|几[个名人次年天倍种项家位条座只枚颗件届所]|几|多大|多高|多长|多重|多久|多远|多深|多宽|百分之|比例|价格|售价|单价|金额|人数|数量")),
    ("person", re.compile(r"谁|何人|哪位|哪个人|哪些人|什么人|哪名")),
    ("place", re.compile(r"哪里|哪儿|何处|何地|什么地方|哪个国家|哪国|哪座|哪个城市|哪一地区|哪个地区|在哪|哪个省")),
]

_WH = re.compile(r"多少|几|什么|啥|哪|谁|何|怎么|怎样|如何|为什么|为何|是否|吗|呢|多大|多高|多长|多久|多远")


def focus_words(question: str, tokenize) -> set[str]:
    """The content words right around the question word: what the answer sentence must talk about.

    '紫堇属植物的花序有什么类型' → {'花序', '类型'}; '广三铁路在哪年建成' → {'铁路', '建成'}.
    """
    q = normalize(question)
    m = _WH.search(q)
    if not m:
        return set()
    before = [t for t in tokenize(q[: m.start()]) if not t.startswith("#")]
    after = [t for t in tokenize(q[m.end():]) if not t.startswith("#")]
    return set(before[-2:] + after[:1])


def question_type(question: str) -> str:
    q = normalize(question)
    for name, pattern in _QTYPES:
        if pattern.search(q):
            return name
    return "other"
