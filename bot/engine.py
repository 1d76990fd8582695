"""The question-answering engine the CLI and the chat share: index upkeep, hot swap, ask."""

from __future__ import annotations

import socket
import sys
import threading
import time
from dataclasses import dataclass, replace

import numpy as np

from bot.answer import Answer, Composer
from bot.answer.forms import report_pattern
from bot.answer.question import analyse, date_pattern, holds_names, state_query, sub_questions
from bot.query.english import Dictionary, Translator, is_english
from bot.query.spelling import Speller, repaired
from bot.query.synonyms import Thesaurus, synonyms_of
from bot.settings import Settings
from embeddings.encoders import Encoder, make_encoder
from embeddings.pool import EncoderPool
from embeddings.backend import Filters, SearchBackend
from embeddings.index import BuildReport, Index, IndexBusy, build_index, seeds_changed
from embeddings.index.progress import Progress
from embeddings.search import Hit, Searcher, SearcherSlot
from embeddings.textnorm import normalize, strip_controls
from embeddings.warm import Warmer, available_bytes, default_budget, files_by_heat, warm

RETRIEVE_K = 8
FORM_K = 20  # hits for questions of the other kinds (why, status, timeline, ...)
STATE_K = 12  # extra hits a status or timeline question takes from its state query (those naming its names)
STATE_SEARCH_K = 24
SYNONYM_WEIGHT = 0.5  # of a question word's BM25 weight, for its synonym
NEWEST_K = 4  # a status question's newest reports of its state, added whatever their rank
BUILD_WAIT = 3_600.0  # seconds a starting replica waits for another one's first build


def step_hook(settings: Settings):
    """Fault-injection hook for tests: announce each index build step on stderr and pause after it."""
    if settings.debug_pause <= 0:
        return None

    def step(name: str) -> None:
        print(f"step: {name}", file=sys.stderr, flush=True)
        time.sleep(settings.debug_pause)

    return step


def limit_threads(threads: int) -> None:
    """Each question runs on one answering thread; FAISS's OpenMP and numpy's BLAS each using every
    core as well would oversubscribe a small machine (two OpenMP threads were slower than one for a
    single query), so both get `threads` (QUOTEBOT_THREADS, default 1). BLAS's limit is the
    process's; OpenMP's is the calling thread's, so every thread that searches calls this too
    (the bot's worker pools do, as their initializer)."""
    import faiss
    from threadpoolctl import threadpool_limits

    faiss.omp_set_num_threads(threads)
    threadpool_limits(limits=threads)


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
    speller: Speller
    translator: Translator

    @property
    def index(self) -> SearchBackend:
        return self.searcher.index


