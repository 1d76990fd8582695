"""A loaded generation: its segments, documents and passages, BM25 and dense search over them."""

from __future__ import annotations

import bisect
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from embeddings import bm25
from embeddings.backend import Candidates, Filters
from embeddings.documents import Document, Paragraph
from embeddings.passages import Passage
from embeddings.tokens import Tokenizer
from embeddings.vocab import Vocabulary, remembered
from embeddings.index.dense import REFINE, refine_scored
from embeddings.index.errors import IndexCorrupt, IndexMismatch, IndexMissing
from embeddings.index.manifest import Manifest, manifest_format
from embeddings.index.segment import Segment
from embeddings.index.storage import FORMAT_VERSION, SEGMENTS, read_json, current_generation
from embeddings.index.views import Documents, Passages

DF_MEMO = 100_000  # document frequencies of question terms remembered per loaded index


class Index:
    """One published generation: its segments, which of their rows are live, the vocabulary and
    collection statistics for BM25. Text is read from disk as questions need it."""

    def __init__(self, path: Path, manifest: Manifest, segments: list[Segment], vocab: Vocabulary,
                 tokenizer: Tokenizer):
        self.path = path
        self.manifest = manifest
        self.segments = segments
        self.vocab = vocab
        self.tokenizer = tokenizer
        self.starts = np.cumsum([0, *[s.rows for s in segments]]).astype(np.int64)
        self.rows = int(self.starts[-1])
        self._starts = self.starts.tolist()  # for segment_of: bisect on a list beats numpy on one row
        self.live = np.zeros(self.rows, dtype=bool)
        self._live_doc_rows: dict[str, list[tuple[int, int]]] = {}  # segment → document row ranges of live files
        position = {s.name: k for k, s in enumerate(segments)}
        for f in manifest.files.values():
            k = position[f.segment]
            a, b = f.rows
            self.live[self.starts[k] + a:self.starts[k] + b] = True
            self._live_doc_rows.setdefault(f.segment, []).append(f.doc_rows)
        for name, rows in manifest.repeated.items():
            self.live[self.starts[position[name]] + np.asarray(rows, dtype=np.int64)] = False
        self.live_count = int(self.live.sum())
        # segments cut before jieba learnt some of the current user words: their stored tokens lack them
        self.stale_cut = [bool(set(tokenizer.user_words) - set(seg.info.cut_with)) for seg in segments]
        self.dead_rows = np.flatnonzero(~self.live)  # fixed per generation: not recomputed per question
        self.dead_in = [seg.rows - int(self.live[self.starts[k]:self.starts[k + 1]].sum()) for k, seg in enumerate(segments)]
        # Average length over live passages. Document frequencies are looked up per term as questions
        # need them (see df): summing every segment's term lists here read ~200 MB at 10^6 passages
        # on every start and kept it resident.
        lengths = 0.0
        for k, seg in enumerate(segments):
            lengths += float(np.asarray(seg.postings.doclen)[self.live[self.starts[k]:self.starts[k + 1]]].sum())
        self.avgdl = lengths / self.live_count if self.live_count else 1.0
        self.passages = Passages(self)
        self._df: dict[int, int] = {}  # term id → df, for terms questions asked
        self.documents = Documents(self)
        self._cache: dict[int, tuple[Passage, int]] = {}
        self._cache_lock = threading.Lock()
        self._row_docs: tuple[np.ndarray, np.ndarray] | None = None  # outlet and day per row, for filters

    @property
    def encoder_id(self) -> str:
        return self.manifest.encoder.id

    @property
    def generation(self) -> str:
        return self.manifest.generation

    def __len__(self) -> int:
        return self.live_count

    def doc_ranges(self) -> list[tuple[Segment, list]]:
        """Each segment with the row ranges of its live documents (for listing documents without reading them)."""
        return [(s, self._live_doc_rows.get(s.name, [])) for s in self.segments]

    def is_live(self, row: int) -> bool:
        """A row of this generation whose passage is searched and shown (not deleted, not out of range)."""
        return 0 <= row < self.rows and bool(self.live[row])

    def cut_is_stale(self, row: int) -> bool:
        """The row's segment was cut before the tokenizer learnt some of its user words: cut its text again."""
        return self.stale_cut[self.segment_of(row)]

    def segment_of(self, row: int) -> int:
        if not 0 <= row < self.rows:
            raise IndexError(row)
        return bisect.bisect_right(self._starts, row) - 1

    def locate(self, row: int) -> tuple[Segment, int]:
        k = self.segment_of(row)
        return self.segments[k], row - int(self.starts[k])

    def _passage(self, row: int) -> tuple[Passage, int]:
        with self._cache_lock:
            found = self._cache.get(row)
        if found is None:
            seg, local = self.locate(row)
            found = seg.store.passage(local, row)
            with self._cache_lock:
                if len(self._cache) > 100_000:
                    self._cache.clear()
                self._cache[row] = found
        return found

    def passage(self, row: int) -> Passage:
        return self._passage(row)[0]

    def document(self, passage: Passage) -> Document:
        seg, _ = self.locate(passage.row)
        return seg.store.document(self._passage(passage.row)[1])

    def paragraph(self, passage: Passage) -> Paragraph:
        return self.document(passage).paragraphs[passage.paragraph]

    # -- scoring ---------------------------------------------------------------------------------

    def df(self, term_ids: Sequence[int]) -> np.ndarray:
        """Rows containing each term, over every segment: a term's df also counts rows of deleted
        files still in their segment (as in Lucene until a merge), which only matters for small
        corpora with many deletions, and those are rebuilt (MIN_LIVE)."""
        postings = [seg.postings for seg in self.segments]
        # remembered: fixed per generation, and questions share most terms
        return np.asarray(remembered(self._df, [int(t) for t in term_ids],
                                     lambda new: bm25.document_frequencies(postings, new).tolist(), DF_MEMO),
                          dtype=np.int64)

    def idf(self, term_ids: np.ndarray) -> np.ndarray:
        """Over all rows of the segments, as df counts them (deleted ones until their segment is
        rebuilt, like Lucene's docCount): with the live count instead, a term in more rows than are
        live would get a negative weight."""
        return bm25.idf(self.df(term_ids).astype(np.float64), self.rows)

    def bm25_scores(self, tokens: list[str], filters: Filters | None = None, limit: int | None = None) -> np.ndarray:
        """BM25 of every row for the query tokens (0 for deleted rows and those the filters leave out): reads
        every posting of every token, so questions use search; this is for phrase scans, evaluation and as
        search's reference. Every row is scored whatever `limit` says: the limit spares remote backends
        sending rows nobody reads."""
        out = np.zeros(self.rows, dtype=np.float32)
        ids = self._known_ids(tokens)
        if not len(ids) or not self.live_count:
            return out
        weights = self.idf(ids)
        for k, seg in enumerate(self.segments):
            bm25.add_scores(out[self.starts[k]:self.starts[k + 1]], seg.postings, ids, weights, self.avgdl)
        out[self.dead_rows] = 0.0
        if filters:
            out[~self.admitted(filters)] = 0.0
        return out

    def _known_ids(self, tokens: list[str]) -> np.ndarray:
        """Term ids of the tokens the vocabulary knows, repeats kept."""
        return np.asarray([i for i in self.vocab.ids(tokens) if i is not None], dtype=np.int64)

    def _query_terms(self, tokens: list[str], expansions: Sequence[tuple[str, float]] = ()) -> tuple[np.ndarray, np.ndarray]:
        """Distinct known term ids of the tokens and their weights (idf times repeats, as add_scores counts them);
        an expansion token (a synonym) not among them adds its idf times its factor."""
        ids = self._known_ids(tokens)
        if not len(ids) or not self.live_count:
            return np.zeros(0, np.int64), np.zeros(0, np.float64)
        unique, counts = np.unique(ids, return_counts=True)
        weights = self.idf(unique) * counts
        extra = {}
        for token, factor in expansions:
            i = self.vocab.get(token)
            if i is not None and i not in extra and not np.isin(i, unique):
                extra[i] = factor
        if not extra:
            return unique, weights
        more = np.asarray(sorted(extra), dtype=np.int64)
        ids = np.concatenate([unique, more])
        order = np.argsort(ids, kind="stable")
        return ids[order], np.concatenate([weights, self.idf(more) * np.asarray([extra[i] for i in more.tolist()])])[order]

    def bm25_top(self, tokens: list[str], k: int, also: Sequence[int] = (),
                 expansions: Sequence[tuple[str, float]] = (), allowed: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The k allowed rows (default: live) with the highest BM25 score above 0 (best first, ties to the
        lower row), their scores, and the scores of the rows `also` (0 for the others); `expansions` are
        (token, factor)."""
        ids, weights = self._query_terms(tokens, expansions)
        return bm25.top_k([s.postings for s in self.segments], self.starts, ids, weights, self.avgdl, k,
                          self.live if allowed is None else allowed, np.asarray(also, dtype=np.int64))

    def search(self, tokens: list[str], vector: np.ndarray, k: int, expansions: Sequence[tuple[str, float]] = (),
               filters: Filters | None = None) -> Candidates:
        """The best k rows by the dense vectors and the best k by BM25, each scored both ways (see Candidates)."""
        qv = np.asarray(vector, dtype=np.float32)
        k = min(k, self.rows)
        allowed = self.admitted(filters) if filters else None
        if allowed is None:
            near, near_cos = (x.tolist() for x in self.dense_scored(qv, k))
        else:
            near, near_cos = (x.tolist() for x in self._dense_among(qv, np.flatnonzero(allowed), k))
        lex_rows, lex_scores, near_scores = self.bm25_top(tokens, k, also=near, expansions=expansions, allowed=allowed)
        lexical = dict(zip(near, near_scores.tolist()))
        lexical.update(zip(lex_rows.tolist(), lex_scores.tolist()))
        rows = sorted(lexical)
        if not rows:
            return Candidates.none()
        # The dense candidates' similarities came with them; only the lexical ones' vectors are read.
        cos_of = dict(zip(near, near_cos))
        unseen = [r for r in rows if r not in cos_of]
        if unseen:
            cos_of.update(zip(unseen, (self.vectors(unseen) @ qv).tolist()))
        return Candidates(tuple(rows), np.asarray([lexical[r] for r in rows], dtype=np.float32),
                          np.asarray([cos_of[r] for r in rows], dtype=np.float32))

    def prefetch(self, rows: Sequence[int]) -> None:
        """Nothing to do: passages are read from local files as they are needed."""

    def _dense_among(self, qv: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k of `rows` nearest the query, exactly: a filter's rows are few enough to read their vectors."""
        if not len(rows):
            return np.zeros(0, np.int64), np.zeros(0, np.float64)
        scores = np.concatenate([self.vectors(rows[a:a + 8192]) @ qv for a in range(0, len(rows), 8192)])
        order = np.lexsort((rows, -scores))[:k]
        return rows[order], scores[order].astype(np.float64)

    def admitted(self, filters: Filters) -> np.ndarray:
        """Live rows whose document the filters admit."""
        with self._cache_lock:
            if self._row_docs is None:
                docs = []
                for seg in self.segments:
                    by_row = [seg.store.document(r) for r, _, _ in seg.store.document_rows()]
                    docs += [(by_row[d].source or "", (by_row[d].date or "")[:10]) for d in seg.store.passage_documents()]
                self._row_docs = (np.asarray([o for o, _ in docs], dtype=object), np.asarray([d for _, d in docs]))
        outlets, dates = self._row_docs
        keep = self.live.copy()
        if filters.outlets:
            keep &= np.isin(outlets, list(filters.outlets))
        if filters.since or filters.until:
            keep &= dates != ""
            if filters.since:
                keep &= dates >= filters.since[:10]
            if filters.until:
                keep &= dates <= filters.until[:10]
        return keep

    def dense_search(self, query_vector: np.ndarray, k: int) -> list[int]:
        """Rows of the k live passages nearest the query, best first: each segment's FAISS index
        proposes neighbours (REFINE × k from product-code segments), and the best of them overall
        are re-scored with the stored vectors."""
        return self.dense_scored(query_vector, k)[0].tolist()

    def dense_scored(self, query_vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """dense_search's rows with their inner products with the query (from the stored vectors)."""
        q = np.ascontiguousarray(query_vector.reshape(1, -1), dtype=np.float32)
        rows, approx = [], []
        for s, seg in enumerate(self.segments):
            if seg.dense is None:
                continue
            base = int(self.starts[s])
            want = k * (REFINE if seg.info.index_type.startswith("IVF") else 1)
            scores, ids = seg.dense.search(q, min(seg.rows, want + self.dead_in[s]))
            ids = ids[0]
            keep = ids >= 0
            found = base + ids[keep].astype(np.int64)
            alive = self.live[found]
            rows.append(found[alive])
            approx.append(scores[0][keep][alive])
        if not rows:
            return np.zeros(0, np.int64), np.zeros(0, np.float64)
        return refine_scored(np.concatenate(rows), np.concatenate(approx), lambda r: self.vectors(r) @ q[0], k, REFINE * k)

    def vectors(self, rows: Sequence[int]) -> np.ndarray:
        """Passage vectors of `rows` (float32), read from each segment's vector file."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) and (rows.min() < 0 or rows.max() >= self.rows):
            raise IndexError("row out of range")
        if len(self.segments) == 1:
            return np.asarray(self.segments[0].vectors.take(rows), dtype=np.float32)
        out = np.zeros((len(rows), self.manifest.encoder.dim), dtype=np.float32)
        seg_of = np.searchsorted(self.starts, rows, side="right") - 1
        for k in np.unique(seg_of).tolist():
            sel = seg_of == k
            out[sel] = self.segments[k].vectors.take(rows[sel] - self.starts[k])
        return out

    def sentence_vectors(self, rows: Sequence[int]) -> list[np.ndarray]:
        """The vectors of each passage's sentences, in order (float32)."""
        out = []
        for row in rows:
            seg, local = self.locate(int(row))
            out.append(np.asarray(seg.sentence_vectors.slice(*seg.sentence_ptr.slice(local, local + 2).tolist()),
                                  dtype=np.float32))
        return out

    def sentences_token_ids(self, row: int) -> list[np.ndarray]:
        """Token ids of each sentence of the passage, read in one slice."""
        seg, local = self.locate(row)
        a, b = seg.sentence_ptr.slice(local, local + 2).tolist()
        ptr = seg.sentence_token_ptr.slice(a, b + 1)
        flat = seg.sentence_tokens.slice(int(ptr[0]), int(ptr[-1]))
        return np.split(flat, (ptr[1:-1] - ptr[0]).tolist())

    # -- loading ---------------------------------------------------------------------------------

    @classmethod
    def load(cls, index_dir: Path, encoder_id: str | None = None, previous: "Index | None" = None) -> "Index":
        """The current generation; segments already loaded by `previous` are shared, not read again."""
        index_dir = Path(index_dir)
        gen = current_generation(index_dir)
        if gen is None:
            raise IndexMissing(f"no index in {index_dir}: build one with `python -m bot index`")
        try:
            data = read_json(gen / "manifest.json")
            found = manifest_format(data)
            manifest = Manifest.from_json(data) if found == FORMAT_VERSION else None
        except (OSError, ValueError) as exc:  # a ManifestError is a ValueError: a field missing or malformed
            raise IndexCorrupt(f"index manifest unreadable in {gen}: {exc}; reindex with `python -m bot index`") from None
        if manifest is None:
            raise IndexMismatch(f"index format {found} is not {FORMAT_VERSION}: reindex with `python -m bot index`")
        built_with = manifest.encoder.id
        if encoder_id is not None and built_with != encoder_id:
            raise IndexMismatch(
                f"the index in {index_dir} was built with encoder {built_with!r}, not {encoder_id!r}: "
                f"reindex with `python -m bot index --encoder ...` to use this encoder")
        ready = {s.name: s for s in previous.segments} if previous is not None else {}
        try:
            segments = [ready.get(s.name) or Segment(index_dir / SEGMENTS / s.name) for s in manifest.segments]
            vocab = Vocabulary.load(gen)
        except (OSError, ValueError, KeyError, RuntimeError, sqlite3.Error) as exc:
            raise IndexCorrupt(f"index files unreadable in {gen}: {exc}; reindex with `python -m bot index --force`") from None
        same_words = previous is not None and previous.tokenizer.user_words == manifest.user_words
        tokenizer = previous.tokenizer if same_words else Tokenizer(manifest.user_words)
        try:
            index = cls(gen, manifest, segments, vocab, tokenizer)
        except (ValueError, KeyError) as exc:
            raise IndexCorrupt(f"index in {gen} is inconsistent ({exc}); reindex with `python -m bot index --force`") from None
        if index.live_count != manifest.counts.passages:
            raise IndexCorrupt(f"index in {gen} is inconsistent; reindex with `python -m bot index`")
        return index
