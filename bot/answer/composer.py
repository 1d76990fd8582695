"""The composer: retrieved hits → scored candidate quotes → an answer or an abstention."""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
from cachetools import FIFOCache

from bot.answer.calibration import calibrated, load_calibration, thresholds
from bot.answer.dates import event_date
from bot.answer.features import (MAX_QUOTE_CHARS, _TYPE_PATTERNS, _bigrams, _words, asked_attribute, attribute_named, attribute_near,
                                 names_attribute,
                                 clause_cuts, clause_window,
                                 coverage_over, type_match, type_matches, typed_near, weighted_coverage)
from bot.answer.forms import (ANNOUNCES, EXPLAIN_MARGIN, LIST_MARGIN, MAX_FORM_QUOTES, STORY_DOCS, TIMELINE_MARGIN, Option,
                              choose,
                              decisive, restated,
                              form_bonus)
from bot.answer.model import Answer, Note, Quote, Source
from bot.answer.question import (SCOPE_WORDS, Question, analyse, as_written, focus_words, holds_names,
                                 question_type)
from embeddings.index import Index
from embeddings.search import Hit

MAX_QUOTES = 3
EXPLAINING = ("why", "how", "said", "compare")  # kinds whose answer is an explanation, not a value
EXPLAIN_QUOTE_CHARS = 240  # a reason or a statement often takes two sentences
STORY_ROWS = 300  # passages of the story's article read for its dated events
FORM_OPTIONS = 200  # candidates an answer form chooses among
LIST_REACH = 12  # paragraphs after a list's announcer read for its items
LIST_ITEM = re.compile(r"\s*(?:\d{1,2}|[一二三四五六七八九十]{1,3})\s*[、.．]|\s*[（(]\s*(?:\d{1,2}|[一二三四五六七八九十]{1,3})\s*[）)]")
SYNONYM_CREDIT = 0.5  # of a question word, for a sentence that holds its synonym instead
ON_POINT_MARGIN = 2.0  # logits behind the top a lookup's on-point quote may be and still go first
DECISIVE_THRESHOLD = 0.3
# A story's dated events: the question names the story, its events rarely repeat the question's words.
SEQUENCE_THRESHOLD = 0.1  # the confidence a decisive quote (forms.decisive) needs


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


CACHE_LIMIT = 20_000  # entries per cache: a few KB each at most, so a long-running bot stays in bounds
TEXT_CACHE_LIMIT = 50_000  # folded texts and their typed answers: under 1 KB each, ~10 per passage


FOCUS_LIMIT = 4_096  # questions' focus words


