"""Hybrid retrieval: BM25 and dense candidates, fused by a weighted sum, near-duplicates folded."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from embeddings.encoders import Encoder
from embeddings.backend import Filters, SearchBackend
from embeddings.passages import Passage
from embeddings.textnorm import normalize

# Chosen on the dev sets (docs/benchmarks.md, `python benchmarks/retrieval.py`).
BM25_WEIGHT = 0.8
CANDIDATES = 50
CACHE_LIMIT = 2_000  # passages whose shingles are kept (~30-40 KB each as Python sets of 3-grams)
PAIR_CACHE_LIMIT = 100_000  # pairs of passages whose near-duplicate test is kept (a bool each)
DUPLICATE_JACCARD = 0.6


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float  # fused, in [0, 1]
    bm25: float  # raw BM25 score
    dense: float  # cosine similarity
    lexical: float  # BM25 normalised within this query's candidates
    corroborating: tuple[Passage, ...] = ()


def minmax(values: np.ndarray) -> np.ndarray:
    if values.size == 0:
        return values
    lo, hi = float(values.min()), float(values.max())
    if hi - lo < 1e-12:
        return np.where(values > 0, 1.0, 0.0).astype(np.float32) if hi > 0 else np.zeros_like(values)
    return (values - lo) / (hi - lo)


def fuse(bm25: np.ndarray, dense: np.ndarray, weight: float = BM25_WEIGHT) -> np.ndarray:
    """Weighted sum of BM25 scaled by the best candidate's score and the raw dense cosine.

    Min-max scaling of the cosine was measured too and is worse: it stretches the small cosine
    differences of weak candidates into full-range votes (docs/benchmarks.md).
    """
    top = float(bm25.max()) if bm25.size else 0.0
    lex = bm25 / top if top > 0 else np.zeros_like(bm25)
    return weight * lex + (1.0 - weight) * np.clip(dense, 0.0, 1.0)


def rank(candidates: Sequence[int], fused: np.ndarray) -> list[int]:
    """Positions into `candidates`, best first; ties go to the lower row id, so rankings are stable."""
    return sorted(range(len(candidates)), key=lambda i: (-float(fused[i]), candidates[i]))


_NOT_ALNUM = re.compile(r"[\W_]+")  # \w is str.isalnum() plus "_"


def shingles(text: str, n: int = 3) -> frozenset[str]:
    t = _NOT_ALNUM.sub("", normalize(text))
    return frozenset([t[i:i + n] for i in range(max(1, len(t) - n + 1))])


def near_duplicate(a: frozenset[str], b: frozenset[str], threshold: float = DUPLICATE_JACCARD) -> bool:
    if not a or not b:
        return False
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter) >= threshold or inter / min(len(a), len(b)) >= 0.9


def duplicate_pairs(sets: Iterable[frozenset[str]], threshold: float = DUPLICATE_JACCARD,
                    block: int = 512, limit: int | None = None) -> list[tuple[int, int]] | None:
    """(i, j), i < j, for every pair near_duplicate(sets[i], sets[j]) holds for: the shared counts of
    all pairs from one sparse product (a block of rows at a time), then near_duplicate's own test on
    them, in the same floating point. ~0.1 s for 1,000 passages, against ~8 µs a pair one by one.
    The sets are read one at a time and not kept (as Python sets, ~40 KB a passage). None if there
    are more than `limit` pairs (boilerplate repeated in many files pairs every copy with every other)."""
    from scipy.sparse import csr_matrix

    column: dict[str, int] = {}
    indices: list[int] = []
    sizes = []
    for x in sets:
        indices += [column.setdefault(t, len(column)) for t in x]
        sizes.append(len(x))
    sizes = np.asarray(sizes, dtype=np.int64)
    indptr = np.concatenate([[0], np.cumsum(sizes)])
    m = csr_matrix((np.ones(len(indices), dtype=np.int32), np.asarray(indices, dtype=np.int64), indptr),
                   shape=(len(sizes), len(column)))
    out = []
    for a in range(0, len(sizes), block):
        inter = (m[a:a + block] @ m.T).toarray().astype(np.int64)
        la, lb = sizes[a:a + block, None], sizes[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            near = (inter / (la + lb - inter) >= threshold) | (inter / np.minimum(la, lb) >= 0.9)
        near &= (la > 0) & (lb > 0)
        i, j = np.nonzero(near)
        upper = a + i < j
        if limit is not None and len(out) + int(upper.sum()) > limit:
            return None
        out += zip((a + i[upper]).tolist(), j[upper].tolist())
    return out


class _Stopped(Exception):
    pass


class Searcher:
    """Answers retrieval queries against one loaded Index with one encoder."""

    def __init__(self, index: SearchBackend, encoder: Encoder, weight: float = BM25_WEIGHT, candidates: int = CANDIDATES):
        if index.encoder_id != encoder.id:
            from embeddings.index import IndexMismatch

            raise IndexMismatch(f"index built with {index.encoder_id!r} cannot be searched with {encoder.id!r}")
        self.index = index
        self.encoder = encoder
        self.weight = weight
        self.candidates = candidates
        self._shingles: dict[int, frozenset[str]] = {}  # by row: the same passages come back question after question
        self._duplicates: dict[tuple[int, int], bool] = {}  # and so do the same pairs of them
        # prepared rows, and which pairs of them are near-duplicates (every other pair of them is not)
        self._paired: tuple[frozenset[int], frozenset[tuple[int, int]]] = (frozenset(), frozenset())

    def shingles(self, p: Passage) -> frozenset[str]:
        found = self._shingles.get(p.row)
        if found is None:
            if len(self._shingles) > CACHE_LIMIT:
                self._shingles = {}
            found = self._shingles[p.row] = shingles(p.text)
        return found

    def prepare(self, rows: Sequence[int], stop=None) -> int:
        """Which pairs of these passages are near-duplicates, all at once (see duplicate_pairs), ahead
        of the first question that retrieves them. Returns how many passages that covers: all, or
        none if `stop` was set meanwhile or there are more than PAIR_CACHE_LIMIT such pairs."""
        rows = [int(r) for r in rows]

        def sets():
            for row in rows:
                if stop is not None and stop.is_set():
                    raise _Stopped
                yield shingles(self.index.passage(row).text)

        try:
            pairs = duplicate_pairs(sets(), limit=PAIR_CACHE_LIMIT)
        except _Stopped:
            return 0
        if pairs is None or (stop is not None and stop.is_set()):
            return 0  # pairs are then tested as questions meet them
        self._paired = (frozenset(rows), frozenset((min(rows[i], rows[j]), max(rows[i], rows[j])) for i, j in pairs))
        return len(rows)

    def duplicates(self, p: Passage, q: Passage) -> bool:
        key = (p.row, q.row) if p.row < q.row else (q.row, p.row)
        rows, pairs = self._paired
        if key[0] in rows and key[1] in rows:
            return key in pairs
        found = self._duplicates.get(key)
        if found is None:
            if len(self._duplicates) > PAIR_CACHE_LIMIT:
                self._duplicates = {}
            found = self._duplicates[key] = near_duplicate(self.shingles(p), self.shingles(q))
        return found

    def bm25_scores(self, query: str, filters: Filters | None = None, limit: int | None = None) -> np.ndarray:
        """One BM25 score per index row (deleted rows, and rows the filters leave out, score 0); with `limit`,
        only the best `limit` rows need a score."""
        return self.index.bm25_scores(self.index.tokenizer.query_tokens(query), filters, limit)

    def matching(self, query: str, pattern: re.Pattern, k: int, scan: int = 2_000,
                 filters: Filters | None = None) -> list[Hit]:
        """Up to k passages whose folded text `pattern` finds, best BM25 for `query` first, among the `scan`
        best: a phrase the tokens cannot hold (a date such as '1月23日' is four common tokens)."""
        bm = self.bm25_scores(query, filters, limit=scan)
        if not bm.size:
            return []
        order = np.argsort(-bm, kind="stable")[:scan]
        top = float(bm[order[0]]) or 1.0
        hits: list[Hit] = []
        for row in order.tolist():
            if bm[row] <= 0 or len(hits) == k:
                break
            passage = self.index.passages[row]
            if pattern.search(normalize(passage.text)):
                hits.append(Hit(passage, float(bm[row]) / top, float(bm[row]), 0.0, float(bm[row]) / top))
        return hits

    def query_vector(self, query: str) -> np.ndarray:
        return self.encoder.encode([query])[0]

    def search(self, query: str, k: int = 5, weight: float | None = None, dedupe: bool = True,
               query_vector: np.ndarray | None = None, expansions: Sequence[tuple[str, float]] = (),
               filters: Filters | None = None) -> list[Hit]:
        if len(self.index) == 0 or not query.strip():
            return []
        weight = self.weight if weight is None else weight
        tokens = self.index.tokenizer.query_tokens(query)
        qv = np.asarray(self.query_vector(query) if query_vector is None else query_vector, dtype=np.float32)
        found = self.index.search(tokens, qv, self.candidates, expansions=expansions, filters=filters)
        if not found.rows:
            return []
        cands, cand_bm, cos = list(found.rows), found.bm25, found.dense
        fused = fuse(cand_bm, cos, weight)
        top = float(cand_bm.max()) if cand_bm.size else 0.0
        order = rank(cands, fused)
        # Every hit read (k of them and their folded near-duplicates) comes from the best few; a remote backend
        # reads those in one request rather than one at a time.
        self.index.prefetch([cands[pos] for pos in order[:2 * k + 6]])
        hits: list[Hit] = []
        dupes: list[list[Passage]] = []
        for pos in order:
            p = self.index.passages[cands[pos]]
            if dedupe:
                match = next((j for j, h in enumerate(hits) if self.duplicates(p, h.passage)), None)
                if match is not None:
                    dupes[match].append(p)
                    continue
                dupes.append([])
            hits.append(Hit(p, float(fused[pos]), float(cand_bm[pos]), float(cos[pos]),
                            float(cand_bm[pos] / top) if top > 0 else 0.0))
            # With folding on, scan a little past k so near-duplicates of the kept hits are found.
            if len(hits) >= (k + 3 if dedupe else k):
                break
        if dedupe:
            hits = [Hit(h.passage, h.score, h.bm25, h.dense, h.lexical, tuple(d)) for h, d in zip(hits, dupes)]
        return hits[:k]


class SearcherSlot:
    """Holds the searcher the bot answers from; a reindex swaps in a fully loaded one between questions."""

    def __init__(self, searcher: Searcher | None = None):
        self._searcher = searcher
        self._lock = threading.Lock()

    def get(self) -> Searcher:
        searcher = self._searcher
        if searcher is None:
            raise RuntimeError("no index loaded yet")
        return searcher

    def swap(self, searcher: Searcher) -> Searcher | None:
        with self._lock:
            old, self._searcher = self._searcher, searcher
        return old
