"""FAISS layouts for a segment's passage vectors: exact up to FLAT_LIMIT, IVF over 4-bit codes beyond, re-scored."""

from __future__ import annotations


import numpy as np


FLAT_LIMIT = 20_000  # exact search in segments up to here; IVF with 4-bit product codes beyond
PROBE_SHARE = 4  # IVF: search one list in this many (at least 24); recall is measured in docs/benchmarks.md
ADD_ROWS = 16_384  # vectors added to an index at a time
REFINE = 4  # IVF: this many times k approximate neighbours are re-scored with the stored vectors


def choose_index_type(n: int, dim: int) -> str:
    """Exact search up to FLAT_LIMIT; above, IVF over 4-bit product codes of 4 dimensions each
    (fast-scan: 64 bytes per 512-d vector instead of 2 KB, scanned with SIMD lookups), whose
    approximate neighbours are re-scored exactly from the stored vectors (see refine)."""
    if n <= FLAT_LIMIT:
        return "Flat"
    nlist = max(64, int(np.sqrt(n)))
    # product codes need a number of sub-vectors that divides the dimension (and is even, for
    # fast-scan); the most with ≥ 4 dimensions each, else 8-bit scalar codes
    m = next((m for m in range(dim // 4, 1, -1) if dim % m == 0 and m % 2 == 0), None)
    return f"IVF{nlist},PQ{m}x4fs" if m else f"IVF{nlist},SQ8"


def nprobe(nlist: int) -> int:
    return min(nlist, max(24, nlist // PROBE_SHARE))


def build_faiss(vectors: np.ndarray, index_type: str):
    """Exact inner-product search for small segments; IVF over product codes above."""
    import faiss

    dim = vectors.shape[1]
    if index_type == "Flat":
        index = faiss.IndexFlatIP(dim)
    elif index_type.startswith("IVF"):
        index = faiss.index_factory(dim, index_type, faiss.METRIC_INNER_PRODUCT)
        nlist = faiss.extract_index_ivf(index).nlist
        # 40 points per list is what k-means needs; more only costs time. A fixed seed keeps builds repeatable.
        sample = np.random.default_rng(0).choice(len(vectors), min(len(vectors), 40 * nlist), replace=False)
        index.train(np.ascontiguousarray(vectors[np.sort(sample)], dtype=np.float32))
    else:
        raise ValueError(f"unknown FAISS index type {index_type!r}")
    for a in range(0, len(vectors), ADD_ROWS):  # in float32 a block at a time, not a whole segment (200 MB at 10^5)
        index.add(np.ascontiguousarray(vectors[a:a + ADD_ROWS], dtype=np.float32))
    return index


def refine(rows: np.ndarray, approx: np.ndarray, exact, k: int, pool: int) -> list[int]:
    """The k best `rows` by exact score (`exact(rows)`), taken from the `pool` best by approximate
    score; ties go to the lower row. Product codes rank neighbours roughly; re-scoring a few times k
    of them with the real vectors restores the order (recall measured in docs/benchmarks.md)."""
    return refine_scored(rows, approx, exact, k, pool)[0].tolist()


def refine_scored(rows: np.ndarray, approx: np.ndarray, exact, k: int, pool: int) -> tuple[np.ndarray, np.ndarray]:
    """refine's rows, with their exact scores."""
    rows = np.asarray(rows, dtype=np.int64)
    if not len(rows):
        return np.zeros(0, np.int64), np.zeros(0, np.float64)
    order = np.lexsort((rows, -np.asarray(approx, dtype=np.float64)))[:pool]
    rows = np.sort(rows[order])
    scores = np.asarray(exact(rows), dtype=np.float64)
    best = np.lexsort((rows, -scores))[:k]
    return rows[best], scores[best]
