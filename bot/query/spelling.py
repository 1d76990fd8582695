"""Homophone typos from pinyin input ('英为达' for 英伟达): question words the corpus lacks, repaired by sound."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Callable, Iterable

MIN_SPAN, MAX_SPAN = 2, 4
COMMON_CHARACTER = 20_000  # a lone character this common in jieba's dictionary is a word ('说'), not part of a name
MIN_DOCUMENTS = 2  # a word of the corpus that jieba's dictionary lacks is a name when this many documents use it  # characters: the names a pinyin input method gets wrong are this long
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")


@dataclass(frozen=True)
class Repair:
    """A span of the question that the corpus lacks, and the corpus word that sounds the same."""

    start: int
    end: int
    typed: str
    word: str


def sound(text: str) -> str:
    """The toneless pinyin of Han text ('英伟达' → 'ying wei da'); heteronyms by their most common reading."""
    from pypinyin import lazy_pinyin

    return " ".join(lazy_pinyin(text))


def repairs(question: str, known: Callable[[str], bool], sounding: Callable[[str], list[tuple[str, int, bool]]],
            words: Iterable[str] = (), particle: Callable[[str], bool] = lambda w: False,
            tagged: Callable[[str], list[tuple[str, int]]] = lambda key: [],
            stop_word: Callable[[str], bool] = lambda w: False) -> list[Repair]:
    """The spans of the folded question to search for as another word: Han spans of 2–4 characters that are no
    word the corpus or the language knows and have no lone character beside them that is no particle
    (`particle`), for which a corpus word of the same length sounds the same (`sounding(pinyin)` → [(word,
    document frequency, is a name)], the most frequent taken; ties to the first in order; a word that is no
    name only for spans of three characters or more). A span over a word
    the question's jieba words know (`words`) is repaired only when it is 3–4 characters long and sounds like
    a name ('字节条动' → 字节跳动), and never when it cuts one of those words in two. Longer spans first; repairs
    never overlap. A name of the language's dictionary that the corpus uses (`tagged(pinyin)` → [(word, document
    frequency)]: '吴宗宪', '西吉县') is taken only for a span of 3–4 characters jieba joined to nothing, none a
    stop word (`stop_word`: '吴宗显', '共献奖'), since shorter spans and spans across words ('为哪', '上海是') sound like some place or person
    of the dictionary far too often."""
    covered = [False] * len(question)
    loose = [False] * len(question)  # a lone character jieba joined to nothing: part of a name it does not know
    inside = [False] * len(question)  # within a known word, not at its start: no span begins or ends here
    single = [False] * len(question)  # a character jieba cut alone that is no stop word
    at = 0
    for w in words:
        start = question.find(w, at)
        if start < 0:
            continue
        if len(w) >= MIN_SPAN and known(w):
            covered[start:start + len(w)] = [True] * len(w)
            inside[start + 1:start + len(w)] = [True] * (len(w) - 1)
        elif len(w) == 1 and _HAN_RUN.match(w):
            loose[start] = not particle(w)
            single[start] = not stop_word(w)
        at = start + len(w)
    for size in (MAX_SPAN, 3):  # a longer corpus word jieba cut apart ('金锺国'): no piece of it is mistyped
        for a in range(len(question) - size + 1):
            if _HAN_RUN.fullmatch(question[a:a + size]) and known(question[a:a + size]):
                covered[a:a + size] = [True] * size
    out: list[Repair] = []
    for run in _HAN_RUN.finditer(question):
        for size in range(MAX_SPAN, MIN_SPAN - 1, -1):
            for a in range(run.start(), run.end() - size + 1):
                b = a + size
                span = question[a:b]
                over_words = any(covered[a:b])
                if (over_words and size < 3) or any(r.start < b and a < r.end for r in out) or known(span):
                    continue
                if inside[a] or (b < len(question) and inside[b]):
                    continue  # '中国市' of '中国|市场': a span that cuts a known word is no word mistyped
                if (a > 0 and loose[a - 1]) or (b < len(question) and loose[b]):
                    continue  # '锺国' of '金锺国': a piece of a longer name, not a name mistyped
                # a word that is no name is trusted for longer spans only: two-character corpus words that
                # jieba's dictionary lacks are as often pieces of phrases ('二字') as they are names
                key = sound(span)
                found = [(w, n) for w, n, name in sounding(key)
                         if len(w) == size and w != span and (name or (not over_words and size >= 3))]
                if not found and size >= 3 and all(single[a:b]):
                    found = [(w, n) for w, n in tagged(key) if len(w) == size and w != span]
                if found:
                    word = max(found, key=lambda x: x[1])[0]
                    out.append(Repair(a, b, span, word))
    return sorted(out, key=lambda r: r.start)


def repaired(question: str, fixes: list[Repair]) -> str:
    """The question with each repaired span replaced by its word."""
    out, at = [], 0
    for r in fixes:
        out += [question[at:r.start], r.word]
        at = r.end
    return "".join(out + [question[at:]])


class Speller:
    """The corpus's words by sound, for one index generation: built on first use (a pinyin per word)."""

    def __init__(self, index, max_words: int = 400_000):
        self.index = index
        self.max_words = max_words
        self._by_sound: dict[str, list[tuple[str, int]]] | None = None
        self._names: frozenset[str] = frozenset()  # the tokenizer's names and the last parts of dotted ones
        self._lock = threading.Lock()

    def _table(self) -> dict[str, list[tuple[str, int]]]:
        with self._lock:
            if self._by_sound is None:
                table = corpus_sounds(self.index, self.max_words)
                names = self.index.tokenizer.names
                # a name written with its given name ('克里斯·麦奎尔') is typed as the articles go on to call it
                surnames = frozenset(w.rsplit("·", 1)[1] for w in names if "·" in w)
                for w in sorted(surnames):  # jieba cuts a dotted name apart: no word of the vocabulary
                    if MIN_SPAN <= len(w) <= MAX_SPAN and _HAN_RUN.fullmatch(w) and w not in self.index.vocab:
                        table.setdefault(sound(w), []).append((w, 1))
                self._names = names | surnames
                self._by_sound = table
            return self._by_sound

    def prepare(self) -> None:
        self._table()

    def by_sound(self, key: str) -> list[tuple[str, int]]:
        """The corpus's words (2–4 characters) that sound like the toneless pinyin `key`, with their df."""
        return self._table().get(key, [])

    def known(self, word: str) -> bool:
        """A word the corpus uses, or a word of the language: never repaired."""
        return word in self.index.vocab or self.index.tokenizer.is_word(word)

    def repairs(self, question: str) -> list[Repair]:
        """Repairs of the folded question (see `repairs`) into the corpus's own words: its names (aliases, words
        found in the articles) and terms jieba's dictionary lacks, where a pinyin slip is what a reader can't
        see and the search can't recover."""
        table = self._table()
        tokenizer = self.index.tokenizer
        names = self._names

        def sounding(key: str) -> list[tuple[str, int, bool]]:
            # the corpus's own words (names, terms jieba's dictionary lacks), used in two documents or more
            return [(w, n, w in names) for w, n in table.get(key, [])
                    if w in names or (n >= MIN_DOCUMENTS and not tokenizer.in_dictionary(w))]

        return repairs(question, self.known, sounding, tokenizer.words(question),
                       lambda w: w in tokenizer.stop_words or tokenizer.frequency(w) >= COMMON_CHARACTER,
                       lambda key: [(w, n) for w, n in table.get(key, []) if tokenizer.is_name(w)],
                       tokenizer.stop_words.__contains__)


def corpus_sounds(index, max_words: int) -> dict[str, list[tuple[str, int]]]:
    """Toneless pinyin → the corpus's Han words of 2–4 characters that sound so, with their document
    frequency (the most frequent first, up to `max_words` words looked at in all)."""
    import numpy as np

    ids = np.arange(len(index.vocab), dtype=np.int64)
    ids = ids[~index.vocab.is_gram(ids)]
    words = index.vocab.words(ids.tolist())
    keep = [(i, w) for i, w in zip(ids.tolist(), words)
            if MIN_SPAN <= len(w) <= MAX_SPAN and all("\u4e00" <= c <= "\u9fff" for c in w)]
    dfs = index.df([i for i, _ in keep]).tolist() if keep else []
    ranked = sorted(zip((w for _, w in keep), dfs), key=lambda x: (-x[1], x[0]))[:max_words]
    table: dict[str, list[tuple[str, int]]] = {}
    for w, n in ranked:
        if n > 0:
            table.setdefault(sound(w), []).append((w, n))
    return table
