"""Vectors and cuts a build made before it was published, kept durably so that a killed build resumes where it stopped."""

from __future__ import annotations

import errno
import json
import os
import sqlite3
from pathlib import Path

import numpy as np

NAME = "embedding-journal.sqlite"
Cut = tuple[list[str], list[list[str]]]  # a passage's tokens, and each of its sentences'
LOOKUP = 500  # keys per query (SQLite's default limit on variables is 999 before 3.32)


def _failed(exc: sqlite3.Error, path: Path) -> OSError:
    code = errno.ENOSPC if "full" in str(exc) else errno.EIO
    return OSError(code, f"{os.strerror(code)} (SQLite writing {path.name}: {' '.join(str(exc).split())[:200]})")


class Journal:
    """Content hash → float16 vector, for one encoder, and passage (with the tokenizer's settings) → its tokens.
    Each batch is committed as it is made (WAL: a killed process loses nothing committed); the journal is
    deleted once its generation is published, whose files then hold every vector and cut."""

    def __init__(self, folder: Path, encoder_id: str, dim: int):
        self.path = Path(folder) / NAME
        self.dim = dim
        try:
            self._con = sqlite3.connect(self.path, isolation_level=None)
            self._con.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                                    "CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB NOT NULL, run INTEGER NOT NULL);"
                                    "CREATE TABLE IF NOT EXISTS cuts (key TEXT PRIMARY KEY, tokens TEXT NOT NULL);"
                                    "CREATE TABLE IF NOT EXISTS meta (encoder TEXT NOT NULL, dim INTEGER NOT NULL);")
            found = self._con.execute("SELECT encoder, dim FROM meta").fetchone()
            if found != (encoder_id, dim):  # another encoder's vectors are of no use
                self._con.executescript("BEGIN; DELETE FROM vectors; DELETE FROM cuts; DELETE FROM meta; COMMIT;")
                self._con.execute("INSERT INTO meta VALUES (?, ?)", (encoder_id, dim))
            # Which build wrote a vector: those of earlier, interrupted builds are what a resumed build saves.
            self.run = self._con.execute("SELECT COALESCE(MAX(run), 0) + 1 FROM vectors").fetchone()[0]
        except sqlite3.DatabaseError as exc:  # a torn or foreign file: start it again
            if isinstance(exc, sqlite3.OperationalError) and "full" in str(exc):
                raise _failed(exc, self.path) from exc
            self._reset(encoder_id, dim)

    def _reset(self, encoder_id: str, dim: int) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        self.__init__(self.path.parent, encoder_id, dim)

    def __len__(self) -> int:
        return self._con.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]

    def get(self, keys: list[str]) -> tuple[dict[str, np.ndarray], int]:
        """The vectors held for these keys, and how many of them interrupted builds wrote (not this one)."""
        out: dict[str, np.ndarray] = {}
        earlier = 0
        for a in range(0, len(keys), LOOKUP):
            part = keys[a:a + LOOKUP]
            rows = self._con.execute(f"SELECT key, vec, run FROM vectors WHERE key IN ({','.join('?' * len(part))})",
                                     part)
            for key, blob, run in rows:
                vector = np.frombuffer(blob, dtype=np.float16)
                if len(vector) == self.dim:
                    out[key] = vector
                    earlier += run < self.run
        return out, earlier

    def put(self, keys: list[str], vectors: np.ndarray) -> None:
        data = np.asarray(vectors, dtype=np.float16)
        self._write("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                    [(k, v.tobytes(), self.run) for k, v in zip(keys, data)])

    def cuts(self, keys: list[str]) -> dict[str, Cut]:
        out = {}
        for a in range(0, len(keys), LOOKUP):
            part = keys[a:a + LOOKUP]
            for key, tokens in self._con.execute(
                    f"SELECT key, tokens FROM cuts WHERE key IN ({','.join('?' * len(part))})", part):
                whole, sentences = json.loads(tokens)
                out[key] = (whole, sentences)
        return out

    def put_cuts(self, cuts: dict[str, Cut]) -> None:
        self._write("INSERT OR REPLACE INTO cuts VALUES (?, ?)",
                    [(k, json.dumps(cut, ensure_ascii=False)) for k, cut in cuts.items()])

    def _write(self, sql: str, rows: list[tuple]) -> None:
        try:
            self._con.execute("BEGIN")
            self._con.executemany(sql, rows)
            self._con.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._con.in_transaction:
                self._con.execute("ROLLBACK")
            raise _failed(exc, self.path) from exc

    def close(self) -> None:
        self._con.close()

    def remove(self) -> None:
        """After the generation holding these vectors is published: they are in its files now."""
        self.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
