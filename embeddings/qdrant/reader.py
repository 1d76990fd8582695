"""A published generation read from Qdrant: the SearchBackend the answer layer uses, with no files of its own."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

import numpy as np
from cachetools import LRUCache

from embeddings.backend import Candidates, Filters
from embeddings.documents import Document, Paragraph
from embeddings.index import IndexCorrupt, IndexMismatch, IndexMissing, Passages
from embeddings.passages import Passage
from embeddings.index.manifest import ManifestError
from embeddings.qdrant.layout import DENSE, SENTENCES, SPARSE, Description, day_number, meta_point
from embeddings.qdrant.publish import current_version
from embeddings.store import doc_from_json
from embeddings.tokens import Tokenizer
from embeddings.vocab import Vocabulary

PASSAGES_KEPT = 20_000  # parsed passages kept per loaded generation
DOCUMENTS_KEPT = 4_096


def _mask(rows: int, spans: list[list[int]]) -> np.ndarray:
    out = np.zeros(rows, dtype=bool)
    for a, b in spans:
        out[a:b] = True
    return out


class _Documents(Mapping):
    """Documents by id, fetched from the collection as they are asked for."""

    def __init__(self, index: "QdrantIndex", points: dict[str, int]):
        self._index = index
        self._points = points

    def __getitem__(self, doc_id: str) -> Document:
        return self._index.document_by_point(self._points[doc_id])

    def __iter__(self):
        return iter(self._points)

    def __len__(self) -> int:
        return len(self._points)

    def __contains__(self, doc_id) -> bool:
        return doc_id in self._points


def published_info(client, alias: str) -> Description | None:
    """The description of the version the alias points at, or None if there is none (or it is unreadable)."""
    collection = current_version(client, alias)
    if collection is None:
        return None
    found = client.retrieve(collection, [meta_point(0)], with_payload=True)
    try:
        return Description.from_json(found[0].payload) if found else None
    except ManifestError:
        return None


def differs(info: Description | None, hashes: dict[str, str]) -> bool:
    """True if the published version (None: there is none) was built from other seed files (path → sha256)
    or cut by other tokenizer rules."""
    from embeddings.index.plan import rules_of

    return info is None or info.files != hashes or rules_of(info.tokenizer) != rules_of(Tokenizer.rules())


def seeds_changed(seeds_dir, client, alias: str) -> bool:
    """True if the seeds differ from what the published version was built from, or there is none."""
    from embeddings.index.plan import file_hashes

    return differs(published_info(client, alias), file_hashes(seeds_dir))


class QdrantIndex:
    """One published version: what it describes of itself (rows, live set, vocabulary with document
    frequencies) is read once at load; passages, documents and vectors as questions need them."""

    def __init__(self, client, collection: str, info: Description, vocab: Vocabulary, df: np.ndarray,
                 tokenizer: Tokenizer):
        self.client = client
        self.collection = collection
        self.info = info
        self.generation = info.generation
        self.encoder_id = info.encoder.id
        self.dim = info.encoder.dim
        self.rows = info.rows
        self.live = _mask(self.rows, info.live)
        self.live_count = int(self.live.sum())
        self.stale = _mask(self.rows, info.stale)
        self.vocab = vocab
        self._df = df
        self.tokenizer = tokenizer
        self.passages = Passages(self)
        self.documents = _Documents(self, dict(info.documents))
        self._lock = threading.Lock()
        self._passages: LRUCache = LRUCache(PASSAGES_KEPT)  # row → (Passage, document point, sentence tokens)
        self._docs: LRUCache = LRUCache(DOCUMENTS_KEPT)

    def __len__(self) -> int:
        return self.live_count

    # -- the published description ---------------------------------------------------------------

    @classmethod
    def load(cls, client, alias: str, encoder_id: str | None = None, previous: "QdrantIndex | None" = None
             ) -> "QdrantIndex":
        collection = current_version(client, alias)
        if collection is None:
            raise IndexMissing(f"no index published to Qdrant as {alias!r}: build one with "
                               f"`python -m bot index --backend qdrant`")
        if previous is not None and previous.collection == collection:
            return previous
        found = client.retrieve(collection, [meta_point(0)], with_payload=True)
        if not found:
            raise IndexCorrupt(f"Qdrant collection {collection} has no description; reindex with "
                               f"`python -m bot index --backend qdrant --force`")
        try:
            info = Description.from_json(found[0].payload)
        except ManifestError as exc:
            raise IndexCorrupt(f"Qdrant collection {collection}: {exc}; reindex with "
                               f"`python -m bot index --backend qdrant --force`") from None
        if encoder_id is not None and info.encoder.id != encoder_id:
            raise IndexMismatch(f"the index in Qdrant ({alias}) was built with encoder {info.encoder.id!r}, "
                                f"not {encoder_id!r}: reindex with `python -m bot index --backend qdrant --encoder ...`")
        chunks = info.vocabulary_points
        parts = sorted(client.retrieve(collection, [meta_point(n) for n in range(1, chunks + 1)], with_payload=True),
                       key=lambda p: p.id)
        if len(parts) != chunks:
            raise IndexCorrupt(f"Qdrant collection {collection} lacks part of its vocabulary; reindex with "
                               f"`python -m bot index --backend qdrant --force`")
        words = [w for p in parts for w in p.payload["words"]]
        df = np.asarray([d for p in parts for d in p.payload["df"]], dtype=np.int64)
        user_words = info.tokenizer.get("user_words", [])
        same = previous is not None and previous.tokenizer.user_words == tuple(sorted(set(user_words)))
        tokenizer = previous.tokenizer if same else Tokenizer(user_words)
        return cls(client, collection, info, Vocabulary.from_words(words), df, tokenizer)

    def is_live(self, row: int) -> bool:
        return 0 <= row < self.rows and bool(self.live[row])

    def cut_is_stale(self, row: int) -> bool:
        return bool(self.stale[row])

    def df(self, term_ids: Sequence[int]) -> np.ndarray:
        ids = np.asarray(list(term_ids), dtype=np.int64)
        out = np.zeros(len(ids), dtype=np.int64)
        known = (ids >= 0) & (ids < len(self._df))
        out[known] = self._df[ids[known]]
        return out

    # -- search ----------------------------------------------------------------------------------

    def sparse_query(self, tokens: list[str], expansions: Sequence[tuple[str, float]] = ()):
        """The question as a sparse vector: each known term with its count (Qdrant multiplies in the IDF);
        an expansion term not among them with its factor."""
        from qdrant_client import models

        counts: dict[int, float] = {}
        for i in self.vocab.ids(tokens):
            if i is not None:
                counts[i] = counts.get(i, 0.0) + 1.0
        for token, factor in expansions:
            i = self.vocab.get(token)
            if i is not None and i not in counts:
                counts[i] = factor
        ids = sorted(counts)
        return models.SparseVector(indices=ids, values=[counts[i] for i in ids])

    def _filter(self, filters: Filters | None, rows: Sequence[int] | None = None):
        """Qdrant's filter for these Filters (and these rows); None when nothing is left out. Only passages
        have vectors, so documents and the description never come back from a search."""
        from qdrant_client import models

        must: list = []
        if rows is not None:
            must.append(models.HasIdCondition(has_id=[int(r) for r in rows]))
        if filters and filters.outlets:
            must.append(models.FieldCondition(key="outlet", match=models.MatchAny(any=list(filters.outlets))))
        if filters and (filters.since or filters.until):
            must.append(models.FieldCondition(key="day", range=models.Range(
                gte=day_number(filters.since[:10]) if filters.since else None,
                lte=day_number(filters.until[:10]) if filters.until else None)))
        return models.Filter(must=must) if must else None

    def search(self, tokens: list[str], vector: np.ndarray, k: int, expansions: Sequence[tuple[str, float]] = (),
               filters: Filters | None = None) -> Candidates:
        from qdrant_client import models

        qv = np.asarray(vector, dtype=np.float32).tolist()
        sparse = self.sparse_query(tokens, expansions)
        where = self._filter(filters)
        requests = [models.QueryRequest(query=qv, using=DENSE, limit=k, filter=where, with_payload=False)]
        if sparse.indices:
            requests.append(models.QueryRequest(query=sparse, using=SPARSE, limit=k, filter=where, with_payload=False))
        answers = self.client.query_batch_points(self.collection, requests)
        near = {p.id: p.score for p in answers[0].points}
        lexical = {p.id: p.score for p in answers[1].points} if sparse.indices else {}
        # Each side's candidates scored the other way: cosines of the lexical ones, BM25 of the dense ones.
        more = []
        lex_only = [r for r in lexical if r not in near]
        if lex_only:
            more.append(models.QueryRequest(query=qv, using=DENSE, limit=len(lex_only),
                                            filter=self._filter(None, lex_only), with_payload=False))
        dense_only = [r for r in near if r not in lexical]
        if dense_only and sparse.indices:
            more.append(models.QueryRequest(query=sparse, using=SPARSE, limit=len(dense_only),
                                            filter=self._filter(None, dense_only), with_payload=False))
        if more:
            extra = self.client.query_batch_points(self.collection, more)
            if lex_only:
                near.update((p.id, p.score) for p in extra[0].points)
            if dense_only and sparse.indices:
                lexical.update((p.id, p.score) for p in extra[-1].points)
        rows = sorted(set(near) | set(lexical))
        if not rows:
            return Candidates.none()
        return Candidates(tuple(int(r) for r in rows), np.asarray([lexical.get(r, 0.0) for r in rows], dtype=np.float32),
                          np.asarray([near.get(r, 0.0) for r in rows], dtype=np.float32))

    def bm25_scores(self, tokens: list[str], filters: Filters | None = None, limit: int | None = None) -> np.ndarray:
        """Scores of the best `limit` rows (all that match, without one) fetched from Qdrant; 0 for the rest."""
        out = np.zeros(self.rows, dtype=np.float32)
        sparse = self.sparse_query(tokens)
        if not sparse.indices or not self.live_count:
            return out
        found = self.client.query_points(self.collection, query=sparse, using=SPARSE,
                                         limit=min(limit or self.live_count, self.live_count),
                                         query_filter=self._filter(filters), with_payload=False).points
        for p in found:
            out[int(p.id)] = p.score
        return out

    # -- text and data ---------------------------------------------------------------------------

    def prefetch(self, rows: Sequence[int]) -> None:
        """Read these rows' passages in one request (a search's best candidates, before they are read one by one)."""
        with self._lock:
            todo = [int(r) for r in rows if int(r) not in self._passages and self.is_live(int(r))]
        if not todo:
            return
        found = self.client.retrieve(self.collection, todo, with_payload=True)
        with self._lock:
            for point in found:
                self._passages[int(point.id)] = _passage(point.payload, int(point.id))

    def _entry(self, row: int) -> tuple[Passage, int, list]:
        with self._lock:
            found = self._passages.get(row)
        if found is None:
            if not self.is_live(row):
                raise IndexError(row)
            points = self.client.retrieve(self.collection, [row], with_payload=True)
            if not points:
                raise IndexError(row)
            found = _passage(points[0].payload, row)
            with self._lock:
                self._passages[row] = found
        return found

    def passage(self, row: int) -> Passage:
        return self._entry(int(row))[0]

    def document_by_point(self, point: int) -> Document:
        with self._lock:
            doc = self._docs.get(point)
        if doc is None:
            found = self.client.retrieve(self.collection, [point], with_payload=True)
            if not found:
                raise KeyError(point)
            doc = doc_from_json(found[0].payload["doc"])
            with self._lock:
                self._docs[point] = doc
        return doc

    def document(self, passage: Passage) -> Document:
        return self.document_by_point(self._entry(passage.row)[1])

    def paragraph(self, passage: Passage) -> Paragraph:
        return self.document(passage).paragraphs[passage.paragraph]

    def sentences_token_ids(self, row: int) -> list[np.ndarray]:
        return [np.asarray(t, dtype=np.int32) for t in self._entry(int(row))[2]]

    def vectors(self, rows: Sequence[int]) -> np.ndarray:
        rows = [int(r) for r in rows]
        if not rows:
            return np.zeros((0, self.dim), dtype=np.float32)
        found = {p.id: p.vector[DENSE] for p in self.client.retrieve(self.collection, rows, with_vectors=[DENSE])}
        if len(found) != len(set(rows)):
            raise IndexError("row out of range")
        return np.asarray([found[r] for r in rows], dtype=np.float32)

    def sentence_vectors(self, rows: Sequence[int]) -> list[np.ndarray]:
        rows = [int(r) for r in rows]
        if not rows:
            return []
        found = {p.id: p.vector[SENTENCES] for p in self.client.retrieve(self.collection, rows, with_vectors=[SENTENCES])}
        if len(found) != len(set(rows)):
            raise IndexError("row out of range")
        return [np.asarray(found[r], dtype=np.float32).reshape(-1, self.dim) for r in rows]


def _passage(payload: dict, row: int) -> tuple[Passage, int, list]:
    p = Passage(payload["id"], payload["doc_id"], payload["para"], payload["start"], payload["end"], payload["text"],
                payload.get("section"), tuple(tuple(s) for s in payload["sentences"]), payload.get("pkind", "body"), row)
    return p, int(payload["doc"]), payload["sentence_tokens"]
