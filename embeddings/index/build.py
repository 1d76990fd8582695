"""Building a generation: plan what changed by content hash, read and cut the files, write segments, publish."""

from __future__ import annotations

import errno
import json
import re
import shutil
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from embeddings import bm25
from embeddings.boilerplate import repeat_key, repeated, title_key
from embeddings.documents import LoadWarning, read_file
from embeddings.encoders import Encoder, l2_normalise
from embeddings.pool import EncoderPool
from embeddings.passages import Passage, content_hash, document_passages
from embeddings.store import write_store
from embeddings.tokens import Tokenizer, discover_user_words
from embeddings.vocab import Vocabulary
from embeddings.index.manifest import (Counts, EncoderInfo, FileEntry, Manifest, RepeatLine, SegmentEntry,
                                       package_versions)
from embeddings.index.plan import (Part, compatible, file_hashes, group_parts, plan_segments, previous_manifest,
                                   rules_of)
from embeddings.index.dense import build_faiss, choose_index_type
from embeddings.index.errors import IndexWriteFailed
from embeddings.index.journal import Cut, Journal
from embeddings.index.progress import BarProgress, Progress
from embeddings.index.reuse import Reuse
from embeddings.index.spill import Spill, Spilled
from embeddings.index.storage import (FORMAT_VERSION, SEGMENTS, cleanup, fsync_file, fsync_tree, lock,
                                       current_generation, publish, write_error, write_json)


