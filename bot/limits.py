"""Per-user question limits: in memory for one process, in SQLite for replicas that share a host's state folder."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Protocol

from bot.chat import RateLimiter
from bot.settings import Settings


class Limiter(Protocol):
    """At most `limit` questions per `window` seconds per user, whichever process the question reaches."""

    def clock(self) -> float: ...

    def check(self, user_id: int, now: float) -> float:
        """0 if the question may go ahead (and counts it); else the seconds until it may."""
        ...

    def close(self) -> None: ...


class MemoryLimiter(RateLimiter):
    """The sliding window of one process, on the monotonic clock."""

    @staticmethod
    def clock() -> float:
        return time.monotonic()

    def close(self) -> None:
        """Nothing held outside the process."""


class SqliteLimiter:
    """The same sliding window in one SQLite file, so every replica on the host counts every question.

    Wall-clock time, since monotonic clocks differ between processes. Each check is one immediate
    transaction: two replicas checking the same user at once are serialised by SQLite's lock.
    """

    def __init__(self, path: Path, limit: int, window: float):
        self.limit = limit
        self.window = window
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._con = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10.0)
        self._con.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                                "CREATE TABLE IF NOT EXISTS asked (user INTEGER NOT NULL, at REAL NOT NULL);"
                                "CREATE INDEX IF NOT EXISTS asked_user ON asked (user, at);")
        self._lock = threading.Lock()

    @staticmethod
    def clock() -> float:
        return time.time()

    def check(self, user_id: int, now: float) -> float:
        with self._lock:
            con = self._con
            con.execute("BEGIN IMMEDIATE")
            try:
                con.execute("DELETE FROM asked WHERE at <= ?", (now - self.window,))  # every user's old ones
                times = [t for (t,) in con.execute("SELECT at FROM asked WHERE user = ? ORDER BY at", (user_id,))]
                if len(times) >= self.limit:
                    return times[0] + self.window - now
                con.execute("INSERT INTO asked VALUES (?, ?)", (user_id, now))
                return 0.0
            finally:
                con.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._con.close()


def limiter_for(settings: Settings) -> MemoryLimiter | SqliteLimiter:
    """Shared through the state folder when replicas answer from Qdrant; in memory for one local bot."""
    if settings.backend == "qdrant":
        return SqliteLimiter(settings.state_folder / "limits.sqlite", settings.rate_limit, settings.rate_window)
    return MemoryLimiter(settings.rate_limit, settings.rate_window)