class Composer:
    """Turns retrieved hits into an Answer. Holds the index (idf weights, paragraphs) and the encoder."""

    def __init__(self, index: Index, calibration: dict | None = None, encoder=None):
        self.index = index
        self.encoder = encoder
        self.tokenizer = index.tokenizer
        self.calibration = calibration if calibration is not None else load_calibration()
        self.scorer = self.calibration.get("scorer", DEFAULT_SCORER)
        # The same news sentences come back question after question, so the composer keeps what it derived
        # from them, in caches bounded by entries (oldest out first; reads do not reorder them, which costs
        # nothing on the hot path) and shared by the bot's answering threads under one lock.
        self._lock = threading.Lock()
        self._token_cache: FIFOCache = FIFOCache(CACHE_LIMIT)  # clause windows → their tokens
        # Candidates' tokens are handled as term keys (the vocabulary id, or the term itself where the
        # vocabulary lacks it), so the token ids stored per sentence need no decoding to strings.
        self._sentence_keys: FIFOCache = FIFOCache(CACHE_LIMIT)
        self._pair_keys: FIFOCache = FIFOCache(CACHE_LIMIT)
        self._text_keys: FIFOCache = FIFOCache(CACHE_LIMIT)
        self._canonical: FIFOCache = FIFOCache(TEXT_CACHE_LIMIT)
        self._paragraphs: FIFOCache = FIFOCache(CACHE_LIMIT)
        self._matches: FIFOCache = FIFOCache(TEXT_CACHE_LIMIT)  # folded text → qtype → typed answers
        self._focus: FIFOCache = FIFOCache(FOCUS_LIMIT)

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
            if self.index.stale_cut[self.index.segment_of(passage.row)]:
                return self.text_keys(para.text)[0]  # stored before a user word was learnt: cut again
            rows = [passage.row]
            for step in (-1, 1):
                r = passage.row + step
                while 0 <= r < self.index.rows and self.index.live[r]:
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

    def idf(self, token: str) -> float:
        return self.idfs([token])[token]

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
        at: dict[int, int] = {}  # passage row → where its sentences' vectors start in `stacked`
        blocks, n = [], 0
        for _, hit, *_ in raw:
            row = hit.passage.row
            if row not in at:
                at[row] = n
                blocks.append(self.index.sentence_vectors(row))
                n += len(blocks[-1])
        stacked = np.concatenate(blocks)
        first = np.asarray([at[hit.passage.row] + i for _, hit, _, _, _, _, i in raw], dtype=np.int64)
        pair = np.asarray([x[4] for x in raw], dtype=bool)
        v = stacked[first]
        v[pair] += stacked[first[pair] + 1]  # a pair's vector is the sum of its two sentences'
        norms = np.linalg.norm(v, axis=1)
        cos = (v @ np.asarray(query_vector, dtype=np.float32)).astype(np.float64)
        return (cos / np.where(norms > 0, norms, 1.0).astype(np.float64)).tolist()

    def compose(self, question: str, hits: Sequence[Hit], query_vector: np.ndarray | None = None,
                asked: Question | None = None, synonyms: dict[str, tuple[str, ...]] | None = None) -> Answer:
        asked = asked or analyse(question)
        terms = self.question_terms(question)
        qtype, q_words, _ = terms
        limit = EXPLAIN_QUOTE_CHARS if asked.kind in EXPLAINING else MAX_QUOTE_CHARS
        credits, evidence_words = self.with_synonyms(q_words, synonyms or {})
        cands = self.candidates(question, hits, query_vector, terms, limit, credits)
        if not cands:
            return self._abstain(asked, hits, 0.0, qtype, {"reason": "no hits or no content words"}, q_words)
        cands = self.reranked(asked, cands)
        on_point = True
        if asked.kind == "fact" and qtype in ("number", "date"):
            cands, on_point = self.on_point(asked, qtype, cands)
        best = cands[0]
        features = {
            "coverage": best.features["coverage"],
            "bigram_coverage": best.features["bigram_coverage"],
            "typed": best.features["typed"],
            "fused": best.hit.score,
            "lexical": best.hit.lexical,
            "dense": best.hit.dense,
            "dense_sentence": best.features["dense_sentence"],
            "bm25": best.hit.bm25,
            "missing_idf": self._missing_mass(evidence_words),
            "qtype_known": 0.0 if qtype == "other" else 1.0,
            **self._paragraph_evidence(evidence_words, best.hit),
            "scorer": 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, best.score - best.bonus)))),
            "form_bonus": best.bonus,
        }
        alternatives: list[str] = []
        taken: list[tuple[str, int, int, int]] = []
        for c in cands:
            key = c.key
            if any(k[:2] == key[:2] and k[2] < c.end and c.start < k[3] for k in taken):
                continue  # overlaps a better candidate of the same paragraph
            taken.append(key)
            alternatives.append(self.index.paragraph(c.hit.passage).text[c.start:c.end])
            if len(alternatives) == 3:
                break
        # Kept for evaluation: what would be quoted, even when the answer is withheld.
        features["alternatives"] = alternatives
        confidence = calibrated(features, self.calibration)
        threshold, hedge = thresholds(self.calibration, asked.kind)
        if asked.kind in ("status", "timeline", "compare") and asked.entities and not self.named(asked, cands[:40]):
            on_point = False  # no article names what the question is about
        features["on_point"] = float(on_point)
        if not on_point:  # a number or date about the topic, but not the one asked for
            return self._abstain(asked, hits, confidence, qtype, features, q_words)
        if asked.kind == "overview":
            about = [c for c in cands if self.about(asked, c)]
            if not about:  # no sentence names every keyword: the articles do not cover it
                return self._abstain(asked, hits, confidence, qtype, features, q_words)
            chosen, note = self._form(asked, about)
            return self._answer(asked, chosen, confidence, qtype, features, note, hits)
        if asked.kind == "fact" and asked.scope != "latest":
            chosen, note = self._choose(best, cands), None
        else:
            chosen, note = self._form(asked, cands)
        best_norm = self.canonical(self.index.paragraph(best.hit.passage).text[best.start:best.end])
        # A quote with what the kind is defined by, or a timeline of two or more dated events of the story,
        # answers even when few of the question's words recur in it.
        if decisive(asked, best_norm):
            threshold = hedge = min(threshold, self.calibration.get("decisive", DECISIVE_THRESHOLD))
        elif note is not None and note.key == "sequence":
            # two or more dated events that all name the question's names are the story asked for
            floor = 0.0 if asked.entities else self.calibration.get("sequence", SEQUENCE_THRESHOLD)
            threshold = hedge = min(threshold, floor)
        if confidence < hedge:
            return self._abstain(asked, hits, confidence, qtype, features, q_words)
        if confidence < threshold:
            chosen, note = [best], Note("hedge")
        return self._answer(asked, chosen, confidence, qtype, features, note, hits)

    def about(self, asked: Question, c: Candidate) -> bool:
        """The candidate names every word of a keyword query (its names as whole words)."""
        norm = self.canonical(self.index.paragraph(c.hit.passage).text[c.start:c.end])
        if not holds_names(asked, norm):
            return False
        words = self.remember(self._focus, ("keywords", asked.keywords), lambda: tuple(dict.fromkeys(
            self.canonical(w) for k in asked.keywords for w in self.tokenizer.words(k)
            if len(w) >= 2 and w not in self.tokenizer.stop_words and not re.fullmatch(r"[a-z0-9.\-]+", w))))
        return all(w in norm for w in words)

    def named(self, asked: Question, cands: list[Candidate]) -> bool:
        """Some candidate's paragraph names everything the question names; for a comparison, each compared
        name is named by some paragraph (the things compared are often told apart in different rows)."""
        paras = {c.key[:2]: self.canonical(self.index.paragraph(c.hit.passage).text) for c in cands}
        if asked.kind == "compare" and len(asked.entities) >= 2:
            return all(any(holds_names(replace(asked, entities=(e,)), p) for p in paras.values()) for e in asked.entities)
        return any(holds_names(asked, p) for p in paras.values())

    def on_point(self, asked: Question, qtype: str, cands: list[Candidate]) -> tuple[list[Candidate], bool]:
        """For a number or date lookup: the best candidate close behind the top (ON_POINT_MARGIN) with a typed
        answer the question does not give, of the asked attribute, whose paragraph names the question's names,
        goes first; False when none is (the articles hold numbers about the topic, not the one asked)."""
        q_norm = self.tokenizer.canonical(asked.text)
        attribute = asked_attribute(q_norm)
        named = qtype == "number" and attribute_named(q_norm)  # a date's attribute is often an event's verb
        for i, c in enumerate(cands):
            if c.score < cands[0].score - ON_POINT_MARGIN:
                break
            norm = self.canonical(self.index.paragraph(c.hit.passage).text[c.start:c.end])
            para = self.canonical(self.index.paragraph(c.hit.passage).text)
            # a value the question does not already give ('4月访华是哪一天' is not answered by its own '4月')
            fresh = tuple((at, text) for at, text in self.typed_answers(qtype, norm) if text not in q_norm)
            if not fresh or not (attribute_near(attribute, norm, fresh, named=named) or names_attribute(attribute, para)):
                continue
            if asked.entities and not holds_names(asked, para):
                continue
            return ([c, *cands[:i], *cands[i + 1:]] if i else cands), True
        return cands, False

    def merged(self, question: str, parts: Sequence[Answer]) -> Answer:
        """One answer to a question asked in parts: the answered parts' quotes in order (each once), their
        sources, the lowest confidence among them, and what a refused part lacks as the note. Refused
        whole only when every part is."""
        asked = analyse(question)
        answered = [a for a in parts if not a.abstained]
        if not answered:
            first = parts[0]
            return replace(first, question=question, kind=asked.kind, script=asked.script)
        quotes: list[Quote] = []
        sources: list[Source] = []
        for a in answered:
            for q in a.quotes:
                if any(q.passage.doc_id == x.passage.doc_id and q.start == x.start and q.end == x.end
                       and q.passage.paragraph == x.passage.paragraph for x in quotes):
                    continue
                if len(quotes) == MAX_FORM_QUOTES:
                    break
                quotes.append(q)
                src = a.sources[a.source_number(q) - 1]
                if not any(x.doc_id == src.doc_id and x.paragraph == src.paragraph for x in sources):
                    sources.append(src)
        refused = [a for a in parts if a.abstained]
        note = refused[0].note if refused else next((a.note for a in answered if a.note is not None), None)
        return Answer(question, False, min(a.confidence for a in answered), tuple(quotes), tuple(sources), (),
                      answered[0].qtype, answered[0].features, asked.kind, note, asked.script,
                      tuple(h for a in parts for h in a.hits))

    def reranked(self, asked: Question, cands: list[Candidate]) -> list[Candidate]:
        """The candidates with the bonus their wording earns for the question's kind, best first."""
        out = []
        for c in cands:
            norm = self.canonical(self.index.paragraph(c.hit.passage).text[c.start:c.end])
            bonus = form_bonus(asked, norm, c.hit.passage.kind == "table_row")
            if asked.kind in ("why", "how"):
                bonus += restated(asked, norm, c.features["novelty"])
            out.append(replace(c, score=c.score + bonus, bonus=bonus) if bonus else c)
        out.sort(key=lambda c: (-c.score, c.hit_rank, c.start, c.end))
        return out

    def _form(self, asked: Question, cands: list[Candidate]) -> tuple[list[Candidate], Note | None]:
        """The quotes of the question's answer form (status, timeline, event, list), in their order and roles."""
        by_key: dict[tuple, Candidate] = {}
        options: list[Option] = []

        def offer(c: Candidate) -> None:
            if c.key not in by_key:
                by_key[c.key] = c
                options.append(self._option(c))

        for c in cands[:FORM_OPTIONS]:
            offer(c)
        if asked.kind in EXPLAINING + ("list",) and cands:
            # What follows the best quote may be the answer it announces ('狄奥根尼回答说：'), even when the
            # retrieved passages stop before it.
            nxt = self._after(cands[0])
            if nxt is not None:
                offer(replace(nxt, score=cands[0].score - EXPLAIN_MARGIN))
        if asked.kind == "timeline" and cands:
            # The story's articles tell its events in order: their sentences that date themselves are candidates
            # too, at the bottom of the form's margin, a little higher the more of the question's words they hold.
            floor = cands[0].score - TIMELINE_MARGIN
            weights = self.question_terms(asked.text)[1]
            share = coverage_over(weights)
            story: list[Candidate] = []
            for c in cands:
                if c.hit.passage.doc_id not in {x.hit.passage.doc_id for x in story}:
                    story.append(c)
                if len(story) == STORY_DOCS:
                    break
            for c in (x for best in story for x in self._dated_sentences(best)):
                if c.key in by_key:
                    continue
                text = self.index.paragraph(c.hit.passage).text[c.start:c.end]
                if asked.entities and not holds_names(asked, self.canonical(text)):
                    continue
                offer(replace(c, score=floor + share(self.token_set(text)), bonus=0.0))
        if asked.kind == "list" and asked.scope != "latest" and options:
            # a sentence that announces items ('几家核心企业的定位如下：') at its paragraph's end: the rows follow
            announcer = next((o for o in options if o.score >= options[0].score - LIST_MARGIN
                              and o.ends_paragraph and ANNOUNCES.search(o.norm)), None)
            if announcer is not None:
                return self._list(asked, by_key[announcer.key]), None
        picked, note = choose(asked, options)
        chosen = [replace(by_key[o.key], role=o.role, event=o.event or o.published) for o in picked]
        topic = asked.text.strip(" ?？。.!！") if note == "overview" else ""
        return chosen, (Note(note, topic=topic) if note else None)

    def _option(self, c: Candidate) -> Option:
        """A candidate as the forms see it: its text, folded text, dates and place in its paragraph."""
        para = self.index.paragraph(c.hit.passage)
        text = para.text[c.start:c.end]
        published = self.index.document(c.hit.passage).date
        return Option(c.key, text, self.canonical(text), c.score, published, event_date(text, published),
                      ends_paragraph=not para.text[c.end:].strip())

    def _list(self, asked: Question, best: Candidate) -> list[Candidate]:
        """A sentence announcing a list ('如下：'), then its items: the first sentence of each paragraph that
        follows (numbered ones while they go on, else the next few), the ones holding the most of the
        question's words where there are more than fit."""
        doc = self.index.document(best.hit.passage)
        items: list[Candidate] = []
        numbered = None
        for para in doc.paragraphs[best.hit.passage.paragraph + 1:best.hit.passage.paragraph + 1 + LIST_REACH]:
            a, b = para.sentences[0] if para.sentences else (0, len(para.text))
            passage = self._following(best.hit.passage, para.index, a) if para.text.strip() else None
            if passage is None:
                continue  # boilerplate left out of the index (a repeated headline) interrupts no list
            if numbered is None:
                numbered = bool(LIST_ITEM.match(para.text))
            elif numbered != bool(LIST_ITEM.match(para.text)) or not numbered and len(items) == MAX_FORM_QUOTES - 1:
                break
            if b - a > MAX_QUOTE_CHARS:
                b = a + len(para.text[a:a + MAX_QUOTE_CHARS].rsplit("；", 1)[0]) if "；" in para.text[a:a + MAX_QUOTE_CHARS] else a + MAX_QUOTE_CHARS
            items.append(replace(best.moved(passage, a, b), role="answer"))
        if len(items) > MAX_FORM_QUOTES - 1:
            share = coverage_over(self.question_terms(asked.text)[1])
            ranked = sorted(range(len(items)), key=lambda i: (-share(self.token_set(self._text(items[i]))), i))
            items = [items[i] for i in sorted(ranked[:MAX_FORM_QUOTES - 1])]
        return [best, *items]

    def _text(self, c: Candidate) -> str:
        return self.index.paragraph(c.hit.passage).text[c.start:c.end]

    def _after(self, best: Candidate) -> Candidate | None:
        """The sentence right after `best`: the next one of its paragraph, else the first of the next paragraph."""
        para = self.index.paragraph(best.hit.passage)
        for a, b in para.sentences:
            if best.end <= a <= best.end + 2:
                passage = best.hit.passage if a < best.hit.passage.end else self._following(best.hit.passage, para.index, a)
                return None if passage is None else replace(best.moved(passage, a, min(b, a + EXPLAIN_QUOTE_CHARS)),
                                                            bonus=0.0)
        if para.text[best.end:].strip():
            return None
        doc = self.index.document(best.hit.passage)
        if para.index + 1 >= len(doc.paragraphs):
            return None
        nxt = doc.paragraphs[para.index + 1]
        a, b = nxt.sentences[0] if nxt.sentences else (0, len(nxt.text))
        passage = self._following(best.hit.passage, nxt.index, a)
        return None if passage is None else replace(best.moved(passage, a, min(b, a + EXPLAIN_QUOTE_CHARS)), bonus=0.0)

    def _dated_sentences(self, best: Candidate, reach: int = STORY_ROWS) -> list[Candidate]:
        """The sentences of `best`'s article (its passages are adjacent rows) that state a date of their own,
        in the article's order, as candidates shaped like `best`."""
        doc_id, row = best.hit.passage.doc_id, best.hit.passage.row
        rows = []
        for step in (-1, 1):
            r = row if step == 1 else row - 1
            while 0 <= r < self.index.rows and abs(r - row) <= reach and self.index.live[r]:
                if self.index.passage(r).doc_id != doc_id:
                    break
                rows.append(r)
                r += step
        published = self.index.document(best.hit.passage).date
        out, seen = [], set()
        for r in sorted(rows):
            p = self.index.passage(r)
            text = self.index.paragraph(p).text
            for a, b in p.sentences:
                a, b = p.start + a, p.start + b
                if (p.paragraph, a) in seen or b - a > EXPLAIN_QUOTE_CHARS:
                    continue
                seen.add((p.paragraph, a))
                sentence = text[a:b]
                if event_date(sentence, published) is not None:
                    out.append(best.moved(p, a, b))
        return out

    def _following(self, passage, paragraph: int, offset: int):
        """The live passage of the same document holding `offset` of a later paragraph (passages of one
        document are adjacent rows, in order), or None."""
        for row in range(passage.row + 1, min(self.index.rows, passage.row + 40)):
            if not self.index.live[row]:
                return None
            p = self.index.passage(row)
            if p.doc_id != passage.doc_id or p.paragraph > paragraph:
                return None
            if p.paragraph == paragraph and p.start <= offset < p.end:
                return p
        return None

    def with_synonyms(self, q_words: dict[str, float], synonyms: dict[str, tuple[str, ...]]
                      ) -> tuple[dict[str, tuple[tuple[str, float], ...]], dict[str, float]]:
        """The synonyms' credits, and the question's words as the evidence features weigh them. A word the
        articles never use ('被禁') is worded as they word it ('禁止'): its synonyms count in full, and its most
        used synonym stands for it where a missing word would make the answer look unfounded; a word they use
        keeps its weight and its synonyms count for SYNONYM_CREDIT."""
        if not synonyms:
            return {}, q_words
        df = self._dfs(list(q_words))
        credits = {w: tuple((x, 1.0 if not df[w] else SYNONYM_CREDIT) for x in syns) for w, syns in synonyms.items()}
        swap = {w: syns[0] for w, syns in synonyms.items() if w in q_words and not df[w]}
        return credits, {swap.get(w, w): v for w, v in q_words.items()}

    def _paragraph_evidence(self, q_words: dict[str, float], hit: Hit) -> dict:
        """How much of the question the quoted paragraph covers, and the rarest word it lacks.

        A question about something the corpus does not hold usually names it (a person, a
        place, a product): that name's high idf, missing from the paragraph, gives it away.
        """
        para_keys = self.paragraph_keys(hit.passage)
        title_tokens = self.token_set(self.index.document(hit.passage).title)
        q_words_k = dict(zip(self.keys(q_words), q_words.values()))
        top = max(q_words.values(), default=0.0)
        missing = [w for t, w in q_words_k.items() if t not in para_keys]
        return {
            "paragraph_coverage": weighted_coverage(q_words_k, para_keys),
            "rarest_missing": (max(missing) / top) if missing and top > 0 else 0.0,
            # Questions usually name what the article is about, and the title names it too.
            "title_coverage": weighted_coverage(q_words, title_tokens),
        }

    def _missing_mass(self, q_words: dict[str, float]) -> float:
        """Share of the question's idf mass made of words the whole index never uses."""
        total = sum(q_words.values())
        if total <= 0:
            return 0.0
        df = self._dfs(list(q_words))
        return sum(w for t, w in q_words.items() if not df[t]) / total

    def _choose(self, best: Candidate, cands: list[Candidate]) -> list[Candidate]:
        """The best quote, plus up to two from other documents that answer about as well."""
        chosen = [best]
        docs = {best.hit.passage.doc_id}
        for c in cands[1:]:
            if len(chosen) >= MAX_QUOTES:
                break
            if c.hit.passage.doc_id in docs:
                continue
            # A close second from another outlet (scores are logits of the learned scorer).
            if c.score >= best.score - 1.5 and c.coverage >= 0.6 * best.coverage and c.typed >= best.typed:
                chosen.append(c)
                docs.add(c.hit.passage.doc_id)
        if len(chosen) > 1:
            # Several sources: show how the story moved, newest first (undated last).
            chosen.sort(key=lambda c: (self.index.document(c.hit.passage).date or "", c.score), reverse=True)
        return chosen

    def _source(self, hit: Hit) -> Source:
        doc = self.index.document(hit.passage)
        para = self.index.paragraph(hit.passage)
        return Source(doc.id, doc.path, doc.title, doc.date, doc.url, para.section, para.text, round(hit.score, 4),
                      hit.passage.paragraph, doc.source,
                      tuple(dict.fromkeys(self.index.document(p).title for p in hit.corroborating)))

    def _answer(self, asked: Question, chosen: list[Candidate], confidence: float, qtype: str, features: dict,
                note: Note | None, hits: Sequence[Hit]) -> Answer:
        sources: list[Source] = []
        quotes = []
        role = "context" if note is not None and note.key == "hedge" else None
        for c in chosen:
            para = self.index.paragraph(c.hit.passage)
            text = para.text[c.start:c.end]
            date = c.event or event_date(text, self.index.document(c.hit.passage).date) or self.index.document(c.hit.passage).date
            quotes.append(Quote(text, c.hit.passage, c.start, c.end, round(c.score, 4), c.coverage, date, role or c.role))
            if not any(s.doc_id == c.hit.passage.doc_id and s.paragraph == c.hit.passage.paragraph for s in sources):
                sources.append(self._source(c.hit))
        return Answer(asked.text, False, round(confidence, 4), tuple(quotes), tuple(sources), (), qtype, features,
                      asked.kind, note, asked.script, tuple(hits))

    def _abstain(self, asked: Question, hits: Sequence[Hit], confidence: float, qtype: str, features: dict,
                 q_words: dict[str, float]) -> Answer:
        related = tuple(self._source(h) for h in hits[:2] if h.score > 0)
        return Answer(asked.text, True, round(confidence, 4), (), (), related, qtype, features, asked.kind,
                      self._not_found(asked, hits, q_words), asked.script, tuple(hits))

    def _not_found(self, asked: Question, hits: Sequence[Hit], q_words: dict[str, float]) -> Note:
        """What the articles lack, in the question's own words: its rarest word none of the hits holds,
        else its topic (a name, or its rarest word) and what was asked of it."""
        held = frozenset().union(*[self.paragraph_keys(h.passage) for h in hits[:3]]) if hits else frozenset()
        ranked = sorted(q_words, key=lambda t: (-q_words[t], t))
        keys = dict(zip(ranked, self.keys(ranked)))
        absent = [t for t in ranked if keys[t] not in held and len(t) > 1]
        if absent:
            return Note("not_found", topic=as_written(asked.text, absent[0]))
        topic = asked.entities[0] if asked.entities else as_written(asked.text, ranked[0]) if ranked else ""
        return Note("not_answered", topic=topic, what=asked.kind if asked.kind != "fact" else asked.slot)
