"""BM25 over per-segment postings with collection-wide statistics, so segments can be added and dropped.

bm25s bakes the collection's idf and average length into its stored scores, so an index built with
it must be rebuilt whole whenever any file changes. Here each segment keeps raw term counts
(term-major, like bm25s's sparse matrix before scoring) and the score is computed at query time
with the statistics of all live segments together, as Lucene does. The formula is bm25s's default
("lucene": k1 = 1.5, b = 0.75); tests check the scores equal bm25s's on the same tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

K1 = 1.5
B = 0.75


@dataclass(frozen=True)
class Postings:
    """Term counts of one segment: rows[ptr[k]:ptr[k+1]] hold term terms[k], with counts tf[...]."""

    terms: np.ndarray  # int32, sorted global term ids present in the segment
    ptr: np.ndarray  # int64, len(terms) + 1
    rows: np.ndarray  # int32, segment-local passage rows
    tf: np.ndarray  # float32
    doclen: np.ndarray  # float32, tokens per row
    bound: np.ndarray  # float32 per term: the largest tf / (tf + norm) of its postings at bound_avgdl
    bound_avgdl: float  # the average row length the bounds were computed with (this segment's own)

    @property
    def size(self) -> int:
        return len(self.doclen)

    def df(self, vocab_size: int) -> np.ndarray:
        """Rows containing each global term id (0 for terms this segment lacks)."""
        out = np.zeros(vocab_size, dtype=np.int64)
        out[self.terms] = np.diff(self.ptr)
        return out


ROW_BLOCK = 8192  # rows whose (term, row) pairs are sorted at a time
BOUND_PAIRS = 1 << 22  # postings whose saturations are computed at a time


def postings(token_ids: Sequence[np.ndarray], row_block: int = ROW_BLOCK) -> Postings:
    """Postings of rows given as arrays of global term ids (repeats count as term frequency).

    A segment of 10^5 passages has ~3·10^7 tokens: sorting one int64 key per token at once took ~750 MB
    beside them. Here each block of rows is sorted on its own, twice: once to count every term's postings
    (which places each term's run), once to write its pairs into their runs, rows ascending."""
    lengths = np.fromiter((len(t) for t in token_ids), dtype=np.int64, count=len(token_ids))
    if lengths.sum() == 0:
        return Postings(np.zeros(0, np.int32), np.zeros(1, np.int64), np.zeros(0, np.int32),
                        np.zeros(0, np.float32), lengths.astype(np.float32), np.zeros(0, np.float32), 1.0)
    n = len(token_ids)
    starts = range(0, n, row_block)
    counted = [_block_terms(token_ids, a, min(a + row_block, n)) for a in starts]
    terms = np.unique(np.concatenate([t for t, _ in counted]))
    per_term = np.zeros(len(terms), dtype=np.int64)
    for block_terms, block_counts in counted:
        per_term[np.searchsorted(terms, block_terms)] += block_counts
    ptr = np.concatenate([[0], np.cumsum(per_term)]).astype(np.int64)
    del per_term
    rows_out = np.empty(ptr[-1], dtype=np.int32)
    tf = np.empty(ptr[-1], dtype=np.float32)
    free = ptr[:-1].copy()  # where each term's next posting goes
    for a, (block_terms, block_counts) in zip(starts, counted):
        pair_terms, pair_rows, pair_tf = _block_pairs(token_ids, a, min(a + row_block, n))
        at = np.searchsorted(terms, block_terms)
        # a pair's place: its term's next free slot, plus how many of the block's pairs of that term precede it
        first = np.concatenate([[0], np.cumsum(block_counts)[:-1]])
        dest = np.repeat(free[at] - first, block_counts) + np.arange(len(pair_terms))
        rows_out[dest] = pair_rows
        tf[dest] = pair_tf
        free[at] += block_counts
    doclen = lengths.astype(np.float32)
    avgdl = float(np.mean(doclen, dtype=np.float64))
    bound = np.empty(len(terms), dtype=np.float32)
    k = 0
    while k < len(terms):  # whole terms at a time, about BOUND_PAIRS postings each
        end = max(k + 1, int(np.searchsorted(ptr, ptr[k] + BOUND_PAIRS, side="right")) - 1)
        end = min(end, len(terms))
        a, b = int(ptr[k]), int(ptr[end])
        saturation = tf[a:b] / (tf[a:b] + _norm(doclen[rows_out[a:b]], avgdl))
        bound[k:end] = np.maximum.reduceat(saturation, ptr[k:end] - a)
        k = end
    return Postings(terms.astype(np.int32), ptr, rows_out, tf, doclen, bound, avgdl)


def _block_keys(token_ids: Sequence[np.ndarray], a: int, b: int) -> np.ndarray:
    """Rows a..b-1 as sorted keys term · (b - a) + (row - a), one per token."""
    width = b - a
    lengths = np.fromiter((len(t) for t in token_ids[a:b]), dtype=np.int64, count=width)
    keys = np.concatenate([np.zeros(0, np.int64), *token_ids[a:b]]).astype(np.int64, copy=False)
    keys *= width
    keys += np.repeat(np.arange(width, dtype=np.int64), lengths)
    keys.sort()
    return keys


def _block_terms(token_ids: Sequence[np.ndarray], a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
    """The terms of rows a..b-1, sorted, and how many of those rows hold each."""
    pair_terms = _block_pairs(token_ids, a, b)[0]
    starts = _run_starts(pair_terms)
    # int32: every block's are kept until the second pass, and a block of 8,192 rows holds ~10^6 terms
    return pair_terms[starts].astype(np.int32), np.diff(starts, append=len(pair_terms)).astype(np.int32)


def _block_pairs(token_ids: Sequence[np.ndarray], a: int, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows a..b-1's (term, row) pairs, term-major and rows ascending: terms, rows (segment-local), counts."""
    keys = _block_keys(token_ids, a, b)
    at = _run_starts(keys)
    counts = np.diff(at, append=len(keys))
    pairs = keys[at]
    return pairs // (b - a), (pairs % (b - a) + a).astype(np.int32), counts


def _run_starts(values: np.ndarray) -> np.ndarray:
    """Where each run of equal values of a sorted array begins."""
    first = np.empty(len(values), dtype=bool)
    first[:1] = True
    np.not_equal(values[1:], values[:-1], out=first[1:])
    return np.flatnonzero(first)


def _norm(doclen: np.ndarray, avgdl: float, k1: float = K1, b: float = B) -> np.ndarray:
    """BM25's length normalisation of rows of these lengths: tf / (tf + norm) is a term's saturation."""
    return k1 * ((1.0 - b) + b * doclen / avgdl)


def row_saturations(seg: Postings, avgdl: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The postings row by row, as a search engine that takes one sparse vector per row wants them:
    (where each row's terms start, term ids, tf / (tf + norm)), the BM25 weight of each before idf."""
    term_of = np.repeat(seg.terms.astype(np.int64), np.diff(seg.ptr))
    rows = np.asarray(seg.rows, dtype=np.int64)
    saturation = seg.tf / (seg.tf + _norm(seg.doclen[rows], avgdl))
    order = np.argsort(rows, kind="stable")
    starts = np.searchsorted(rows[order], np.arange(seg.size + 1))
    return starts, term_of[order], np.asarray(saturation, dtype=np.float32)[order]


def idf(df: np.ndarray, n: int) -> np.ndarray:
    return np.log(1.0 + (n - df + 0.5) / (df + 0.5))


def add_scores(out: np.ndarray, seg: Postings, query_ids: np.ndarray, weights: np.ndarray, avgdl: float,
               k1: float = K1, b: float = B) -> None:
    """Add the BM25 contribution of each query term (weights = its idf) to `out` (one value per row)."""
    if len(seg.terms) == 0 or len(query_ids) == 0:
        return
    pos = np.searchsorted(seg.terms, query_ids)
    pos = np.minimum(pos, len(seg.terms) - 1)
    for k, w in zip(pos[seg.terms[pos] == query_ids].tolist(), weights[seg.terms[pos] == query_ids].tolist()):
        a, z = int(seg.ptr[k]), int(seg.ptr[k + 1])
        rows = seg.rows[a:z]
        tf = seg.tf[a:z]
        out[rows] += w * tf / (tf + _norm(seg.doclen[rows], avgdl, k1, b))


def _lookup(seg: Postings, a: int, z: int, local: np.ndarray, w: float, avgdl: float, k1: float = K1, b: float = B):
    """Contributions of one term to the given sorted segment-local rows (0 where the term is absent)."""
    rows = seg.rows[a:z]
    # the needles in the haystack's dtype: otherwise numpy converts the whole posting list per call
    local = local.astype(rows.dtype)
    pos = np.minimum(np.searchsorted(rows, local), len(rows) - 1)
    found = rows[pos] == local
    tf = np.where(found, seg.tf[a + pos], 0.0).astype(np.float32)
    return w * tf / (tf + _norm(seg.doclen[local], avgdl, k1, b))


def _find(seg: Postings, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(indexes into `ids`, positions in the segment's term list) of the terms the segment has."""
    if len(seg.terms) == 0 or len(ids) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    pos = np.minimum(np.searchsorted(seg.terms, ids.astype(seg.terms.dtype)), len(seg.terms) - 1)
    found = np.flatnonzero(seg.terms[pos] == ids)
    return found, pos[found]


def document_frequencies(segments: Sequence[Postings], term_ids: Sequence[int]) -> np.ndarray:
    """Rows containing each term, summed over the segments (only the terms asked for are looked up)."""
    ids = np.asarray(term_ids, dtype=np.int64)
    out = np.zeros(len(ids), dtype=np.int64)
    for seg in segments:
        j, k = _find(seg, ids)
        out[j] += seg.ptr[k + 1] - seg.ptr[k]
    return out


def _term_ranges(segments: Sequence[Postings], query_ids: np.ndarray) -> list[list[tuple[int, int, int, int]]]:
    """For each query term, the (segment, term position, start, end) of its postings in every segment that has it."""
    out: list[list[tuple[int, int, int, int]]] = [[] for _ in query_ids]
    ids = np.asarray(query_ids, dtype=np.int64)
    for s, seg in enumerate(segments):
        for j, k in zip(*(x.tolist() for x in _find(seg, ids))):
            out[j].append((s, k, int(seg.ptr[k]), int(seg.ptr[k + 1])))
    return out


def _add_terms(out: np.ndarray, segments: Sequence[Postings], starts: np.ndarray, ranges: list, terms: Sequence[int],
               weights: np.ndarray, avgdl: float) -> None:
    """Add every posting of the given query terms to `out` (one value per global row): per segment,
    all of them gathered in one pass and summed by bincount into that segment's rows."""
    for s, seg in enumerate(segments):
        spans = [(a, z, float(weights[j])) for j in terms for t, _, a, z in ranges[j] if t == s]
        if not spans:
            continue
        base = int(starts[s])
        # each term's postings are one run: copied whole, not gathered element by element
        rows = np.concatenate([seg.rows[a:z] for a, z, _ in spans])
        tf = np.concatenate([seg.tf[a:z] for a, z, _ in spans])
        w = np.repeat(np.asarray([x[2] for x in spans], dtype=np.float64), [z - a for a, z, _ in spans])
        contrib = w * tf / (tf + _norm(seg.doclen[rows], avgdl))
        # The same sums either way (float64, in term order, then float32), so identical passages in
        # two segments score identically and tie as they should.
        if len(rows) * 32 < seg.size:  # few postings: summing into every row of the segment costs more
            touched, inverse = np.unique(rows, return_inverse=True)
            out[base + touched] += np.bincount(inverse, weights=contrib).astype(np.float32)
        else:
            out[base:int(starts[s + 1])] += np.bincount(rows, weights=contrib, minlength=seg.size).astype(np.float32)


def _lower_kth(full: np.ndarray, segments: Sequence[Postings], starts: np.ndarray, ranges: list, sizes: list[int],
               k: int) -> float | None:
    """A positive lower bound of the k-th best score in `full`: the k-th best among the rows of the
    rarest term, if it has k rows scoring above 0 (else None). Rows below it cannot be in the top k,
    so the top k is chosen among fewer rows."""
    rarest = min((j for j in range(len(sizes)) if sizes[j] >= k), key=lambda j: sizes[j], default=None)
    if rarest is not None:
        rows = np.concatenate([segments[s].rows[a:z].astype(np.int64) + starts[s] for s, _, a, z in ranges[rarest]])
        scores = full[rows]
        scores = scores[scores > 0]
        if len(scores) >= k:
            return float(np.partition(scores, len(scores) - k)[len(scores) - k])
    return None


# Postings: under this, scoring them all costs less than pruning's bookkeeping. Measured at 10^6
# passages (news questions, ~40 terms of which ~10 single characters): every question, up to 4.6M
# postings, was answered faster exhaustively (7-23 ms against 13-26 ms pruned), once the lists are
# copied as runs and the top k chosen among rows above a lower bound of the k-th best.
EXHAUSTIVE_BELOW = 8_000_000
SEED_POSTINGS = 50_000  # the rarest terms' postings scored first, for a lower bound of the k-th best


def top_k(segments: Sequence[Postings], starts: np.ndarray, query_ids: np.ndarray, weights: np.ndarray,
          avgdl: float, k: int, live: np.ndarray, also: np.ndarray | None = None,
          exhaustive_below: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The k best live rows by BM25 with a score above 0 (global row ids, best first, ties to the
    lower row), their scores, and the scores of the rows `also` (e.g. the dense candidates): equal to
    ranking add_scores' full array. Up to EXHAUSTIVE_BELOW postings every posting is scored; past
    it, MaxScore avoids reading every posting of every query term:

    MaxScore (Turtle & Flood 1995): each term's contribution is bounded by its idf times the largest
    saturation tf / (tf + norm) among its postings, stored per segment at build time and scaled up
    when the collection's average length has grown since (the saturation grows at most in
    proportion). Terms are taken by falling bound and scored over all their postings until the
    bounds of the rest add up to less than the k-th best partial score: no row outside the rows
    seen so far can then reach the top k. The rest (typically single characters and common words,
    the longest lists) are looked up by binary search for the surviving candidates only, which are
    dropped as soon as their score plus what is left to add falls below the k-th best.
    """
    query_ids = np.asarray(query_ids, dtype=np.int64)
    also = np.zeros(0, np.int64) if also is None else np.asarray(also, dtype=np.int64)
    if not len(query_ids) or k <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32), np.zeros(len(also), np.float32)
    ranges = _term_ranges(segments, query_ids)
    sizes = [sum(z - a for _, _, a, z in rs) for rs in ranges]  # postings of each term, all segments
    # Bounds need weights ≥ 0 (partial scores must only grow); others are scored exhaustively.
    below = EXHAUSTIVE_BELOW if exhaustive_below is None else exhaustive_below
    if sum(sizes) < below or (np.asarray(weights) < 0).any():
        full = np.zeros(int(starts[-1]), dtype=np.float32)
        _add_terms(full, segments, starts, ranges, range(len(query_ids)), weights, avgdl)
        full[~live] = 0.0
        bound = _lower_kth(full, segments, starts, ranges, sizes, k)
        rows = np.flatnonzero(full > 0 if bound is None else full >= bound)
        if len(rows) > k:  # all rows tying with the k-th, so the lower rows win the tie below
            rows = rows[full[rows] >= -np.partition(-full[rows], k - 1)[k - 1]]
        rows = rows[np.lexsort((rows, -full[rows]))][:k]
        return rows, full[rows], full[also]
    upper = np.zeros(len(query_ids), dtype=np.float64)
    for j, rs in enumerate(ranges):
        for s, t, a, z in rs:
            seg = segments[s]
            scale = max(1.0, avgdl / seg.bound_avgdl)
            upper[j] = max(upper[j], float(weights[j]) * float(seg.bound[t]) * scale)
    upper *= 1.0 + 1e-4  # float32 rounding in the scores must never exceed a bound
    order = sorted((j for j in range(len(query_ids)) if ranges[j]), key=lambda j: (-upper[j], int(query_ids[j])))
    rest = [float(upper[j]) for j in order]
    tail = np.concatenate([np.cumsum(rest[::-1])[::-1], [0.0]]) if rest else np.zeros(1)  # tail[i] = bound of order[i:]
    # and a rounding allowance on the whole score, so float32 sums that round onto the k-th score tie as they should
    tail[:-1] += 1e-5 * tail[0]

    def kth(values: np.ndarray) -> float:
        return float(np.partition(values, len(values) - k)[len(values) - k]) if len(values) >= k else 0.0

    # Essential terms, every posting: first the rarest (few postings, and where the best rows
    # usually are), whose k-th best partial score is a lower bound of the final k-th best; then
    # every further term until the bounds of the rest add up to less than that.
    acc = np.zeros(int(starts[-1]), dtype=np.float32)
    i, read = 0, 0
    while i < len(order) and (i == 0 or read + sizes[order[i]] <= SEED_POSTINGS):
        read += sizes[order[i]]
        i += 1
    _add_terms(acc, segments, starts, ranges, order[:i], weights, avgdl)
    theta = kth(acc[np.flatnonzero((acc > 0) & live)])
    essential = i
    while essential < len(order) and tail[essential] >= theta:
        essential += 1
    _add_terms(acc, segments, starts, ranges, order[i:essential], weights, avgdl)
    i = essential
    cand = np.flatnonzero((acc > 0) & live)
    score = acc[cand]
    theta = max(theta, kth(score))  # all rows seen now, not just the rarest terms'
    keep = score + tail[i] >= theta
    # Non-essential terms: only the surviving candidates and the rows asked for (`also`, never
    # dropped), by binary search.
    extra = np.unique(also[live[also]])
    cand = cand[keep]
    new = extra[~np.isin(extra, cand, assume_unique=True)]
    cand = np.insert(cand, np.searchsorted(cand, new), new)  # still sorted, without sorting it again
    forced = np.zeros(len(cand), dtype=bool)
    forced[np.searchsorted(cand, extra)] = True
    score = acc[cand]
    seg_of = np.searchsorted(starts, cand, side="right") - 1
    while i < len(order) and len(cand):
        j = order[i]
        for s, _, a, z in ranges[j]:
            sel = np.flatnonzero(seg_of == s)
            if len(sel):
                score[sel] += _lookup(segments[s], a, z, cand[sel] - starts[s], float(weights[j]), avgdl)
        i += 1
        theta = max(theta, kth(score))
        keep = (score + tail[i] >= theta) | forced
        cand, score, seg_of, forced = cand[keep], score[keep], seg_of[keep], forced[keep]
    final = dict(zip(cand[forced].tolist(), score[forced].tolist()))
    also_scores = np.asarray([final.get(r, 0.0) for r in also.tolist()], dtype=np.float32)
    best = np.lexsort((cand, -score))[:k]
    cand, score = cand[best], score[best]
    keep = score > 0
    return cand[keep], score[keep], also_scores
