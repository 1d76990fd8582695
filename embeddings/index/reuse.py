"""What the previous generation computed for files about to be rebuilt: vectors and cuts, by content hash."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from embeddings.index.manifest import FileEntry, Manifest, SegmentEntry
from embeddings.index.storage import SEGMENTS, read_json
from embeddings.passages import Passage, content_hash
from embeddings.store import Store
from embeddings.tokens import Tokenizer


class Reuse:
    """What the previous generation already computed for files about to be rebuilt, by content hash:
    passage and sentence vectors, and the cut of passages whose text (and user words) did not change."""

    def __init__(self, index_dir: Path, prev: Manifest, paths: list[str], tokenizer: Tokenizer):
        self.passages: dict[str, np.ndarray] = {}
        self.sentences: dict[str, np.ndarray] = {}
        self.tokens: dict[tuple[str, tuple], tuple[np.ndarray, list[np.ndarray]]] = {}
        self.tokenizer = tokenizer
        by_segment: dict[str, list[FileEntry]] = {}
        for path in paths:
            f = prev.files.get(path)
            if f is not None:
                by_segment.setdefault(f.segment, []).append(f)
        for name, fs in by_segment.items():
            try:
                self._read(index_dir / SEGMENTS / name, fs)
            except (OSError, ValueError, KeyError, sqlite3.Error):
                continue  # nothing reused: cutting and embedding again is only slower

    def _read(self, folder: Path, fs: list[FileEntry]) -> None:
        load = lambda name: np.load(folder / f"{name}.npy", mmap_mode="r")  # noqa: E731
        vectors, sent_vectors, sent_ptr = load("vectors"), load("sentence_vectors"), load("sentence_ptr")
        sent_tokens, sent_token_ptr = load("sentence_tokens"), load("sentence_token_ptr")
        terms, ptr, post_rows, tf = (load(f"postings.{k}") for k in ("terms", "ptr", "rows", "tf"))
        wanted = np.zeros(len(vectors), dtype=bool)
        for f in fs:
            start, stop = f.rows
            wanted[start:stop] = True
        # Each wanted row's terms, repeated tf times: all BM25 needs of the original cut.
        hits = np.flatnonzero(wanted[np.asarray(post_rows)])
        row_of_hit = np.asarray(post_rows[hits], dtype=np.int64)
        term_of_hit = np.asarray(terms, dtype=np.int64)[np.searchsorted(np.asarray(ptr), hits, side="right") - 1]
        order = np.argsort(row_of_hit, kind="stable")
        row_of_hit, term_of_hit, counts = row_of_hit[order], term_of_hit[order], np.asarray(tf)[hits][order]
        bounds = np.searchsorted(row_of_hit, np.arange(len(vectors) + 1))
        # Words jieba has learnt since this segment was cut: passages containing one are cut again.
        cut_with = SegmentEntry.from_segment_json(read_json(folder / "segment.json")).cut_with
        stale = set(self.tokenizer.user_words) - set(cut_with)
        store = Store(folder / "store.sqlite")
        try:
            for f in fs:
                for row in range(*f.rows):
                    p, _ = store.passage(row, row)
                    key = content_hash(p.text)
                    self.passages[key] = vectors[row]
                    first = int(sent_ptr[row])
                    sents = []
                    for i, (a, b) in enumerate(p.sentences):
                        s = first + i
                        self.sentences[content_hash(p.text[a:b])] = sent_vectors[s]
                        sents.append(np.asarray(sent_tokens[int(sent_token_ptr[s]):int(sent_token_ptr[s + 1])]))
                    if stale and any(w in self.tokenizer.canonical(p.text) for w in stale):
                        continue
                    lo, hi = bounds[row], bounds[row + 1]
                    toks = np.repeat(term_of_hit[lo:hi], counts[lo:hi].astype(np.int64)).astype(np.int32)
                    self.tokens[key, p.sentences] = (toks, sents)
        finally:
            store.close()

    def cut(self, p: Passage) -> tuple[np.ndarray, list[np.ndarray]] | None:
        """The stored cut of a passage with the same text and sentences, if it is still valid."""
        return self.tokens.get((content_hash(p.text), p.sentences))
