"""One new segment: its files' passages cut, embedded (through the journal) and written to disk."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
from pathlib import Path
from itertools import islice
from typing import Callable, Iterator

import numpy as np

from embeddings import bm25
from embeddings.boilerplate import repeat_key, title_key
from embeddings.encoders import Encoder, l2_normalise
from embeddings.pool import EncoderPool
from embeddings.passages import Passage, content_hash
from embeddings.store import write_store
from embeddings.tokens import Tokenizer
from embeddings.vocab import RowFile, Vocabulary
from embeddings.index.dense import build_faiss, choose_index_type
from embeddings.index.journal import Cut, Journal
from embeddings.index.manifest import FileEntry, RepeatLine, SegmentEntry
from embeddings.index.plan import Part
from embeddings.index.progress import Progress
from embeddings.index.reuse import Reuse
from embeddings.index.spill import SpilledRows
from embeddings.index.storage import write_json

CUT_BATCH = 1024  # passages cut and committed to the journal at a time
EMBED_BATCH = 1024  # texts embedded and committed to the journal at a time (a pool's workers share a batch)
EMBED_CHUNK = 65_536  # texts whose vectors are looked for (reused, journaled) and made at a time
_JIEBA_BLOCK = re.compile(r"[\u4E00-\u9FD5a-zA-Z0-9+#&._%\-]")  # what jieba keeps in one block


def passage_tokens(tokenizer: Tokenizer, p: Passage) -> tuple[list[str], list[list[str]]]:
    """(the passage's tokens for BM25, each sentence's tokens for choosing quotes).

    When every sentence ends in punctuation and nothing but spaces lies between them, jieba and the
    bigrams stop at each boundary, so the passage's tokens are exactly its sentences' tokens put
    together and the text is cut once. Otherwise the passage is cut as a whole as well.
    """
    per_sentence = [tokenizer.tokens(p.text[a:b]) for a, b in p.sentences]
    edges = [0, *[x for span in p.sentences for x in span], len(p.text)]
    gaps_blank = all(not p.text[edges[k]:edges[k + 1]].strip() for k in range(0, len(edges), 2))
    separated = all(b > a and not _JIEBA_BLOCK.match(p.text[b - 1]) for a, b in p.sentences[:-1])
    if per_sentence and gaps_blank and separated:
        return [t for toks in per_sentence for t in toks], per_sentence
    return tokenizer.tokens(p.text), per_sentence


def _embed(texts: Callable[[], Iterator[str]], count: int, old: dict[str, np.ndarray], encoder: Encoder,
           journal: Journal, meter: Progress, step: Callable[[str], None],
           out: "np.ndarray | SpilledRows | None" = None) -> tuple["np.ndarray | SpilledRows", np.ndarray, int]:
    """float16 vectors for the `count` texts `texts()` yields, into `out` (a new array if None): copied where the
    previous generation or an interrupted build (the journal) embedded the same text, embedded once for a text
    that occurs twice in a chunk (a sentence two overlapping passages share); each embedded batch is committed
    to the journal. Returns (vectors, positions embedded now or by the interrupted build, texts the journal held
    from an interrupted build). EMBED_CHUNK texts are resolved at a time: a segment's million sentences with
    their keys and positions in one dict would cost ~400 MB."""
    if out is None:
        out = np.zeros((count, encoder.dim), dtype=np.float16)

    def reused(key: str) -> bool:
        row = old.get(key)
        return row is not None and len(row) == encoder.dim

    # what this phase has to do: with nothing to reuse (a first build), every text
    meter.add(sum(1 for text in texts() if not reused(content_hash(text))) if old else count)
    stream = encoder.stream if isinstance(encoder, EncoderPool) else lambda batches: map(encoder.encode, batches)
    positions: list[np.ndarray] = []
    earlier, at, todo_texts = 0, 0, texts()
    while chunk := list(islice(todo_texts, EMBED_CHUNK)):
        todo: dict[str, list[int]] = {}
        for i, text in enumerate(chunk, at):
            key = content_hash(text)
            if reused(key):
                out[i] = old[key]
            else:
                todo.setdefault(key, []).append(i)
        pending, done = list(todo), set()
        for start in range(0, len(pending), 8192):  # a resumed build reads the journal back a slice at a time
            found, more = journal.get(pending[start:start + 8192])
            for key, vector in found.items():
                out[todo[key]] = vector
            done.update(found)
            earlier += more
        meter.advance(sum(len(todo[k]) for k in done))
        keys = [k for k in todo if k not in done]
        parts = [keys[start:start + EMBED_BATCH] for start in range(0, len(keys), EMBED_BATCH)]
        # A pool of worker processes (embeddings/pool.py) embeds the next batch while this one is committed.
        for part, found in zip(parts, stream([chunk[todo[k][0] - at] for k in part] for part in parts)):
            journal.put(part, found)
            for k, vector in zip(part, found):
                out[todo[k]] = vector
            meter.advance(sum(len(todo[k]) for k in part))
            step("embedded-batch")
        positions.append(np.fromiter((i for g in todo.values() for i in g), dtype=np.int64))
        at += len(chunk)
    return out, np.concatenate(positions) if positions else np.zeros(0, np.int64), earlier


def mean_vectors(sentence_vectors: "np.ndarray | RowFile", counts: np.ndarray, dim: int) -> np.ndarray:
    """Each passage's vector as the normalised mean of its sentences' vectors (float16)."""
    out = np.zeros((len(counts), dim), dtype=np.float16)
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    for a in range(0, len(counts), 1024):  # ~10^4 sentences in float32 (20 MB) at a time, not a segment's
        b = min(a + 1024, len(counts))
        part = np.asarray(sentence_vectors[ptr[a]:ptr[b]], dtype=np.float32)
        out[a:b] = l2_normalise(np.add.reduceat(part, ptr[a:b] - ptr[a], axis=0))
    return out


def build_segment(folder: Path, group: list[Part], tokenizer: Tokenizer, vocab: Vocabulary, encoder: Encoder,
                   old: "Reuse | None", meter: Progress, step: Callable[[str], None],
                   passage_vectors: str, journal: Journal, scratch: Path) -> tuple[SegmentEntry, int, int, int]:
    """Cut, embed and write one segment (sentence vectors go to a file in `scratch`, then into the segment);
    returns (its manifest entry, passages embedded, passages cut, vectors read back from the journal)."""
    import faiss

    docs = [d for part in group for d in part.docs]
    doc_row = {d.id: i for i, d in enumerate(docs)}
    passages = [p for part in group for p in part.passages]
    meter.phase("cut", len(passages))
    # A cut depends on the passage and on the tokenizer (its rules and user words): the journal's key is both.
    cut_with = content_hash(json.dumps(tokenizer.settings, sort_keys=True, ensure_ascii=False))
    token_ids: list[np.ndarray] = []
    # each batch's sentence token ids end to end, and their lengths: 10^6 sentences as arrays of their own
    # would cost ~100 MB of array headers
    sent_flat: list[np.ndarray] = []
    sent_lengths: list[np.ndarray] = []
    cut = 0
    for start in range(0, len(passages), CUT_BATCH):
        batch = passages[start:start + CUT_BATCH]
        reused = [old.cut(p) if old else None for p in batch]
        keys = [content_hash(cut_with + p.text) for p in batch]
        earlier = journal.cuts([k for k, r in zip(keys, reused) if r is None])
        made: dict[str, Cut] = {}
        lists: list[list[str]] = []  # each new passage's tokens, then its sentences' (once each)
        for key, p, r in zip(keys, batch, reused):
            if r is None:
                toks, sents = earlier.get(key) or made.setdefault(key, passage_tokens(tokenizer, p))
                lists.append(toks)
                lists.extend(list(dict.fromkeys(st)) for st in sents)
        ids = iter(vocab.ids_adding_many(lists))
        batch_sents: list[np.ndarray] = []
        for p, r in zip(batch, reused):
            if r is not None:
                token_ids.append(r[0])
                batch_sents.extend(r[1])
                continue
            token_ids.append(next(ids))
            batch_sents.extend(next(ids) for _ in p.sentences)
            cut += 1
        sent_lengths.append(np.fromiter(map(len, batch_sents), dtype=np.int64, count=len(batch_sents)))
        sent_flat.append(np.concatenate(batch_sents).astype(np.int32) if batch_sents else np.zeros(0, np.int32))
        journal.put_cuts(made)
        meter.advance(len(batch))
    step("tokenised")
    meter.phase("embed", 0)
    reuse_s = old.sentences if old else {}
    sentences = sum(len(p.sentences) for p in passages)
    sent_vectors = SpilledRows(scratch / f"{folder.name}.sentence_vectors.npy", sentences, encoder.dim)
    _, sentences_embedded, resumed = _embed(lambda: (p.text[a:b] for p in passages for a, b in p.sentences),
                                            sentences, reuse_s, encoder, journal, meter, step, sent_vectors)
    sent_vectors.close()
    counts = np.fromiter((len(p.sentences) for p in passages), dtype=np.int64, count=len(passages))
    if passage_vectors == "mean":
        written = RowFile(sent_vectors.path)
        vectors = mean_vectors(written, counts, encoder.dim)
        written.close()
        owner = np.repeat(np.arange(len(passages)), counts)
        embedded = len(np.unique(owner[sentences_embedded]))
    else:
        vectors, done, more = _embed(lambda: (p.text for p in passages), len(passages), old.passages if old else {},
                                     encoder, journal, meter, step)
        embedded, resumed = len(done), resumed + more
    step("embedded")
    meter.phase("write", 6)  # the store, the vectors, the sentence data, the postings, FAISS, segment.json

    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    step("created-generation")
    write_store(folder / "store.sqlite", docs, [(p, doc_row[p.doc_id]) for p in passages], step)
    np.save(folder / "vectors.npy", vectors)
    step("writing-vectors")
    os.replace(sent_vectors.path, folder / "sentence_vectors.npy")
    np.save(folder / "sentence_ptr.npy", np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))
    step("wrote-vectors")
    meter.advance(2)
    bound_avgdl = _write_lexical(folder, token_ids, sent_flat, sent_lengths)
    del token_ids, sent_flat, sent_lengths  # written: FAISS's build need not sit on them (~300 MB at 10^5 passages)
    step("wrote-bm25")
    meter.advance(2)
    index_type = choose_index_type(len(passages), vectors.shape[1])
    if passages:
        try:
            faiss.write_index(build_faiss(vectors, index_type), str(folder / "dense.faiss"))
        except RuntimeError as exc:  # faiss reports I/O errors (a full disk) as RuntimeError
            raise OSError(errno.EIO, f"writing dense.faiss failed: {' '.join(str(exc).split())[:200]}") from exc
    step("wrote-faiss")
    meter.advance()

    files, row, drow = {}, 0, 0
    for part in group:
        files[part.path] = FileEntry(sha256=part.sha256, rows=(row, row + len(part.passages)),
                                     doc_rows=(drow, drow + len(part.docs)), documents=len(part.docs),
                                     lines=_repeat_candidates(part))
        row += len(part.passages)
        drow += len(part.docs)
    info = SegmentEntry(name=folder.name, rows=len(passages), sentences=sentences, index_type=index_type,
                        bound_avgdl=bound_avgdl, user_words=tuple(sorted(set().union(*(p.words for p in group)))),
                        files=files, cut_with=tuple(tokenizer.user_words))
    write_json(folder / "segment.json", info.to_json())
    meter.advance()
    return info.listing(), embedded, cut, resumed


def _write_lexical(folder: Path, token_ids: list[np.ndarray], sent_flat: list[np.ndarray],
                   sent_lengths: list[np.ndarray]) -> float:
    """The segment's postings and its sentences' token ids on disk; returns the postings' bound_avgdl."""
    post = bm25.postings(token_ids)
    for name in ("terms", "ptr", "rows", "tf", "doclen", "bound"):
        np.save(folder / f"postings.{name}.npy", getattr(post, name))
    lengths = np.concatenate(sent_lengths) if sent_lengths else np.zeros(0, np.int64)
    _save_parts(folder / "sentence_tokens.npy", sent_flat, np.int32)
    np.save(folder / "sentence_token_ptr.npy", np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))
    return post.bound_avgdl


def _save_parts(path: Path, parts: list[np.ndarray], dtype) -> None:
    """One .npy array of `parts` end to end, written part by part (np.save would need them joined: ~100 MB
    more for a segment of 10^5 passages)."""
    dtype = np.dtype(dtype)
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False,
                                                 "shape": (sum(len(p) for p in parts),)})
        for part in parts:
            f.write(np.ascontiguousarray(part, dtype=dtype).tobytes())


def _repeat_candidates(part: "Part") -> tuple[RepeatLine, ...]:
    """Each passage whose paragraph may be repeated furniture, with its paragraph and title keys."""
    by_id = {d.id: d for d in part.docs}
    out = []
    for i, p in enumerate(part.passages):
        doc = by_id[p.doc_id]
        key = repeat_key(doc.paragraphs[p.paragraph].text)
        if key is not None:
            out.append(RepeatLine(key, title_key(doc.title), i))
    return tuple(out)