class Engine:
    def __init__(self, settings: Settings, encoder: Encoder | None = None):
        limit_threads(settings.threads)
        self.settings = settings
        self.encoder = encoder or make_encoder(settings.encoder, threads=settings.threads)
        # Builds embed on QUOTEBOT_BUILD_THREADS worker processes (embeddings/pool.py), a question on this one's
        # threads. A given encoder (tests, benchmarks) is used for both.
        self._build_encoder = self.encoder if encoder is not None or settings.build_threads == settings.threads else None
        self._slot = SearcherSlot()
        self._build_lock = threading.Lock()
        self._warmer: Warmer | None = None
        self._dictionary = Dictionary()  # CC-CEDICT, read on the first English question, for every generation
        self._thesaurus = Thesaurus()  # 同义词词林 and the news synonyms, read on the first question
        self._qdrant = None  # the client, opened on first use (the qdrant backend only)

    @property
    def qdrant(self):
        if self._qdrant is None:
            from embeddings.qdrant import connect

            s = self.settings
            self._qdrant = connect(s.qdrant_url, s.qdrant_path, s.qdrant_api_key)
        return self._qdrant

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Release the Qdrant client (local mode holds its folder's lock until then)."""
        if self._qdrant is not None:
            self._qdrant.close()
            self._qdrant = None

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
        if build and self.seeds_changed():
            report = self._reindex_or_wait()
        elif not self.is_ready():
            self._load()
        return report

    def _reindex_or_wait(self) -> BuildReport | None:
        """Reindex; a Qdrant replica that finds another one building waits for its version instead."""
        waited = 0.0
        while True:
            try:
                return self.reindex()
            except IndexBusy:
                if self.settings.backend != "qdrant" or waited > BUILD_WAIT:
                    raise
            time.sleep(self.settings.poll_seconds)
            waited += self.settings.poll_seconds
            if not self.seeds_changed():  # the other replica published what these seeds hold
                self._load()
                return None

    def seeds_changed(self) -> bool:
        """The seeds differ from what the index (or, with Qdrant, the published version) was built from."""
        if self.settings.backend == "qdrant":
            from embeddings.qdrant import seeds_changed as published_differs

            return published_differs(self.settings.seeds_dir, self.qdrant, self.settings.qdrant_collection)
        return seeds_changed(self.settings.seeds_dir, self.settings.index_dir, self.settings.passage_vectors)

    def reindex(self, force: bool = False, progress: "bool | Progress" = False, answering: bool = False) -> BuildReport:
        """Reindex what changed, then swap the new generation in; questions keep being answered meanwhile.

        With Qdrant, the generation is built in index_dir (the builder's working copy, which keeps the
        next reindex incremental), then published as a new collection version under the replicas' lease.
        `answering`: questions are being answered meanwhile (the chat's /reindex), so the build embeds on
        the questions' thread, not on QUOTEBOT_BUILD_THREADS worker processes, which double the answers' p95
        on two cores (docs/benchmarks.md, "Answers while a reindex runs")."""
        s = self.settings
        with self._build_lock:
            if s.backend != "qdrant":
                report = self._build(force, progress, answering)
            else:
                from embeddings.index.plan import file_hashes
                from embeddings.qdrant import differs, lease, publish, published_info

                # The lease names this host and working copy: a builder restarted on them takes it back at once.
                owner = f"{socket.gethostname()}:{s.index_dir.resolve()}"
                with lease(self.qdrant, s.qdrant_collection, owner=owner):
                    before = published_info(self.qdrant, s.qdrant_collection)
                    report = self._build(force, progress, answering)
                    now = file_hashes(s.seeds_dir)
                    if force or differs(before, now):
                        publish(Index.load(s.index_dir, self.encoder.id), self.qdrant, s.qdrant_collection,
                                step=step_hook(s) or (lambda name: None), shards=s.qdrant_shards,
                                replicas=s.qdrant_replicas)
                # What changed for the replicas is what differs from the version they answered from, whatever
                # this builder's working copy held before.
                report = compared(report, before.files if before else {}, now)
            self._load()
            return report

    def _build(self, force: bool, progress: "bool | Progress", answering: bool) -> BuildReport:
        s = self.settings
        if self._build_encoder is None:
            self._build_encoder = EncoderPool(s.encoder, s.build_threads)
        encoder = self.encoder if answering else self._build_encoder
        try:
            return build_index(s.seeds_dir, s.index_dir, encoder, max_bytes=s.max_file_bytes, progress=progress,
                               on_step=step_hook(s), force=force, passage_vectors=s.passage_vectors)
        finally:
            if isinstance(encoder, EncoderPool):
                encoder.close()  # its worker processes hold a model each: not kept while the bot only answers

    def refresh(self) -> bool:
        """A Qdrant replica's look at the alias: load the version another replica published, if there is
        one. True when a new version was loaded."""
        if self.settings.backend != "qdrant" or not self.is_ready():
            return False
        from embeddings.qdrant import current_version

        with self._build_lock:
            if current_version(self.qdrant, self.settings.qdrant_collection) == self.loaded.index.collection:
                return False
            self._load()
            return True

    def use_calibration(self, calibration: dict) -> None:
        """Answer the loaded generation with another abstention model (evaluation, re-fitting); the next load
        goes back to bot/calibration.json."""
        loaded = self.loaded
        self._slot.swap(replace(loaded, composer=Composer(loaded.index, calibration, encoder=self.encoder)))

    def _load(self) -> None:
        previous = self.loaded.index if self.is_ready() else None  # its unchanged segments are reused as loaded
        if self.settings.backend == "qdrant":
            from embeddings.qdrant import QdrantIndex

            index = QdrantIndex.load(self.qdrant, self.settings.qdrant_collection, self.encoder.id, previous=previous)
        else:
            index = Index.load(self.settings.index_dir, self.encoder.id, previous=previous)
        speller = Speller(index)
        self._slot.swap(Loaded(Searcher(index, self.encoder), Composer(index, encoder=self.encoder), speller,
                               Translator(index, self._dictionary, speller)))
        if self._warmer is not None:
            self._warm()

    def start_warming(self) -> None:
        """For a long-running bot: warm the loaded generation up in the background (see warm_up), and
        each new one after a reindex, so early questions do not wait on the disk."""
        if self.settings.warm_mb == 0 or self._warmer is not None:
            return
        self._warmer = Warmer()
        if self.is_ready():
            self._warm()

    def _warm(self) -> None:
        # More than is free would push the hottest files out again with the last ones read.
        budget = default_budget() if self.settings.warm_mb is None else min(self.settings.warm_mb << 20, available_bytes())
        loaded = self.loaded
        self._warmer.start(lambda stop: warm_up(loaded, budget, stop))

    def check_question(self, question: str) -> str:
        q = strip_controls(question or "").strip()  # NUL, lone surrogates: nothing to search for, only to break on
        if not q:
            raise QuestionError("empty question", "empty")
        if len(q) > self.settings.max_question_chars:
            raise QuestionError(f"question longer than {self.settings.max_question_chars} characters", "too_long")
        return q

    def answer(self, question: str, filters: Filters | None = None) -> Answer:
        """The one answering path (CLI, chat, eval, benchmarks): retrieve, then compose the question's answer
        form; a question that asks two things ('哪天去世的？活了多少岁？') is answered part by part. `filters`
        keep the search to some outlets or dates."""
        q = self.check_question(question)
        loaded = self.loaded  # one generation for the whole question, even if a swap happens meanwhile
        parts = sub_questions(q)
        if len(parts) > 1:
            answers = [self._answer(loaded, part, filters) for part in parts]
            searched = tuple(dict.fromkeys(w for a in answers for w in a.searched_for))
            return replace(loaded.composer.merged(q, answers), searched_for=searched)
        return self._answer(loaded, q, filters)

    def _answer(self, loaded: Loaded, typed: str, filters: Filters | None) -> Answer:
        if is_english(typed):  # read as Chinese with the dictionary's words; the bot answers in English
            translation = loaded.translator.translate(typed)
            answer = self._search_and_compose(loaded, translation.question, filters)
            return replace(answer, question=typed, script="english", searched_for=translation.terms)
        # A name the corpus lacks but that sounds like one of its names is a pinyin slip: search for the name.
        fixes = loaded.speller.repairs(normalize(typed))
        q = repaired(normalize(typed), fixes) if fixes else typed
        answer = self._search_and_compose(loaded, q, filters)
        if not fixes:
            return answer
        return replace(answer, question=typed, script=analyse(typed).script,
                       searched_for=tuple(dict.fromkeys(f.word for f in fixes)))

    def _search_and_compose(self, loaded: Loaded, q: str, filters: Filters | None = None) -> Answer:
        qv = loaded.searcher.query_vector(q)
        asked = analyse(q)
        words = list(loaded.composer.question_terms(q)[1])
        synonyms = self._synonyms(loaded, words)
        expansions = [(w, SYNONYM_WEIGHT) for syns in synonyms.values() for w in syns]
        # A lookup's answer sits in the few best passages; a reason, a list or a story's states are spread wider.
        hits = loaded.searcher.search(q, k=RETRIEVE_K if asked.kind == "fact" else FORM_K, query_vector=qv,
                                      expansions=expansions, filters=filters)
        extra = state_query(asked, words)
        if extra:  # a status or timeline question: each state's reports, whatever verb the reader used
            hits += unseen(hits, [h for h in loaded.searcher.search(extra, k=STATE_SEARCH_K, filters=filters)
                                  if holds_names(asked, normalize(h.passage.text))])
        if asked.kind in ("status", "timeline") and asked.entities:  # the newest reports of its state, however worded
            reports = loaded.searcher.matching(extra, report_pattern(asked), STATE_SEARCH_K, filters=filters)
            reports.sort(key=lambda h: (loaded.index.document(h.passage).date or "", h.score), reverse=True)
            hits += unseen(hits, reports, NEWEST_K)
        if asked.kind == "event" and asked.date:  # what the articles report of that day, whatever else was asked
            hits += unseen(hits, loaded.searcher.matching(asked.date, date_pattern(asked.date), STATE_K + len(hits),
                                                          filters=filters))
        return loaded.composer.compose(q, hits, qv, asked, synonyms)

    def _synonyms(self, loaded: Loaded, words: list[str]) -> dict[str, tuple[str, ...]]:
        """The question's words (not its names) → synonyms the corpus uses (同义词词林 and the news table)."""
        names = loaded.index.tokenizer.names
        words = [w for w in words if w not in names and not w.isascii()]
        return synonyms_of(words, self._thesaurus.groups_of(), loaded.translator.in_corpus)

    ask = answer


def compared(report: BuildReport, before: dict[str, str], now: dict[str, str]) -> BuildReport:
    """The report with its files counted against `before` (path → sha256) rather than the working copy."""
    return replace(report, added=tuple(sorted(set(now) - set(before))),
                   changed=tuple(sorted(p for p in now if p in before and before[p] != now[p])),
                   removed=tuple(sorted(set(before) - set(now))),
                   unchanged=sum(1 for p in now if before.get(p) == now[p]))


def unseen(hits: list[Hit], more: list[Hit], limit: int = STATE_K) -> list[Hit]:
    """The first `limit` of `more` that are not among `hits` already."""
    seen = {h.passage.id for h in hits}
    return [h for h in more if h.passage.id not in seen][:limit]


PREPARE_ROWS = 5_000  # an index this small has every passage's derived data prepared (see Composer.prepare)


def warm_up(loaded: Loaded, budget: int, stop: threading.Event | None = None) -> dict:
    """What a serving bot does after loading a generation: read its files into the page cache
    (hottest first, up to `budget` bytes) and, for a small index, derive on every passage what a
    first question would (stopping at half of any cache's limit, so none is emptied by it and
    questions keep room). Returns what was done."""
    # Files only for the local backend: Qdrant keeps its own.
    files, size = warm(files_by_heat(loaded.index), budget, stop) if isinstance(loaded.index, Index) else (0, 0)
    prepared = 0
    if loaded.index.live_count <= PREPARE_ROWS:
        rows = np.flatnonzero(loaded.index.live).tolist()
        loaded.index.vocab.prepare()
        prepared = min(loaded.searcher.prepare(rows, stop), loaded.composer.prepare(rows, stop))
        loaded.speller.prepare()  # the corpus's names by sound, before a first typo waits for them
    return {"files": files, "bytes": size, "prepared": prepared}
