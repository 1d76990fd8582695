"""Encoding a build's texts on worker processes, one BLAS thread each, so that a build uses every core."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Iterable, Iterator, Sequence

import numpy as np

from embeddings.encoders import Encoder, EncoderError, make_encoder

POOLED_FROM = 256  # fewer texts than this are encoded here: starting the workers costs more than they save
CHUNK = 64  # texts a worker takes at a time: small enough that both finish a call together

_worker: Encoder | None = None


def _start(spec: str, parent: int) -> None:
    global _worker  # the worker process's own encoder, loaded once when the process starts
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
    _worker = make_encoder(spec, threads=1)
    _worker.encode(["。"])


def _exit_with(parent: int) -> None:
    """A worker whose build was killed (SIGKILL leaves no time to stop it) ends instead of idling forever."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _encode(texts: list[str]) -> np.ndarray:
    return _worker.encode(texts)


class EncoderPool:
    """An encoder (the Encoder protocol) that spreads large calls over `workers` processes.

    The encoder's own threads scale badly here (two give 1.4 times one; two processes of one thread
    each give 2.0 times, docs/benchmarks.md). Workers start on the first large call and stop on
    `close`; small calls, and every call when `workers` is 1, run in this process.
    """

    def __init__(self, spec: str, workers: int):
        self.spec = spec
        self.workers = max(1, workers)
        self._local = make_encoder(spec, threads=self.workers)
        self.id = self._local.id
        self._executor: ProcessPoolExecutor | None = None

    @property
    def dim(self) -> int:
        return self._local.dim

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        return next(self.stream([list(texts)]))

    def stream(self, batches: Iterable[list[str]]) -> Iterator[np.ndarray]:
        """Each batch's vectors, in order. The next batch is already with the workers while the caller
        handles one (commits it to the build's journal), so they never wait for the caller."""
        batches = iter(batches)
        pending = self._submit(next(batches, None))
        while pending is not None:
            following = self._submit(next(batches, None))
            yield pending()
            pending = following

    def _submit(self, texts: list[str] | None):
        """A function returning the batch's vectors, once they are done; None for no batch."""
        if texts is None:
            return None
        if self.workers == 1 or len(texts) < POOLED_FROM:
            return lambda: self._local.encode(texts)
        if self._executor is None:
            self._executor = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_start, initargs=(self.spec, os.getpid()))
        futures = [self._executor.submit(_encode, texts[i:i + CHUNK]) for i in range(0, len(texts), CHUNK)]

        def result() -> np.ndarray:
            try:
                return np.concatenate([f.result() for f in futures])
            except BrokenProcessPool as exc:
                self.close()
                raise EncoderError(f"an embedding worker process died ({exc}); "
                                   f"QUOTEBOT_BUILD_THREADS=1 embeds in the main process") from None
        return result

    def close(self) -> None:
        """Stop the workers (the next large call starts them again)."""
        if self._executor is not None:
            self._executor.shutdown(cancel_futures=True)
            self._executor = None

    def __enter__(self) -> "EncoderPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