@dataclass(frozen=True)
class BuildReport:
    generation: str
    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: int
    documents: int
    passages: int
    embedded: int
    reused: int
    retokenized: int
    seconds: float
    warnings: tuple[LoadWarning, ...] = ()
    resumed: int = 0  # texts whose vectors a killed build had embedded (read back from the journal)
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase: read, cut, embed, write, publish

    @property
    def changed_anything(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def summary(self) -> str:
        return (
            f"files: {len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed, "
            f"{self.unchanged} unchanged; passages: {self.passages} ({self.embedded} embedded, {self.reused} reused"
            + (f", {self.resumed} vectors from the interrupted build" if self.resumed else "") + f"); {self.seconds:.2f} s"
        )


CUT_BATCH = 1024  # passages cut and committed to the journal at a time
EMBED_BATCH = 1024  # texts embedded and committed to the journal at a time (a pool's workers share a batch)
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


def build_index(
    seeds_dir: Path,
    index_dir: Path,
    encoder: Encoder,
    *,
    max_bytes: int = 10 * 1024 * 1024,
    progress: bool | Progress = False,
    on_step: Callable[[str], None] | None = None,
    force: bool = False,
    passage_vectors: str = "mean",
) -> BuildReport:
    """Reindex `seeds_dir` into a new generation of `index_dir`, reusing all that did not change.

    Files whose content is unchanged keep their segment as it is on disk; new and changed files
    are read, cut and embedded (reusing the vectors of unchanged passages by content hash) into new
    segments; the new generation becomes visible by one atomic rename. A crash at any point leaves
    the previous generation in place and loadable.
    """
    step = on_step or (lambda name: None)
    # True: a bar per phase on the terminal; False: timed, not shown; or the caller's (the chat's message).
    meter = progress if isinstance(progress, Progress) else BarProgress() if progress else Progress()
    t0 = time.perf_counter()
    seeds_dir, index_dir = Path(seeds_dir), Path(index_dir)
    with lock(index_dir):
        prev_gen = current_generation(index_dir)
        rules = rules_of(Tokenizer.rules())
        prev: Manifest | None = None
        if prev_gen is not None and not force:
            manifest = previous_manifest(prev_gen)
            prev = manifest if manifest is not None and compatible(manifest, encoder, rules, passage_vectors) else None
        prev_files: dict[str, FileEntry] = prev.files if prev else {}

        hashes = file_hashes(seeds_dir)
        added = sorted(p for p in hashes if p not in prev_files)
        changed = sorted(p for p in hashes if p in prev_files and prev_files[p].sha256 != hashes[p])
        removed = sorted(p for p in prev_files if p not in hashes)
        unchanged = [p for p in hashes if p in prev_files and prev_files[p].sha256 == hashes[p]]
        kept, todo = plan_segments(prev, hashes, lambda name: (index_dir / SEGMENTS / name / "segment.json").exists())

        n = _next_number(index_dir, "gen")
        gen = index_dir / f"gen-{n:06d}"
        new_segments: list[Path] = []
        seg_numbers = iter(range(_next_number(index_dir / SEGMENTS, "seg"), 1 << 30))
        embedded = retokenized = resumed = 0
        journal: Journal | None = None
        spill: Spill | None = None
        try:
            journal = Journal(index_dir, encoder.id, encoder.dim)  # inside: a full disk fails it too
            spill = Spill(index_dir)  # read files wait on disk, not in memory, until their segment is cut
            parts: list[Spilled] = []
            warnings: list[LoadWarning] = [w for w in (prev.warnings if prev else ())
                                           if w.path in hashes and w.path not in todo]
            meter.phase("read", len(todo))
            for path in todo:
                loaded, notes = read_file(seeds_dir, path, max_bytes)
                warnings.extend(notes)
                passages = [p for d in loaded for p in document_passages(d)]
                parts.append(spill.put(Part(path, hashes[path], loaded, passages,
                                            discover_user_words(p.text for p in passages))))
                meter.advance()
            warnings.sort(key=lambda w: w.path)
            step("documents-read")

            # Words jieba lacks are found per file; new passages are cut knowing the words of every
            # file, and so are questions. (Older segments keep the cut they were built with.)
            user_words = sorted(set().union(*(p.words for p in parts), *(s.user_words for s in kept)))
            tokenizer = Tokenizer(user_words)
            vocab = Vocabulary.load(prev_gen) if prev is not None else Vocabulary.empty()
            groups = group_parts(parts)
            old = Reuse(index_dir, prev, [p.path for p in parts], tokenizer) if prev is not None else None
            built: list[SegmentEntry] = []
            for group in groups:
                # Never a name used before: a reader that loaded an older generation shares
                # segments by name, so a name must always mean the same files.
                seg_dir = index_dir / SEGMENTS / f"seg-{next(seg_numbers):06d}-{uuid.uuid4().hex[:8]}"
                new_segments.append(seg_dir)
                info, e, r, j = _build_segment(seg_dir, [spill.load(s) for s in group], tokenizer, vocab, encoder,
                                                old, meter, step, passage_vectors, journal)
                built.append(info)
                embedded += e
                retokenized += r
                resumed += j
            if not groups:
                for name in ("tokenised", "embedded"):
                    step(name)
            segments = [*kept, *built]
            files: dict[str, FileEntry] = {}
            for seg in segments:
                for path, f in seg.files.items():
                    if hashes.get(path) == f.sha256:
                        files[path] = replace(f, segment=seg.name)
            repeats = repeated_rows(files)
            live = sum(f.passages for f in files.values()) - sum(map(len, repeats.values()))
            manifest = Manifest(
                format=FORMAT_VERSION, generation=gen.name,
                built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                build_seconds=round(time.perf_counter() - t0, 3), encoder=EncoderInfo(encoder.id, encoder.dim, passage_vectors),
                tokenizer=tokenizer.settings,
                counts=Counts(len(hashes), sum(f.documents for f in files.values()), live),
                vocabulary=len(vocab), segments=tuple(segments),
                files={p: replace(f, lines=None) for p, f in sorted(files.items())},  # repeat lines stay in segments
                repeated=repeats, warnings=tuple(warnings), versions=package_versions())
            meter.phase("publish", 1)
            if gen.exists():
                shutil.rmtree(gen)
            gen.mkdir(parents=True)
            vocab.save(gen, prev_gen if prev is not None else None)
            # The manifest is written last: a generation without one was never finished.
            write_json(gen / "manifest.json", manifest.to_json())
            step("wrote-manifest")
            fsync_tree(gen)
            for seg_dir in new_segments:
                fsync_tree(seg_dir)
            if new_segments:
                fsync_file(index_dir / SEGMENTS)
            fsync_file(index_dir)
            step("synced")
            publish(index_dir, gen, step)
        except BaseException as exc:
            if journal is not None:
                journal.close()  # kept: what it holds is not embedded again by the next build
            if spill is not None:
                spill.remove()
            if current_generation(index_dir) != gen:  # never leave a half-written generation behind
                shutil.rmtree(gen, ignore_errors=True)
                for seg_dir in new_segments:
                    shutil.rmtree(seg_dir, ignore_errors=True)
            if isinstance(exc, OSError):
                where = ("the new index is in use; syncing it to disk failed"
                         if current_generation(index_dir) == gen else "the previous index is still in use")
                raise IndexWriteFailed(f"could not write the new index in {index_dir} ({write_error(exc, index_dir)}); "
                                       f"{where}") from exc
            raise
        step("published")
        journal.remove()
        spill.remove()
        cleanup(index_dir, keep={gen.name} | ({prev_gen.name} if prev_gen else set()))
        step("cleaned")
        meter.advance()
        meter.finish()
        return BuildReport(
            generation=gen.name, added=tuple(added), changed=tuple(changed), removed=tuple(removed),
            unchanged=len(unchanged), documents=manifest.counts.documents, passages=live, embedded=embedded,
            reused=live - embedded, retokenized=retokenized, seconds=time.perf_counter() - t0,
            warnings=tuple(warnings), resumed=resumed, phases=dict(meter.seconds),
        )


def _next_number(folder: Path, prefix: str) -> int:
    """One more than the highest number among `folder`'s PREFIX-NNNNNN[-...] children."""
    existing = [int(c.name.split("-")[1]) for c in folder.glob(f"{prefix}-*") if c.name.split("-")[1].isdigit()] \
        if folder.is_dir() else []
    return max([0, *existing]) + 1


def _embed(texts: list[str], old: dict[str, np.ndarray], encoder: Encoder, journal: Journal, meter: Progress,
           step: Callable[[str], None]) -> tuple[np.ndarray, list[int], int]:
    """float16 vectors for `texts`: copied where the previous generation or an interrupted build (the journal)
    embedded the same text, embedded once for a text that occurs twice (a sentence two overlapping passages
    share); each embedded batch is committed to the journal. (vectors, positions embedded now or by the
    interrupted build, texts the journal held)."""
    out = np.zeros((len(texts), encoder.dim), dtype=np.float16)
    todo: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        key = content_hash(text)
        row = old.get(key)
        if row is not None and len(row) == encoder.dim:
            out[i] = row
        else:
            todo.setdefault(key, []).append(i)
    done, earlier = journal.get(list(todo))
    for key, vector in done.items():
        out[todo[key]] = vector
    keys = [k for k in todo if k not in done]
    meter.add(len(keys))
    parts = [keys[start:start + EMBED_BATCH] for start in range(0, len(keys), EMBED_BATCH)]
    batches = ([texts[todo[k][0]] for k in part] for part in parts)
    # A pool of worker processes (embeddings/pool.py) embeds the next batch while this one is committed.
    embedded = encoder.stream(batches) if isinstance(encoder, EncoderPool) else map(encoder.encode, batches)
    for part, found in zip(parts, embedded):
        journal.put(part, found)
        for k, vector in zip(part, found):
            out[todo[k]] = vector
        meter.advance(len(part))
        step("embedded-batch")
    return out, [i for g in todo.values() for i in g], earlier


def mean_vectors(sentence_vectors: np.ndarray, counts: np.ndarray, dim: int) -> np.ndarray:
    """Each passage's vector as the normalised mean of its sentences' vectors (float16)."""
    out = np.zeros((len(counts), dim), dtype=np.float16)
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    for a in range(0, len(counts), 8192):  # in float32 a few MB at a time, not a segment's sentences at once
        b = min(a + 8192, len(counts))
        part = np.asarray(sentence_vectors[ptr[a]:ptr[b]], dtype=np.float32)
        out[a:b] = l2_normalise(np.add.reduceat(part, ptr[a:b] - ptr[a], axis=0))
    return out


def _build_segment(folder: Path, group: list[Part], tokenizer: Tokenizer, vocab: Vocabulary, encoder: Encoder,
                   old: "Reuse | None", meter: Progress, step: Callable[[str], None],
                   passage_vectors: str, journal: Journal) -> tuple[SegmentEntry, int, int, int]:
    """Cut, embed and write one segment; returns (its manifest entry, passages embedded, passages cut, vectors
    read back from the journal)."""
    import faiss

    docs = [d for part in group for d in part.docs]
    doc_row = {d.id: i for i, d in enumerate(docs)}
    passages = [p for part in group for p in part.passages]
    meter.phase("cut", len(passages))
    # A cut depends on the passage and on the tokenizer (its rules and user words): the journal's key is both.
    cut_with = content_hash(json.dumps(tokenizer.settings, sort_keys=True, ensure_ascii=False))
    token_ids, sent_ids, cut = [], [], 0
    for start in range(0, len(passages), CUT_BATCH):
        batch = passages[start:start + CUT_BATCH]
        reused = [old.cut(p) if old else None for p in batch]
        keys = [content_hash(cut_with + p.text) for p in batch]
        earlier = journal.cuts([k for k, r in zip(keys, reused) if r is None])
        made: dict[str, Cut] = {}
        for p, key, r in zip(batch, keys, reused):
            if r is not None:
                token_ids.append(r[0])
                sent_ids.extend(r[1])
                continue
            toks, sents = earlier.get(key) or made.setdefault(key, passage_tokens(tokenizer, p))
            token_ids.append(vocab.ids_adding(toks))
            sent_ids.extend(vocab.ids_adding(list(dict.fromkeys(st))) for st in sents)
            cut += 1
        journal.put_cuts(made)
        meter.advance(len(batch))
    step("tokenised")
    meter.phase("embed", 0)
    reuse_s = old.sentences if old else {}
    sentence_texts = [p.text[a:b] for p in passages for a, b in p.sentences]
    sent_vectors, sentences_embedded, resumed = _embed(sentence_texts, reuse_s, encoder, journal, meter, step)
    counts = np.fromiter((len(p.sentences) for p in passages), dtype=np.int64, count=len(passages))
    if passage_vectors == "mean":
        vectors = mean_vectors(sent_vectors, counts, encoder.dim)
        owner = np.repeat(np.arange(len(passages)), counts)
        embedded = len(set(owner[sentences_embedded].tolist())) if sentences_embedded else 0
    else:
        vectors, done, more = _embed([p.text for p in passages], old.passages if old else {}, encoder, journal,
                                     meter, step)
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
    np.save(folder / "sentence_vectors.npy", sent_vectors)
    np.save(folder / "sentence_ptr.npy", np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))
    step("wrote-vectors")
    meter.advance(2)
    post = bm25.postings(token_ids)
    for name in ("terms", "ptr", "rows", "tf", "doclen", "bound"):
        np.save(folder / f"postings.{name}.npy", getattr(post, name))
    lengths = np.fromiter((len(s) for s in sent_ids), dtype=np.int64, count=len(sent_ids))
    np.save(folder / "sentence_tokens.npy", np.concatenate(sent_ids) if sent_ids else np.zeros(0, np.int32))
    np.save(folder / "sentence_token_ptr.npy", np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))
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
    info = SegmentEntry(name=folder.name, rows=len(passages), sentences=len(sentence_texts), index_type=index_type,
                        bound_avgdl=post.bound_avgdl, user_words=tuple(sorted(set().union(*(p.words for p in group)))),
                        files=files, cut_with=tuple(tokenizer.user_words))
    write_json(folder / "segment.json", info.to_json())
    meter.advance()
    return info.listing(), embedded, cut, resumed


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


def repeated_rows(files: dict[str, FileEntry]) -> dict[str, tuple[int, ...]]:
    """Segment → its rows (passages) whose paragraph is furniture repeated across the corpus's documents."""
    rep = repeated((line.key, line.title) for f in files.values() for line in f.lines or ())
    out: dict[str, list[int]] = {}
    for f in files.values():
        for line in f.lines or ():
            if line.key in rep:
                out.setdefault(f.segment, []).append(f.rows[0] + line.row)
    return {seg: tuple(sorted(rows)) for seg, rows in sorted(out.items())}
