"""Candidate quotes: every sentence and pair of the retrieved passages, with its evidence features and the
learned scorer's logit."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from bot.answer.features import MAX_QUOTE_CHARS, _TYPE_PATTERNS, clause_window, coverage_over, type_match, typed_near
from bot.answer.question import focus_words
from embeddings.search import Hit


EXPLAINING = ("why", "how", "said", "compare")  # kinds whose answer is an explanation, not a value
EXPLAIN_QUOTE_CHARS = 240  # a reason or a statement often takes two sentences


@dataclass(frozen=True)
class Candidate:
    hit_rank: int
    hit: Hit
    start: int  # paragraph offsets
    end: int
    features: dict
    score: float = 0.0
    bonus: float = 0.0  # what the form added to the lookup scorer's logit
    role: str = "answer"
    event: str | None = None  # the date of what it reports, where the form needs one

    @property
    def key(self) -> tuple[str, int, int, int]:
        """Where it stands: (document, paragraph, start, end)."""
        return self.hit.passage.doc_id, self.hit.passage.paragraph, self.start, self.end

    def moved(self, passage, start: int, end: int) -> "Candidate":
        """The same candidate's standing for another span, of `passage` (a sentence next to it, a row)."""
        return replace(self, hit=replace(self.hit, passage=passage, corroborating=()), start=start, end=end)

    @property
    def coverage(self) -> float:
        return self.features["coverage"]

    @property
    def typed(self) -> float:
        return self.features["typed"]


# Quote length is deliberately not a feature: longer quotes contain answers more often, but a
# quote should be chosen for what it says, and users want the shortest one that answers.
SCORER_FEATURES = ["coverage", "bigram_coverage", "local_coverage", "typed", "dense_sentence", "hit_ratio",
                   "hit_rank_inv", "is_pair", "first_sentence", "listy", "titled", "novelty", "focus",
                   "typed_near"]
DEFAULT_SCORER = {"weights": {"coverage": 2.2, "bigram_coverage": 1.2, "local_coverage": 1.0, "typed": 0.6,
                              "dense_sentence": 1.0, "hit_ratio": 0.9, "hit_rank_inv": 0.3, "is_pair": -0.15,
                              "first_sentence": 0.0, "listy": 0.3, "titled": 0.3, "novelty": 0.3},
                  "bias": -3.0}
_LIST_Q = re.compile(r"哪些|有什么|包括|分别|哪几|几类|几种|种类|类型|特征|特点")
_TITLE_Q = re.compile(r"哪部|哪一部|什么作品|哪本|什么书|什么著作|作品|专辑|电影|歌曲|小说|书名")


