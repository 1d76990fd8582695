"""The chat's state behind the handlers: the engine, limits, usage figures, the audit trail, follow-up topics."""

from __future__ import annotations

import asyncio
import math
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Awaitable, Callable

from cachetools import TTLCache
from telegram import Update

from bot.answer import Answer
from bot.answer.question import as_written
from bot.audit import AuditLog
from bot.chat import CorpusFacts, Stats, example_questions, subjects
from bot.engine import Engine, limit_threads
from bot.limits import limiter_for
from bot.followup import CONTEXT_CHATS, CONTEXT_SECONDS, Turn, topics_of, understood
from bot.settings import Settings
from embeddings.index import BuildReport
from embeddings.index.progress import Progress, Snapshot
from embeddings.textnorm import to_simplified
from embeddings.tokens import prepare_tagging


PROGRESS_SECONDS = 3.0  # the admin's progress message is edited at most this often (Telegram limits edits)


class ChatService:
    """The chat's state: the engine, the per-user limit, the figures for /stats, the worker threads."""

    def __init__(self, settings: Settings, engine: Engine):
        self.settings = settings
        self.engine = engine
        self.stats = Stats()
        self.limiter = limiter_for(settings)
        # Answering is CPU work: two threads for two cores, off the event loop so chats never wait
        # on each other's network I/O; a reindex gets its own thread so questions go on meanwhile.
        # OpenMP's thread count is per thread: each worker sets its own (see limit_threads).
        limit = {"initializer": limit_threads, "initargs": (settings.threads,)}
        self.answer_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="answer", **limit)
        self.index_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reindex", **limit)
        self.reindexing = asyncio.Lock()
        self._facts: tuple[str, CorpusFacts] | None = None
        self.audit = AuditLog(settings.state_folder / "audit.sqlite")  # shared by replicas on one host
        # the last question of each chat (of each member, in a group), for follow-ups; touched by one event loop
        self.turns: TTLCache = TTLCache(CONTEXT_CHATS, CONTEXT_SECONDS)
        prepare_tagging()  # for follow-ups: before the first update, not while a burst of them waits

    def is_admin(self, update: Update) -> bool:
        user = update.effective_user
        return user is not None and user.id in self.settings.admins

    def wait_seconds(self, update: Update) -> int:
        """0 if this user may ask now; else the whole seconds to wait (and the attempt is counted)."""
        user = update.effective_user
        wait = self.limiter.check(user.id if user else 0, self.limiter.clock())
        if wait > 0:
            self.stats.rate_limited += 1
        return math.ceil(wait)

    async def answer(self, question: str, chat_type: str = "private", key: tuple | None = None
                     ) -> tuple[Answer, str, str | None]:
        """The answer, its id (logged in the audit trail) and the question as a follow-up was read (None when it
        stands alone). `key`: whose follow-ups these are (see handlers.chat_key); None keeps no topic."""
        t0 = time.perf_counter()
        previous = self.turns.get(key) if key is not None else None

        def work() -> tuple[Answer, str | None, tuple[str, ...], float]:
            # on the worker thread, like the answering: reading the question with jieba must not hold up the loop
            t1 = time.perf_counter()
            tokenizer = self.engine.loaded.index.tokenizer
            asked = understood(question, previous, tokenizer.words)
            answer = self.engine.ask(asked or question)
            topics = topics_of(asked or question, tokenizer.tagged, tokenizer.names.__contains__,
                               tokenizer.in_dictionary) if key is not None else ()
            return answer, asked, topics, time.perf_counter() - t1

        answer, asked, topics, compute = await asyncio.get_running_loop().run_in_executor(self.answer_pool, work)
        seconds = time.perf_counter() - t0
        self.stats.record(seconds, answer.abstained, compute)
        answer_id = self.audit.record(answer, chat_type, self.engine.loaded.index.generation, 1000 * seconds)
        if topics:
            self.turns[key] = Turn(asked or question, topics)
        return answer, answer_id, asked

    async def answer_quietly(self, question: str) -> Answer:
        """An answer for the bot's own use (checking /help examples): not counted in /stats."""
        return (await self._ask(question))[0]

    async def _ask(self, question: str) -> tuple[Answer, float]:
        """The answer, computed on a worker thread, and the seconds the computing itself took."""
        def timed() -> tuple[Answer, float]:
            t1 = time.perf_counter()
            return self.engine.ask(question), time.perf_counter() - t1

        return await asyncio.get_running_loop().run_in_executor(self.answer_pool, timed)

    async def refresh(self) -> bool:
        """Load the version another replica published, if the alias moved (Qdrant); off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.index_pool, self.engine.refresh)

    async def reindex(self, show: Callable[[Snapshot], Awaitable[None]] | None = None) -> BuildReport:
        """Reindex on the index thread; every PROGRESS_SECONDS, `show` the phase it is in (the admin's message)."""
        async with self.reindexing:
            meter = Progress()
            job = asyncio.get_running_loop().run_in_executor(self.index_pool, lambda: self.engine.reindex(progress=meter, answering=True))
            shown = None
            while True:
                done, _ = await asyncio.wait({job}, timeout=PROGRESS_SECONDS)
                if done:
                    return job.result()
                now = meter.snapshot()
                if show is not None and now is not None and now != shown:
                    shown = now
                    await show(now)

    async def facts(self) -> CorpusFacts:
        """Documents, date range and three example questions the current index answers (cached per generation)."""
        index = self.engine.loaded.index
        if self._facts and self._facts[0] == index.generation:
            return self._facts[1]
        docs = list(index.documents.values())
        tokenizer, df = index.tokenizer, self.engine.loaded.translator.in_corpus

        def names_in(title: str) -> list[str]:  # as the title writes them ('H200'), in simplified script
            plain = to_simplified(title)
            return [as_written(plain, n) for n in subjects(tokenizer.tagged(plain), tokenizer.names.__contains__, df)]

        examples = []
        for q in example_questions(docs, names_in):
            if not (await self.answer_quietly(q)).abstained:
                examples.append(q)
            if len(examples) == 3:
                break
        dates = sorted(d.date for d in docs if d.date)
        facts = CorpusFacts(len(docs), len(index.passages), dates[0] if dates else None,
                            dates[-1] if dates else None, tuple(examples),
                            len({d.source for d in docs if d.source}))
        self._facts = (index.generation, facts)
        return facts

    def shutdown(self) -> None:
        self.answer_pool.shutdown(wait=False, cancel_futures=True)
        self.index_pool.shutdown(wait=False, cancel_futures=True)
        self.audit.close()
        self.limiter.close()
