"""One immutable segment on disk: its store, postings, vectors, sentence data and FAISS index, opened for reading."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from embeddings import bm25
from embeddings.store import Store
from embeddings.vocab import RowFile, mapped
from embeddings.index.dense import nprobe
from embeddings.index.manifest import SegmentEntry
from embeddings.index.storage import read_json


class Segment:
    """One immutable segment: store (SQLite), postings (memory-mapped), vectors and sentence data
    (read with pread), FAISS index (in memory)."""

    def __init__(self, folder: Path):
        import faiss

        self.path = Path(folder)
        self.name = self.path.name
        self.info = SegmentEntry.from_segment_json(read_json(self.path / "segment.json"))
        self.rows = self.info.rows
        self.store = Store(self.path / "store.sqlite")
        # Term ids, list offsets and per-term bounds are read at scattered places (a question's
        # terms), so without read-ahead; postings mostly as whole runs, so the kernel may read ahead.
        def load(name: str, random_access: bool = True) -> np.ndarray:
            return mapped(self.path / f"{name}.npy", random_access)

        self.postings = bm25.Postings(load("postings.terms"), load("postings.ptr"),
                                      load("postings.rows", False), load("postings.tf", False),
                                      load("postings.doclen", False), load("postings.bound"),
                                      float(self.info.bound_avgdl))
        self.vectors = RowFile(self.path / "vectors.npy", widen=True)
        self.sentence_vectors = RowFile(self.path / "sentence_vectors.npy", widen=True)
        # Sentence data is read a passage at a time, for the hits: read, not mapped (see RowFile).
        self.sentence_ptr = RowFile(self.path / "sentence_ptr.npy")
        self.sentence_tokens = RowFile(self.path / "sentence_tokens.npy")
        self.sentence_token_ptr = RowFile(self.path / "sentence_token_ptr.npy")
        self.dense = None
        if self.rows:
            self.dense = faiss.read_index(str(self.path / "dense.faiss"))
            if self.info.index_type.startswith("IVF"):
                ivf = faiss.extract_index_ivf(self.dense)
                ivf.nprobe = nprobe(ivf.nlist)
        if (len(self.postings.doclen) != self.rows or self.vectors.shape[0] != self.rows
                or len(self.postings.bound) != len(self.postings.terms)
                or len(self.sentence_ptr) != self.rows + 1 or self.sentence_vectors.shape[0] != int(self.sentence_ptr[-1])
                or len(self.sentence_token_ptr) != int(self.sentence_ptr[-1]) + 1
                or (self.dense is not None and self.dense.ntotal != self.rows)):
            raise ValueError(f"segment {self.name} is inconsistent")
