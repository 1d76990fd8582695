"""What the composer derives from the index and keeps: token keys of sentences and paragraphs, folded texts,
typed answers, idf weights and a question's terms, in bounded caches under one lock."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from cachetools import FIFOCache

from bot.answer.candidates import EXPLAIN_QUOTE_CHARS
from bot.answer.features import MAX_QUOTE_CHARS, _TYPE_PATTERNS, _bigrams, _words, clause_cuts, type_matches
from bot.answer.question import SCOPE_WORDS, question_type


CACHE_LIMIT = 20_000  # entries per cache: a few KB each at most, so a long-running bot stays in bounds
TEXT_CACHE_LIMIT = 50_000  # folded texts and their typed answers: under 1 KB each, ~10 per passage
FOCUS_LIMIT = 4_096  # questions' focus words


class Evidence:
    """The derived data of one index generation (a Composer's part); `_lock`, the caches, `index` and
    `tokenizer` are the Composer's."""

    def remember(self, cache: FIFOCache, key, make):
        """cache[key], made on first use (outside the lock: making may take a while)."""
        with self._lock:
            found = cache.get(key)
        if found is None:
            found = make()
            with self._lock:
                cache[key] = found
        return found

    def keys(self, terms) -> list[int | str]:
        """The key of each term: its vocabulary id, or the term itself where the vocabulary lacks it
        (an id never equals a string, so two terms share a key only if they are the same term)."""
        terms = list(terms)
        return [t if i is None else i for t, i in zip(terms, self.index.vocab.ids(terms))]

    def sentence_keys(self, passage, i: int) -> tuple[frozenset, frozenset]:
        """(all token keys, keys of the jieba words) of the passage's i-th sentence, as stored at build time."""
        def read() -> tuple[tuple[frozenset, frozenset], ...]:
            ids = self.index.sentences_token_ids(passage.row)
            gram = self.index.vocab.is_gram(np.concatenate(ids)) if ids else np.zeros(0, bool)
            out, at = [], 0
            for x in ids:
                words = x[~gram[at:at + len(x)]]
                out.append((frozenset(x.tolist()), frozenset(words.tolist())))
                at += len(x)
            return tuple(out)

        return self.remember(self._sentence_keys, passage.row, read)[i]

    def sentence_tokens(self, passage, i: int) -> frozenset[str]:
        """Tokens of the passage's i-th sentence as strings (for inspection; answering uses keys)."""
        return frozenset(self.index.vocab.words(sorted(self.sentence_keys(passage, i)[0])))

    def pair_keys(self, passage, i: int) -> tuple[frozenset, frozenset]:
        """Keys of sentences i and i + 1 together: the unions of their sets."""
        def make() -> tuple[frozenset, frozenset]:
            a, b = self.sentence_keys(passage, i), self.sentence_keys(passage, i + 1)
            return a[0] | b[0], a[1] | b[1]

        return self.remember(self._pair_keys, (passage.row, i), make)

    def text_keys(self, text: str) -> tuple[frozenset, frozenset]:
        """Keys of a text cut now (clause windows of long sentences, stale paragraphs)."""
        return self.remember(self._text_keys, text, lambda: self._keys_of(self.token_set(text)))

    def _keys_of(self, toks: frozenset[str]) -> tuple[frozenset, frozenset]:
        """(keys of all the tokens, keys of the jieba words among them)."""
        return frozenset(self.keys(toks)), frozenset(self.keys([t for t in toks if not t.startswith("#")]))

    def window_keys(self, text: str, start: int, end: int, a: int, b: int) -> tuple[frozenset, frozenset]:
        """Keys of text[a:b], a window of whole clauses of the long sentence text[start:end]: the
        union of its clauses' tokens, which clause_window has cut already. Cutting the window again
        would give the same: jieba cuts the blocks between punctuation apart, and no bigram spans
        the punctuation a clause ends with (tests compare the two). A window that is not whole
        clauses (a sentence without clause punctuation is cut at the length limit) is cut again."""
        def make() -> tuple[frozenset, frozenset]:
            cuts = clause_cuts(text, start, end)
            clauses = [(x, y) for x, y in zip(cuts, cuts[1:]) if x < b and a < y]
            if not clauses or text[clauses[0][0]:a].strip() or text[b:clauses[-1][1]].strip():
                return self._keys_of(self.token_set(text[a:b]))
            return self._keys_of(frozenset().union(*[self.token_set(text[x:y]) for x, y in clauses]))

        return self.remember(self._text_keys, text[a:b], make)

    def paragraph_keys(self, passage) -> frozenset:
        """Token keys of the passage's whole paragraph, from the tokens the index stored for each of
        its sentences (over the paragraph's live passages, which are adjacent rows): a paragraph is not
        cut again at question time (a long one took ~10 ms on first sight)."""
        def union() -> frozenset:
            para = self.index.paragraph(passage)
            if self.index.cut_is_stale(passage.row):
                return self.text_keys(para.text)[0]  # stored before a user word was learnt: cut again
            rows = [passage.row]
            for step in (-1, 1):
                r = passage.row + step
                while self.index.is_live(r):
                    other = self.index.passage(r)
                    if (other.doc_id, other.paragraph) != (passage.doc_id, passage.paragraph):
                        break
                    rows.append(r)
                    r += step
            out: set[int] = set()
            covered = set()
            for r in rows:
                p = self.index.passage(r)
                for i, (a, b) in enumerate(p.sentences):
                    out |= self.sentence_keys(p, i)[0]
                    covered.add((p.start + a, p.start + b))
            if covered != set(para.sentences or [(0, len(para.text))]):
                return self.text_keys(para.text)[0]  # a passage of it was folded into an identical one
            return frozenset(out)

        return self.remember(self._paragraphs, (passage.doc_id, passage.paragraph), union)

    def prepare(self, rows: Sequence[int], stop=None) -> int:
        """Derive now what the first question to reach each of these passages would derive on first
        sight (sentence and pair keys, folded texts and the typed answers in them, clause tokens,
        paragraph and title tokens), so that question is answered as fast as a repeated one. For
        small indexes, in the background; returns how many passages were prepared (fewer if `stop`
        was set or a cache is half full)."""
        done = 0
        caches = (self._sentence_keys, self._pair_keys, self._token_cache, self._paragraphs, self._canonical, self._matches)
        for row in rows:
            if (stop is not None and stop.is_set()) or any(len(c) >= c.maxsize // 2 for c in caches):
                break  # half of each cache is left to questions: none is emptied by preparing
            p = self.index.passage(int(row))
            para = self.index.paragraph(p)
            sents = [(p.start + a, p.start + b) for a, b in p.sentences]
            for i, (a, b) in enumerate(sents):
                self.sentence_keys(p, i)
                if b - a > MAX_QUOTE_CHARS:  # the window is the question's; its clauses are not
                    cuts = clause_cuts(para.text, a, b)
                    for x, y in zip(cuts, cuts[1:]):
                        self.token_set(para.text[x:y])
                else:
                    self.typed_answers_of(self.canonical(para.text[a:b]))
                if i + 1 < len(sents) and sents[i + 1][1] - a <= EXPLAIN_QUOTE_CHARS:  # pairs of any kind
                    self.pair_keys(p, i)
                    self.typed_answers_of(self.canonical(para.text[a:sents[i + 1][1]]))
            self.paragraph_keys(p)
            self.token_set(self.index.document(p).title)
            done += 1
        return done

    def typed_answers(self, qtype: str, norm: str) -> tuple[tuple[int, str], ...]:
        """type_matches(qtype, norm), remembered per folded text."""
        by_type = self.remember(self._matches, norm, dict)
        found = by_type.get(qtype)
        if found is None:
            found = by_type[qtype] = type_matches(qtype, norm)
        return found

    def typed_answers_of(self, norm: str) -> None:
        """Every question type's typed answers in the folded text (preparing: any type may be asked)."""
        for qtype in _TYPE_PATTERNS:
            self.typed_answers(qtype, norm)

    def canonical(self, text: str) -> str:
        """Folded, alias-canonical text of a candidate."""
        return self.remember(self._canonical, text, lambda: self.tokenizer.canonical(text))

    def token_set(self, text: str) -> frozenset[str]:
        """Tokens of a candidate's text (clause windows, paragraphs, titles)."""
        return self.remember(self._token_cache, text, lambda: frozenset(self.tokenizer.tokens(text)))

    def idfs(self, tokens: Sequence[str]) -> dict[str, float]:
        n = max(1, self.index.rows)  # the rows df counts (see Index.idf)
        return {t: math.log(1 + (n - df + 0.5) / (df + 0.5)) for t, df in self._dfs(tokens).items()}

    def _dfs(self, tokens: Sequence[str]) -> dict[str, int]:
        """Document frequency of each token (0 for one the index does not know), in one lookup."""
        ids = self.index.vocab.ids(tokens)
        known = [i for i in ids if i is not None]
        found = iter(self.index.df(known).tolist())
        return {t: (0 if i is None else next(found)) for t, i in zip(tokens, ids)}

    def question_terms(self, question: str) -> tuple[str, dict[str, float], dict[str, float]]:
        """(question type, idf of its words, idf of its Han bigrams): computed once per question."""
        q_tokens = [t for t in self.tokenizer.query_tokens(question) if t not in SCOPE_WORDS
                    and not (t.startswith("#") and any(t[1:] in w for w in SCOPE_WORDS))]
        words, bigrams = _words(q_tokens), _bigrams(q_tokens)
        idf = self.idfs([*words, *bigrams])
        return question_type(question), {t: idf[t] for t in words}, {t: idf[t] for t in bigrams}

