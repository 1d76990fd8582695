"""A segment's documents and passages on disk: one SQLite file, read lazily, one row at a time.

Loading an index must not parse every document (10^5 passages of JSON took 9 s to turn into
objects); a passage or document is read when a question needs it, and recently used ones are kept.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Callable

from embeddings.documents import Document, Paragraph
from embeddings.boilerplate import Dropped
from embeddings.passages import Passage

CACHE = 4096  # documents kept parsed per segment

SCHEMA = """
CREATE TABLE documents (row INTEGER PRIMARY KEY, id TEXT NOT NULL, path TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE passages (row INTEGER PRIMARY KEY, id TEXT NOT NULL, doc INTEGER NOT NULL, para INTEGER NOT NULL,
                       start INTEGER NOT NULL, "end" INTEGER NOT NULL, sents TEXT NOT NULL);
"""


def doc_to_json(doc: Document) -> dict:
    return {
        "id": doc.id, "path": doc.path, "shape": doc.shape, "title": doc.title, "date": doc.date, "url": doc.url,
        "author": doc.author, "source": doc.source, "tags": list(doc.tags), "sha256": doc.sha256,
        "notes": list(doc.notes), "dropped": [[x.text, x.rule] for x in doc.dropped],
        "paragraphs": [[p.text, p.section, [list(s) for s in p.sentences], p.kind] for p in doc.paragraphs],
    }


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


def write_store(path: Path, docs: list[Document], passages: list[tuple[Passage, int]],
                step: Callable[[str], None] = lambda name: None) -> None:
    """Documents in order (row = position), then passages with the row of their document."""
    con = sqlite3.connect(path)
    try:
        con.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + SCHEMA)
        con.executemany("INSERT INTO documents VALUES (?, ?, ?, ?)",
                        ((i, d.id, d.path, json.dumps(doc_to_json(d), ensure_ascii=False, separators=(",", ":")))
                         for i, d in enumerate(docs)))
        con.execute("CREATE INDEX documents_id ON documents (id)")
        con.commit()
        step("wrote-documents")
        half = len(passages) // 2
        for lo, hi in ((0, half), (half, len(passages))):
            con.executemany("INSERT INTO passages VALUES (?, ?, ?, ?, ?, ?, ?)",
                            ((i, p.id, doc, p.paragraph, p.start, p.end, json.dumps(p.sentences, separators=(",", ":")))
                             for i, (p, doc) in enumerate(passages[lo:hi], lo)))
            con.commit()
            if lo == 0:
                step("writing-passages")  # a file half written: a crash here must not matter either
    except sqlite3.OperationalError as exc:  # a full disk is an OSError to the build, as for every other file
        code = errno.ENOSPC if "full" in str(exc) else errno.EIO
        raise OSError(code, f"{os.strerror(code)} (SQLite writing {Path(path).name}: "
                            f"{' '.join(str(exc).split())[:200]})") from exc
    finally:
        con.close()
    step("wrote-passages")


class Store:
    """Read-only view of one segment's store; safe to share between threads."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._con = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        self._docs: OrderedDict[int, Document] = OrderedDict()

    def close(self) -> None:
        self._con.close()

    def _query(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._con.execute(sql, args).fetchall()

    def document(self, row: int) -> Document:
        with self._lock:
            doc = self._docs.get(row)
            if doc is not None:
                self._docs.move_to_end(row)
                return doc
            found = self._con.execute("SELECT body FROM documents WHERE row = ?", (row,)).fetchone()
        if found is None:
            raise KeyError(row)
        doc = doc_from_json(json.loads(found[0]))
        with self._lock:
            self._docs[row] = doc
            if len(self._docs) > CACHE:
                self._docs.popitem(last=False)
        return doc

    def document_rows(self) -> list[tuple[int, str, str]]:
        """(row, id, path) of every document."""
        return self._query("SELECT row, id, path FROM documents ORDER BY row")

    def passage_documents(self) -> list[int]:
        """The document row of every passage, in passage order."""
        return [doc for (doc,) in self._query("SELECT doc FROM passages ORDER BY row")]

    def passage(self, row: int, global_row: int) -> tuple[Passage, int]:
        """The passage at `row` (numbered `global_row` in the index) and its document's row."""
        found = self._query('SELECT id, doc, para, start, "end", sents FROM passages WHERE row = ?', (row,))
        if not found:
            raise KeyError(row)
        pid, doc_row, para, start, end, sents = found[0]
        doc = self.document(doc_row)
        paragraph = doc.paragraphs[para]
        p = Passage(pid, doc.id, para, start, end, paragraph.text[start:end], paragraph.section,
                    tuple(tuple(s) for s in json.loads(sents)), paragraph.kind, global_row)
        return p, doc_row
