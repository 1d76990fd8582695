"""Seed files → Documents: which files are seeds, and which reader each file's shape gets."""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path
from typing import Iterable

from embeddings.boilerplate import repeat_key, repeated, title_key
from embeddings.documents.decoding import decode
from embeddings.documents.html import read_html
from embeddings.documents.json_records import read_json
from embeddings.documents.markdown import read_markdown
from embeddings.documents.model import Corpus, Document, LoadWarning, UnreadableFile
from embeddings.documents.text import read_text

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 10 * 1024 * 1024
SEED_SUFFIXES = {".txt", ".json", ".md", ".markdown", ".html", ".htm", ""}


def seed_files(seeds_dir: Path) -> list[Path]:
    """The files of a seeds folder that may be documents, in a stable order."""
    files = []
    for p in sorted(seeds_dir.rglob("*")):
        if not p.is_file() or any(part.startswith(".") for part in p.relative_to(seeds_dir).parts):
            continue
        if p.suffix.lower() in SEED_SUFFIXES:
            files.append(p)
    return files


def load_corpus(seeds_dir: Path, max_bytes: int = MAX_FILE_BYTES) -> Corpus:
    """Read every seed file; a file that cannot be read is skipped with a warning naming it."""
    seeds_dir = Path(seeds_dir)
    docs: list[Document] = []
    warnings: list[LoadWarning] = []
    for path in seed_files(seeds_dir):
        loaded, notes = read_file(seeds_dir, path.relative_to(seeds_dir).as_posix(), max_bytes)
        docs.extend(loaded)
        warnings.extend(notes)
    return Corpus(tuple(docs), tuple(warnings))


def read_file(seeds_dir: Path, rel: str, max_bytes: int = MAX_FILE_BYTES) -> tuple[list[Document], list[LoadWarning]]:
    """One seed file → its documents and warnings; never raises for a bad file, it warns instead."""
    try:
        data = (Path(seeds_dir) / rel).read_bytes()
        loaded, notes = read_document(data, rel, max_bytes=max_bytes)
    except UnreadableFile as exc:
        log.warning("skipped %s: %s", rel, exc)
        return [], [LoadWarning(rel, f"skipped: {exc}")]
    except OSError as exc:
        return [], [LoadWarning(rel, f"skipped: cannot read file ({exc.strerror or exc})")]
    except Exception as exc:  # a reader bug must not take the whole corpus down
        log.exception("reader failed on %s", rel)
        return [], [LoadWarning(rel, f"skipped: unexpected {type(exc).__name__}: {exc}")]
    return loaded, [LoadWarning(rel, note) for note in notes]


def read_document(data: bytes, rel_path: str, max_bytes: int = MAX_FILE_BYTES) -> tuple[list[Document], list[str]]:
    """Bytes of one file → its documents (usually one) and notes worth a warning."""
    if not data.strip():
        raise UnreadableFile("empty file")
    if len(data) > max_bytes:
        raise UnreadableFile(f"too large ({len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB)")
    text = decode(data)
    sha = hashlib.sha256(data).hexdigest()
    doc_id = rel_path
    suffix = Path(rel_path).suffix.lower()
    body = text.lstrip("\ufeff \t\r\n")
    notes: list[str] = []
    if body.startswith(("{", "[")):
        docs = read_json(body, doc_id, rel_path, sha, notes)
    elif body.startswith("---") and re.match(r"---\s*\n", body):
        docs = [read_markdown(body, doc_id, rel_path, sha, notes)]
    elif suffix in {".md", ".markdown"} or _looks_like_markdown(body):
        docs = [read_markdown(body, doc_id, rel_path, sha, notes)]
    elif suffix in {".html", ".htm"} or re.search(r"<(html|body|article)\b", body[:5000], re.I):
        docs = [read_html(body, doc_id, rel_path, sha, notes)]
    else:
        docs = [read_text(body, doc_id, rel_path, sha, notes)]
    kept = []
    for doc in docs:
        if not doc.paragraphs:
            notes.append(f"skipped document {doc.id!r}: no paragraphs left after cleaning")
            continue
        kept.append(doc)
    if not kept:
        raise UnreadableFile("no readable paragraphs")
    return kept, notes


def _looks_like_markdown(text: str) -> bool:
    head = text[:20000]
    atx = len(re.findall(r"^#{1,6}\s+\S", head, re.M))
    setext = len(re.findall(r"^\S.*\n[-=]{4,}\s*$", head, re.M))
    table = len(re.findall(r"^\|.*\|\s*$", head, re.M))
    return atx + setext >= 2 or (atx + setext >= 1 and table >= 2)


def repeated_paragraphs(documents: Iterable[Document]) -> frozenset[str]:
    """The keys (boilerplate.repeat_key) of the paragraphs that stand in documents of three or more different
    titles: the lines the index leaves out (embeddings.index.repeated_rows decides the same from what each
    segment recorded)."""
    return repeated((k, title_key(d.title)) for d in documents for k in (repeat_key(p.text) for p in d.paragraphs) if k)
