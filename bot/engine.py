"""The question-answering engine the CLI and the chat share: index upkeep, hot swap, ask."""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass

from bot.answer import Answer, Composer
from bot.settings import Settings
from embeddings.encoders import Encoder, make_encoder
from embeddings.index import BuildReport, Index, build_index, seeds_changed
from embeddings.search import Searcher, SearcherSlot
from embeddings.textnorm import strip_controls
from embeddings.warm import Warmer, default_budget, files_by_heat

RETRIEVE_K = 8


def step_hook(settings: Settings):
    """Fault-injection hook for tests: announce each index build step on stderr and pause after it."""
    if settings.debug_pause <= 0:
        return None

    def step(name: str) -> None:
        print(f"step: {name}", file=sys.stderr, flush=True)
        time.sleep(settings.debug_pause)

    return step


class QuestionError(Exception):
    """A question that cannot be asked as it is (empty, too long); the message is for the user."""

    def __init__(self, message: str, kind: str):
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Loaded:
    """What one index generation needs to answer: swapped as a whole, never piece by piece."""

    searcher: Searcher
    composer: Composer

    @property
    def index(self) -> Index:
        return self.searcher.index


class Engine:
    def __init__(self, settings: Settings, encoder: Encoder | None = None):
        self.settings = settings
        self.encoder = encoder or make_encoder(settings.encoder, threads=settings.threads)
        self._slot = SearcherSlot()
        self._build_lock = threading.Lock()
        self._warmer: Warmer | None = None

    @property
    def loaded(self) -> Loaded:
        return self._slot.get()

    def is_ready(self) -> bool:
        try:
            self._slot.get()
            return True
        except RuntimeError:
            return False

    def ensure_index(self, build: bool = True) -> BuildReport | None:
        """Build the index if the seeds changed since it was built (or there is none), then load it."""
        report = None
        if build and seeds_changed(self.settings.seeds_dir, self.settings.index_dir):
            report = self.reindex()
        elif not self.is_ready():
            self._load()
        return report

    def reindex(self) -> BuildReport:
        """Reindex what changed, then swap the new generation in; questions keep being answered meanwhile."""
        with self._build_lock:
            report = build_index(self.settings.seeds_dir, self.settings.index_dir, self.encoder,
                                 max_bytes=self.settings.max_file_bytes, on_step=step_hook(self.settings))
            self._load()
            return report

    def _load(self) -> None:
        previous = self.loaded.index if self.is_ready() else None  # its unchanged segments are reused as loaded
        index = Index.load(self.settings.index_dir, self.encoder.id, previous=previous)
        self._slot.swap(Loaded(Searcher(index, self.encoder), Composer(index, encoder=self.encoder)))
        if self._warmer is not None:
            self._warm(index)

    def start_warming(self) -> None:
        """For a long-running bot: read the loaded index into the page cache in the background, and
        each new generation after a reindex, so early questions do not wait on the disk."""
        if self.settings.warm_mb == 0 or self._warmer is not None:
            return
        self._warmer = Warmer()
        if self.is_ready():
            self._warm(self.loaded.index)

    def _warm(self, index: Index) -> None:
        budget = default_budget() if self.settings.warm_mb is None else self.settings.warm_mb << 20
        self._warmer.start(files_by_heat(index), budget)

    def check_question(self, question: str) -> str:
        q = strip_controls(question or "").strip()  # NUL, lone surrogates: nothing to search for, only to break on
        if not q:
            raise QuestionError("empty question", "empty")
        if len(q) > self.settings.max_question_chars:
            raise QuestionError(f"question longer than {self.settings.max_question_chars} characters", "too_long")
        return q

    def ask(self, question: str) -> Answer:
        q = self.check_question(question)
        loaded = self.loaded  # one generation for the whole question, even if a swap happens meanwhile
        qv = loaded.searcher.query_vector(q)
        hits = loaded.searcher.search(q, k=RETRIEVE_K, query_vector=qv)
        return loaded.composer.compose(q, hits, qv)