class Candidates:
    """Making and scoring candidate quotes (a Composer's part)."""

    def candidates(self, question: str, hits: Sequence[Hit], query_vector: np.ndarray | None = None,
                   terms: tuple[str, dict[str, float], dict[str, float]] | None = None,
                   limit: int = MAX_QUOTE_CHARS, synonyms: dict[str, tuple[tuple[str, float], ...]] | None = None
                   ) -> list[Candidate]:
        """Every sentence and adjacent pair of the hits (pairs and long sentences' clause windows at most
        `limit` characters), with its evidence features, best first. A question word's `synonyms` ((word,
        credit), …) count for their credit of it in the word coverage."""
        qtype, q_words, q_bigrams = terms or self.question_terms(question)
        if not hits or not (q_words or q_bigrams):
            return []
        q_norm = self.tokenizer.canonical(question)
        focus = self.remember(self._focus, question, lambda: focus_words(question, self.tokenizer.tokens))
        listy_q = bool(_LIST_Q.search(q_norm))
        titled_q = bool(_TITLE_Q.search(q_norm))
        keep = set(q_words) | set(q_bigrams)
        top_score = max(h.score for h in hits) or 1.0
        raw: list[tuple[int, Hit, int, int, bool, bool, int]] = []
        paras = [self.index.paragraph(hit.passage) for hit in hits]
        for rank, hit in enumerate(hits):
            para = paras[rank]
            sents = [(hit.passage.start + a, hit.passage.start + b) for a, b in hit.passage.sentences]
            for i, (a, b) in enumerate(sents):
                first = bool(para.sentences) and (a, b) == para.sentences[0]
                if b - a > limit:
                    a, b = clause_window(para.text, a, b, keep, self.token_set, limit)
                raw.append((rank, hit, a, b, False, first, i))
                if i + 1 < len(sents) and sents[i + 1][1] - sents[i][0] <= limit:
                    raw.append((rank, hit, sents[i][0], sents[i + 1][1], True, False, i))
        texts, token_sets, word_sets = [], [], []
        for rank, h, a, b, pair, _, i in raw:
            texts.append(paras[rank].text[a:b])
            sa, sb = h.passage.sentences[i]
            if pair:
                toks, words = self.pair_keys(h.passage, i)
            elif (a, b) == (h.passage.start + sa, h.passage.start + sb):
                toks, words = self.sentence_keys(h.passage, i)
            else:  # a clause window of a long sentence
                toks, words = self.window_keys(paras[rank].text, h.passage.start + sa, h.passage.start + sb, a, b)
            token_sets.append(toks)
            word_sets.append(words)
        # The question's terms as keys too, in the same order (sums run over them in that order).
        alts = {w: syns for w, syns in (synonyms or {}).items() if w in q_words}
        others = [s for syns in alts.values() for s, _ in syns]
        key = dict(zip([*q_words, *q_bigrams, *focus, *others], self.keys([*q_words, *q_bigrams, *focus, *others])))
        q_words_k = {key[t]: w for t, w in q_words.items()}
        q_bigrams_k = {key[t]: w for t, w in q_bigrams.items()}
        focus_k = {key[t] for t in focus}
        alts_k = {key[w]: tuple((key[s], credit) for s, credit in syns) for w, syns in alts.items()}
        # Which of the question's keys each candidate holds: every feature below that looks at
        # tokens depends only on that set, and most candidates share one of a few such sets.
        q_all = frozenset(key.values())
        present = [q_all & toks for toks in token_sets]
        # Local weight: a question word found in most sentences of the paragraph names the topic,
        # not the answer; words that pick out one sentence matter more.
        para_sent_tokens: dict[tuple[str, int], list[frozenset]] = {}
        for (rank, hit, a, b, pair, _, _), held in zip(raw, present):
            if not pair:
                para_sent_tokens.setdefault((hit.passage.doc_id, hit.passage.paragraph), []).append(held)
        local_of: dict[tuple[str, int], dict[str, float]] = {}
        for where, sibling in para_sent_tokens.items():
            if len(sibling) > 1:
                seen = Counter(t for st in sibling for t in q_words_k.keys() & st)
                local_of[where] = {t: w * (1.0 - seen[t] / len(sibling)) for t, w in q_words_k.items()}
        dense = self._dense(question, raw, query_vector)
        q_keys = frozenset(q_words_k)
        near_words = [(t, key[t]) for t in focus | set(q_words)]
        weights = np.asarray([self.scorer["weights"].get(k, 0.0) for k in SCORER_FEATURES], dtype=np.float64)
        bias = self.scorer.get("bias", 0.0)
        typed_q = qtype in _TYPE_PATTERNS  # else both typed features are 0 and need no folded text
        word_coverage, bigram_coverage = coverage_over(q_words_k, alts_k), coverage_over(q_bigrams_k)
        # a one-sentence passage has nothing to tell apart locally (so the question's weights hold)
        local_coverage = {where: coverage_over(local) for where, local in local_of.items()}
        ratio = [hit.score / top_score for hit in hits]
        rank_inv = [1.0 / (1 + rank) for rank in range(len(hits))]
        by_held: dict[frozenset, tuple[float, float, float, set[str]]] = {}
        by_local: dict[tuple, float] = {}
        found: list[tuple[int, Hit, int, int, tuple]] = []
        for (rank, hit, a, b, pair, first, _), text, words, held, cos in zip(raw, texts, word_sets, present, dense):
            shared = by_held.get(held)
            if shared is None:
                shared = by_held[held] = (word_coverage(held), bigram_coverage(held),
                                          len(focus_k & held) / len(focus) if focus else 0.0,
                                          {t for t, k in near_words if k in held})
            where = (hit.passage.doc_id, hit.passage.paragraph)
            local = by_local.get((where, held))
            if local is None:
                local = by_local[where, held] = local_coverage.get(where, word_coverage)(held)
            typed = near = 0.0
            if typed_q:
                norm = self.canonical(text)
                matches = self.typed_answers(qtype, norm)
                if matches:  # else both are 0
                    typed = type_match(qtype, norm, q_norm, matches)
                    near = typed_near(qtype, norm, q_norm, shared[3], matches=matches)
            values = (shared[0], shared[1], local, typed, float(cos), ratio[rank], rank_inv[rank],
                      1.0 if pair else 0.0, 1.0 if first else 0.0,
                      1.0 if listy_q and ("、" in text or "," in text or "，" in text) else 0.0,
                      1.0 if titled_q and ("《" in text or "「" in text) else 0.0,
                      min(1.0, (len(words) - len(q_keys & words)) / 8.0), shared[2], near)
            found.append((rank, hit, a, b, values))
        if not found:
            return []
        # The scorer's weighted sum, added left to right as a Python loop would (accumulate is sequential).
        z = (bias + np.add.accumulate(np.asarray([x[4] for x in found], dtype=np.float64) * weights, axis=1)[:, -1]).tolist()
        out = [Candidate(rank, hit, a, b, dict(zip(SCORER_FEATURES, values)), score)
               for (rank, hit, a, b, values), score in zip(found, z)]
        out.sort(key=lambda c: (-c.score, c.hit_rank, c.start, c.end))
        return out

    def _dense(self, question: str, raw: list, query_vector: np.ndarray | None) -> list[float]:
        """Cosine of the question with each candidate, from the sentence vectors stored in the index."""
        if not raw:
            return []
        if query_vector is None:
            if self.encoder is None:
                return [0.0] * len(raw)
            query_vector = self.encoder.encode([question])[0]
        rows = list(dict.fromkeys(hit.passage.row for _, hit, *_ in raw))
        blocks = self.index.sentence_vectors(rows)  # one read for all of them (one request, from a server)
        starts = np.cumsum([0, *[len(b) for b in blocks]]).tolist()
        at = dict(zip(rows, starts))  # passage row → where its sentences' vectors start in `stacked`
        stacked = np.concatenate(blocks)
        first = np.asarray([at[hit.passage.row] + i for _, hit, _, _, _, _, i in raw], dtype=np.int64)
        pair = np.asarray([x[4] for x in raw], dtype=bool)
        v = stacked[first]
        v[pair] += stacked[first[pair] + 1]  # a pair's vector is the sum of its two sentences'
        norms = np.linalg.norm(v, axis=1)
        cos = (v @ np.asarray(query_vector, dtype=np.float32)).astype(np.float64)
        return (cos / np.where(norms > 0, norms, 1.0).astype(np.float64)).tolist()

