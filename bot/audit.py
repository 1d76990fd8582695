"""The chat's audit trail: why each answer was given, and what readers said of it, in SQLite beside the index."""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bot.answer import Answer

KEEP_DAYS = 30  # answers older than this are deleted, with their feedback
MAX_ANSWERS = 100_000  # and never more than this many are kept (the oldest go first)
FEEDBACK = ("up", "down", "wrong")
SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id TEXT PRIMARY KEY, at REAL NOT NULL, chat_type TEXT NOT NULL, question TEXT NOT NULL, kind TEXT,
    qtype TEXT, searched_for TEXT, generation TEXT, candidates TEXT, quotes TEXT, confidence REAL,
    abstained INTEGER, latency_ms REAL);
CREATE TABLE IF NOT EXISTS feedback (answer_id TEXT NOT NULL, at REAL NOT NULL, kind TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS answers_at ON answers (at);
CREATE INDEX IF NOT EXISTS feedback_answer ON feedback (answer_id);
"""


@dataclass(frozen=True)
class Entry:
    """One answer as the log keeps it: what was asked and found, and the readers' feedback on it."""

    id: str
    at: float
    chat_type: str
    question: str
    kind: str
    qtype: str
    searched_for: tuple[str, ...]
    generation: str
    candidates: tuple[dict, ...]  # the retrieved passages with their scores, best first
    quotes: tuple[dict, ...]  # what was shown: quote, outlet, title, date
    confidence: float
    abstained: bool
    latency_ms: float
    feedback: dict  # kind → count


@dataclass(frozen=True)
class Rated:
    """An answer readers marked down or as a wrong quote."""

    id: str
    question: str
    down: int
    wrong: int


def new_id() -> str:
    """A short id a reader or an admin can type: 8 hex digits."""
    return secrets.token_hex(4)


def candidates_of(answer: Answer, n: int = 5) -> list[dict]:
    return [{"doc": h.passage.doc_id, "paragraph": h.passage.paragraph, "score": round(float(h.score), 4),
             "bm25": round(float(h.bm25), 4), "dense": round(float(h.dense), 4)}
            for h in answer.hits[:n]]


def quotes_of(answer: Answer) -> list[dict]:
    out = []
    for q in answer.quotes:
        s = answer.sources[answer.source_number(q) - 1]
        out.append({"quote": q.text, "outlet": s.source_name, "title": s.title, "date": q.date, "role": q.role,
                    "score": q.score})
    return out


class AuditLog:
    """Append-only rows in one SQLite file; old rows are deleted as they age out (see KEEP_DAYS, MAX_ANSWERS).

    Kept: the time, the chat's type (private, group …), the question the bot was asked, how it read it, the index
    generation, the top passages with their scores, the quotes shown, the confidence, the latency and the
    feedback. Never kept: user or chat ids, names, messages not addressed to the bot, the bot's token."""

    def __init__(self, path: Path, keep_days: float = KEEP_DAYS, max_answers: int = MAX_ANSWERS):
        self.path = Path(path)
        self.keep_seconds = keep_days * 86400
        self.max_answers = max_answers
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._con = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._con.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;" + SCHEMA)
        self.rotate()

    def close(self) -> None:
        with self._lock:
            self._con.close()

    def record(self, answer: Answer, chat_type: str, generation: str, latency_ms: float,
               answer_id: str | None = None, now: float | None = None) -> str:
        """Log an answer; returns its id."""
        answer_id = answer_id or new_id()
        row = (answer_id, time.time() if now is None else now, chat_type, answer.question, answer.kind, answer.qtype,
               json.dumps(list(answer.searched_for), ensure_ascii=False), generation,
               json.dumps(candidates_of(answer), ensure_ascii=False), json.dumps(quotes_of(answer), ensure_ascii=False),
               float(answer.confidence), int(answer.abstained), round(float(latency_ms), 1))
        with self._lock:
            self._con.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
        return answer_id

    def feedback(self, answer_id: str, kind: str, now: float | None = None) -> bool:
        """Count a reader's 👍, 👎 or 'wrong quote' on an answer the log still holds."""
        if kind not in FEEDBACK:
            return False
        with self._lock:
            if self._con.execute("SELECT 1 FROM answers WHERE id = ?", (answer_id,)).fetchone() is None:
                return False
            self._con.execute("INSERT INTO feedback VALUES (?, ?, ?)",
                              (answer_id, time.time() if now is None else now, kind))
        return True

    def get(self, answer_id: str) -> Entry | None:
        with self._lock:
            row = self._con.execute("SELECT * FROM answers WHERE id = ?", (answer_id,)).fetchone()
            votes = dict(self._con.execute("SELECT kind, COUNT(*) FROM feedback WHERE answer_id = ? GROUP BY kind",
                                           (answer_id,)).fetchall())
        if row is None:
            return None
        (id_, at, chat_type, question, kind, qtype, searched, generation, cands, quotes, confidence, abstained,
         latency) = row
        return Entry(id_, at, chat_type, question, kind, qtype, tuple(json.loads(searched)), generation,
                     tuple(json.loads(cands)), tuple(json.loads(quotes)), confidence, bool(abstained), latency, votes)

    def counts(self) -> dict[str, int]:
        with self._lock:
            found = dict(self._con.execute("SELECT kind, COUNT(*) FROM feedback GROUP BY kind").fetchall())
        return {k: found.get(k, 0) for k in FEEDBACK}

    def worst(self, n: int = 3) -> list[Rated]:
        """The answers with the most 👎 and wrong-quote marks, most first (ties to the newer)."""
        with self._lock:
            rows = self._con.execute(
                "SELECT a.id, a.question, SUM(f.kind = 'down'), SUM(f.kind = 'wrong') FROM feedback f "
                "JOIN answers a ON a.id = f.answer_id WHERE f.kind != 'up' GROUP BY a.id "
                "ORDER BY SUM(f.kind != 'up') DESC, a.at DESC, a.id LIMIT ?", (n,)).fetchall()
        return [Rated(i, q, int(d), int(w)) for i, q, d, w in rows]

    def rotate(self, now: float | None = None) -> None:
        """Delete answers (and their feedback) past the keeping time or beyond the row limit."""
        cut = (time.time() if now is None else now) - self.keep_seconds
        with self._lock:
            self._con.execute("BEGIN")
            self._con.execute("DELETE FROM answers WHERE at < ? OR id IN (SELECT id FROM answers ORDER BY at DESC "
                              "LIMIT -1 OFFSET ?)", (cut, self.max_answers))
            self._con.execute("DELETE FROM feedback WHERE answer_id NOT IN (SELECT id FROM answers)")
            self._con.execute("COMMIT")
