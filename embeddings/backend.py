"""The one seam between answering and storage: what a search backend (local segments, Qdrant) offers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from embeddings.documents import Document, Paragraph
from embeddings.passages import Passage
from embeddings.tokens import Tokenizer
from embeddings.vocab import Vocabulary


@dataclass(frozen=True)
class Filters:
    """Which documents a search may return: by outlet (any of them) and by date (inclusive, ISO 8601 prefixes).

    A document without a date is left out once either date bound is set: nothing says it is in range.
    """

    outlets: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None

    def __bool__(self) -> bool:
        return bool(self.outlets or self.since or self.until)

    def admits(self, doc: Document) -> bool:
        if self.outlets and (doc.source or "") not in self.outlets:
            return False
        if self.since or self.until:
            day = (doc.date or "")[:10]
            if not day or (self.since and day < self.since[:10]) or (self.until and day > self.until[:10]):
                return False
        return True


@dataclass(frozen=True)
class Candidates:
    """A query's candidate rows (ascending) with each one's BM25 score and its cosine with the query vector:
    the union of the best k by BM25 and the best k by the dense vectors, both parts scored for every row."""

    rows: tuple[int, ...]
    bm25: np.ndarray  # float32, raw BM25 (0 where no query term occurs)
    dense: np.ndarray  # float32, inner product of unit vectors

    @classmethod
    def none(cls) -> "Candidates":
        return cls((), np.zeros(0, np.float32), np.zeros(0, np.float32))


class SearchBackend(Protocol):
    """A loaded, published generation of the corpus, read-only: search, then the text and data answers need.

    Rows number the generation's passages; a document's passages are adjacent rows in order, and rows
    outside the live set (deleted files, repeated furniture) are never returned.
    """

    generation: str
    encoder_id: str
    rows: int  # one past the highest row
    live_count: int
    tokenizer: Tokenizer
    vocab: Vocabulary  # term ids of passages, sentences and questions
    documents: Mapping[str, Document]
    passages: Sequence[Passage]
    live: np.ndarray  # bool per row

    def __len__(self) -> int: ...

    def search(self, tokens: list[str], vector: np.ndarray, k: int, expansions: Sequence[tuple[str, float]] = (),
               filters: Filters | None = None) -> Candidates: ...

    def bm25_scores(self, tokens: list[str], filters: Filters | None = None, limit: int | None = None) -> np.ndarray:
        """One score per row; with `limit`, only the best `limit` rows need theirs (the others may be 0)."""
        ...

    def prefetch(self, rows: Sequence[int]) -> None: ...

    def passage(self, row: int) -> Passage: ...

    def document(self, passage: Passage) -> Document: ...

    def paragraph(self, passage: Passage) -> Paragraph: ...

    def is_live(self, row: int) -> bool: ...

    def cut_is_stale(self, row: int) -> bool: ...

    def df(self, term_ids: Sequence[int]) -> np.ndarray: ...

    def vectors(self, rows: Sequence[int]) -> np.ndarray: ...

    def sentence_vectors(self, rows: Sequence[int]) -> list[np.ndarray]: ...

    def sentences_token_ids(self, row: int) -> list[np.ndarray]: ...
