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

    @property
    def size(self) -> int:
        return len(self.doclen)

    def df(self, vocab_size: int) -> np.ndarray:
        """Rows containing each global term id (0 for terms this segment lacks)."""
        out = np.zeros(vocab_size, dtype=np.int64)
        out[self.terms] = np.diff(self.ptr)
        return out


def postings(token_ids: Sequence[np.ndarray]) -> Postings:
    """Postings of rows given as arrays of global term ids (repeats count as term frequency)."""
    lengths = np.fromiter((len(t) for t in token_ids), dtype=np.int64, count=len(token_ids))
    if lengths.sum() == 0:
        return Postings(np.zeros(0, np.int32), np.zeros(1, np.int64), np.zeros(0, np.int32),
                        np.zeros(0, np.float32), lengths.astype(np.float32))
    ids = np.concatenate([np.asarray(t, dtype=np.int64) for t in token_ids])
    rows = np.repeat(np.arange(len(token_ids), dtype=np.int64), lengths)
    # One key per (term, row); counting equal keys gives tf, and the sort makes it term-major.
    keys, tf = np.unique(ids * len(token_ids) + rows, return_counts=True)
    terms_all, rows_out = np.divmod(keys, len(token_ids))
    terms, starts = np.unique(terms_all, return_index=True)
    ptr = np.append(starts, len(keys)).astype(np.int64)
    return Postings(terms.astype(np.int32), ptr, rows_out.astype(np.int32), tf.astype(np.float32),
                    lengths.astype(np.float32))


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
        norm = k1 * ((1.0 - b) + b * seg.doclen[rows] / avgdl)
        out[rows] += w * tf / (tf + norm)
