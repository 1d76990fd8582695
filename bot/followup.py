"""Follow-up questions in a chat: '那H20呢？' or '他为什么去台湾？' read with the topic of the question before."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from embeddings.textnorm import normalize

CONTEXT_SECONDS = 300  # a chat's last topic is forgotten after this long
CONTEXT_CHATS = 10_000  # chats (or group members) remembered at once; the least recent go first

# '那H20呢？', 'H20呢', '那黄仁勋呢', 'H20又怎么样？': the previous question again, about something else.
_ELLIPSIS = re.compile(r"^(?:那么?|那)?\s*(?P<topic>[^，,。？?！!呢]{1,16}?)\s*(?:呢|又怎么样|又如何|怎么样呢)\s*[？?。!！]*$")
_MORE = re.compile(r"^(?:还有呢|还有吗|还有别的吗|其他呢|别的呢)\s*[？?。!！]*$")
# Words that stand for the previous topic; only as whole words ('其他' holds 他 and is no pronoun).
PRONOUNS = ("该公司", "这家公司", "该芯片", "这款芯片", "这种芯片", "这个芯片", "该产品", "这款产品", "他们", "她们",
            "它们", "他", "她", "它", "此人", "这个人", "该人")


_LEADING = re.compile(r"^([\u4e00-\u9fff]{2,8})的")


def _latin(name: str) -> bool:
    """A model or product name written in Latin letters and digits ('H20', 'Blackwell系列')."""
    return name[:1].isascii()


@dataclass(frozen=True)
class Turn:
    """The question a chat asked last, as understood, and the names it was about (as written in it)."""

    question: str
    topics: tuple[str, ...]


NAME_TAGS = frozenset({"nr", "nrt", "nrfg", "ns", "nt", "nz", "eng"})  # people, places, bodies, brands, Latin


def topics_of(question: str, tagged: Callable[[str], list[tuple[str, str]]], taught: Callable[[str], bool],
              known: Callable[[str], bool] = lambda w: True) -> tuple[str, ...]:
    """The names a question is about, as written in it (`tagged(text)` → jieba's (word, part of speech); `taught`:
    a name this index taught jieba, tagged 'x'; `known`: a word of jieba's own dictionary). A Chinese name and a
    noun right after it that the dictionary lacks are one ('华为' + '海思'), and so are Latin words a space apart
    ('Charlie Chai'). In the order they are written, the first being what a question is mostly about."""
    folded = normalize(question)
    spans: list[tuple[int, int, str]] = []  # start, end, tag of the last word
    at = 0
    for word, flag in tagged(question):
        start = folded.find(word, at)
        if start < 0:
            continue
        at = start + len(word)
        last = spans[-1] if spans else None
        name = (flag in NAME_TAGS or (flag == "x" and taught(word))) and len(word) >= 2 and not word.isdigit()
        if last and last[1] == start and last[2] != "eng" and flag == "n" and not known(word):
            spans[-1] = (last[0], at, flag)  # '华为海思'
        elif last and flag == "eng" == last[2] and folded[last[1]:start] == " ":
            spans[-1] = (last[0], at, flag)  # 'charlie chai'
        elif name:
            spans.append((start, at, flag))
    # a maker's product ('英伟达的H20') is about the product: the maker goes
    spans = [x for i, x in enumerate(spans) if not (i + 1 < len(spans) and folded[x[1]:spans[i + 1][0]] == "的"
                                                    and not _latin(folded[x[0]:x[1]])
                                                    and _latin(folded[spans[i + 1][0]:spans[i + 1][1]]))]
    if not spans:  # no name at all: what the question opens with, up to its first 的 ('海光信息的技术地位')
        m = _LEADING.match(folded)
        spans = [(0, m.end(1), "")] if m else []
    same = len(folded) == len(question)
    return tuple(dict.fromkeys(question[a:b] if same else folded[a:b] for a, b, _ in spans))


def understood(question: str, previous: Turn | None, words: Callable[[str], list[str]]) -> str | None:
    """The question as the chat understands it, or None when it stands alone (or nothing came before):
    an ellipsis ('那H20呢？') asks the previous question about its new topic, 'what else?' asks it again, and a
    pronoun ('他', '该公司') stands for the previous topic."""
    if previous is None or not previous.topics:
        return None
    q = question.strip()
    topic = previous.topics[0]
    if _MORE.match(q):
        return previous.question
    m = _ELLIPSIS.match(q)
    if m and m.group("topic").strip():
        new = m.group("topic").strip()
        # the topic of the same sort is swapped: a model for a model ('那H20呢'), a name for a name ('外交部呢')
        old = next((t for t in previous.topics if _latin(t) == _latin(new)), topic)
        if old in previous.question:
            return previous.question.replace(old, new, 1)
    folded = normalize(q)
    if len(folded) != len(q):
        return None
    edges, at = {0}, 0  # where jieba's words begin and end: a pronoun is whole words, never part of one
    for w in words(q):
        start = folded.find(w, at)
        if start >= 0:
            edges |= {start, start + len(w)}
            at = start + len(w)
    for pronoun in sorted(PRONOUNS, key=len, reverse=True):
        start = folded.find(pronoun)
        while start >= 0:
            if start in edges and start + len(pronoun) in edges:
                return q[:start] + topic + q[start + len(pronoun):]
            start = folded.find(pronoun, start + 1)
    return None
