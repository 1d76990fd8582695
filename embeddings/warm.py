"""Reads an index's files into the page cache ahead of questions, hottest first, within a budget."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Callable

# What a question reads, most of it first: postings (every question), then the vectors proposals
# are re-scored with, then the sentence data of the hits, then their sentence vectors (the largest).
HEAT = (
    ("postings.terms.npy", "postings.ptr.npy", "postings.bound.npy", "postings.doclen.npy",
     "postings.rows.npy", "postings.tf.npy"),
    ("vectors.npy",),
    ("sentence_ptr.npy", "sentence_token_ptr.npy", "sentence_tokens.npy", "store.sqlite"),
    ("sentence_vectors.npy",),
)
CHUNK = 4 << 20
log = logging.getLogger(__name__)


def files_by_heat(index) -> list[Path]:
    """The index's files in the order worth reading them: the vocabulary, then each tier of HEAT
    across all segments (so a budget that stops early has covered every segment's postings)."""
    out = sorted(p for p in Path(index.path).glob("vocab.*") if p.is_file())
    for tier in HEAT:
        for seg in index.segments:
            out += [seg.path / name for name in tier if (seg.path / name).is_file()]
    return out


def available_bytes() -> int:
    """Memory the kernel could give without swapping (MemAvailable), or free memory where unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def default_budget() -> int:
    """Half the available memory: the page cache gives it back under pressure, but no more than that
    is taken from whatever else runs on the machine."""
    return available_bytes() // 2


def warm(paths: list[Path], budget: int, stop: threading.Event | None = None) -> tuple[int, int]:
    """Read the files in order until `budget` bytes are read or `stop` is set; (files read whole,
    bytes read). Reading, not mapping: the pages land in the shared, reclaimable page cache and
    count in no process's resident set. A file that vanished (an old generation swept) is skipped."""
    done = total = 0
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    for path in paths:
        try:
            with open(path, "rb", buffering=0) as f:
                while total < budget and not (stop is not None and stop.is_set()):
                    n = f.readinto(view[:min(CHUNK, budget - total)])
                    if not n:
                        done += 1
                        break
                    total += n
        except OSError:
            continue
        if total >= budget or (stop is not None and stop.is_set()):
            break
    return done, total


class Warmer:
    """One background warm-up at a time: starting another (a new generation) stops the last."""

    def __init__(self):
        self._stop: threading.Event | None = None
        self._thread: threading.Thread | None = None
        self.result = None

    def start(self, work: Callable[[threading.Event], object]) -> None:
        """Run work(stop) in a thread; its return value becomes `result`."""
        self.stop()
        stop = threading.Event()

        def run() -> None:
            try:
                self.result = work(stop)
            except Exception:  # a warm-up is only ever an optimisation: log it, answer on
                log.exception("warming the index up failed")

        self._stop, self.result = stop, None
        self._thread = threading.Thread(target=run, name="warm-index", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._stop is not None:
            self._stop.set()
            self._thread.join()
        self._stop = self._thread = None

    def wait(self, timeout: float | None = None) -> bool:
        """True once the warm-up has finished (or none was started)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True
