"""How far a build is: one phase at a time (read, cut, embed, write), with its rate and time left, and the
seconds each phase took."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

PHASES = ("read", "cut", "embed", "write")


@dataclass(frozen=True)
class Snapshot:
    """The current phase as a reader sees it (the chat's progress message)."""

    phase: str
    done: int
    total: int
    rate: float  # items a second in this phase so far
    eta: float | None  # seconds left at that rate; None before any item is done

    def line(self) -> str:
        eta = "?" if self.eta is None else (f"{self.eta / 60:.0f} min" if self.eta >= 90 else f"{self.eta:.0f} s")
        return f"{self.phase}: {self.done:,}/{self.total:,} ({self.rate:,.0f}/s, {eta} left)"


class Progress:
    """Counts items per phase and times the phases; subclasses show it (a terminal bar, a chat message).

    Thread-safe: the chat reads snapshots while the build, on another thread, advances."""

    def __init__(self):
        self._lock = threading.Lock()
        self.seconds: dict[str, float] = {}
        self._phase: str | None = None
        self._started = 0.0
        self._done = 0
        self._total = 0

    def phase(self, name: str, total: int) -> None:
        """Start `name` (ending the phase before); `total` may grow as the phase learns more (add)."""
        with self._lock:
            self._end()
            self._phase, self._started, self._done, self._total = name, time.perf_counter(), 0, total
        self.shown()

    def add(self, more: int) -> None:
        with self._lock:
            self._total += more
        self.shown()

    def advance(self, n: int = 1) -> None:
        with self._lock:
            self._done += n
        self.shown()

    def finish(self) -> None:
        with self._lock:
            self._end()
            self._phase = None
        self.shown()

    def _end(self) -> None:
        if self._phase is not None:
            self.seconds[self._phase] = self.seconds.get(self._phase, 0.0) + time.perf_counter() - self._started

    def snapshot(self) -> Snapshot | None:
        with self._lock:
            if self._phase is None:
                return None
            elapsed = max(time.perf_counter() - self._started, 1e-9)
            rate = self._done / elapsed
            eta = (self._total - self._done) / rate if self._done else None
            return Snapshot(self._phase, self._done, self._total, rate, eta)

    def shown(self) -> None:
        """Called after every change; shows nothing here."""


class BarProgress(Progress):
    """One tqdm bar per phase on stderr, with its rate and time left."""

    def __init__(self):
        super().__init__()
        self._bar = None

    def shown(self) -> None:
        from tqdm import tqdm

        now = self.snapshot()
        if now is None or (self._bar is not None and self._bar.desc != now.phase):
            if self._bar is not None:
                self._bar.close()
            self._bar = None
        if now is None:
            return
        if self._bar is None:
            self._bar = tqdm(total=now.total, desc=now.phase, unit="item", mininterval=0.5)
        if self._bar.total != now.total:
            self._bar.total = now.total
        self._bar.update(now.done - self._bar.n)
