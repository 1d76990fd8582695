"""A loaded generation's documents and passages seen as a mapping and a sequence, read on demand."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from embeddings.documents import Document

if TYPE_CHECKING:
    from embeddings.index.reader import Index
    from embeddings.index.segment import Segment


class Documents(Mapping):
    """The live documents by id, read on demand (listing them all reads every segment's list)."""

    def __init__(self, index: "Index"):
        self._index = index
        self._where: dict[str, tuple[Segment, int]] | None = None
        self._lock = threading.Lock()

    def _map(self) -> dict[str, tuple[Segment, int]]:
        with self._lock:
            if self._where is None:
                where = {}
                for seg, ranges in self._index.doc_ranges():
                    rows = seg.store.document_rows()
                    live = np.zeros(len(rows), dtype=bool)
                    for a, b in ranges:
                        live[a:b] = True
                    where.update((doc_id, (seg, row)) for row, doc_id, _ in rows if live[row])
                self._where = where
            return self._where

    def __getitem__(self, doc_id: str) -> Document:
        seg, row = self._map()[doc_id]
        return seg.store.document(row)

    def __iter__(self):
        return iter(self._map())

    def __len__(self) -> int:
        return self._index.manifest.counts.documents

    def __contains__(self, doc_id) -> bool:
        return doc_id in self._map()


class Passages(Sequence):
    """Passages by index row (rows of deleted files stay numbered but are never returned by search);
    iterating yields only the live ones."""

    def __init__(self, index: "Index"):
        self._index = index

    def __getitem__(self, row):
        return self._index.passage(int(row))

    def __len__(self) -> int:
        return self._index.live_count

    def __iter__(self):
        for row in np.flatnonzero(self._index.live).tolist():
            yield self._index.passage(row)
