"""Term ↔ id for the whole index: append-only (ids never change, so segments stay valid), memory-mapped.

On disk: a sorted array of UTF-8 terms with their ids (immutable, shared by generations through hard
links) plus a short list of terms added since it was written. Loading maps the arrays and reads the
short list; nothing proportional to the vocabulary is parsed, so millions of terms cost no start-up.
"""

from __future__ import annotations

import json
import mmap
import os
import shutil
from pathlib import Path
from itertools import chain
from typing import Iterable, Sequence

import numpy as np

WIDTH = 48  # bytes; longer terms (long Latin runs) live in the short list instead
CONSOLIDATE_AT = 50_000  # added terms kept as a list until there are this many
RECENT = 20_000  # question terms whose ids are remembered
TABLE_TERMS = 500_000  # a vocabulary up to this size can be prepared as one dict (~150 bytes a term)
_UNSEEN = object()


def mapped(path: Path, random_access: bool = False) -> np.ndarray:
    """A read-only array over the file's pages (a plain ndarray: numpy's memmap subclass costs
    microseconds per slice). For arrays read at scattered places, the kernel is told not to read
    ahead: on a cold cache each probe would otherwise read ~128 KB from disk around it. (It still
    maps neighbouring pages already cached; rows wanted one at a time are read with RowFile.)"""
    array = np.load(path, mmap_mode="r")
    handle = getattr(array, "_mmap", None)
    if random_access and handle is not None and hasattr(mmap, "MADV_RANDOM"):
        try:
            handle.madvise(mmap.MADV_RANDOM)
        except (OSError, ValueError):  # advice only
            pass
    return np.asarray(array)


def remembered(memo: dict, keys: Sequence, lookup, limit: int) -> list:
    """The value of each key: from `memo`, or from one lookup(new keys) call for those it lacks,
    which are then remembered (the memo is emptied first when it would pass `limit`). Each key is
    read from the memo once: another thread may empty it meanwhile."""
    out = {k: v for k in dict.fromkeys(keys) if (v := memo.get(k, _UNSEEN)) is not _UNSEEN}
    new = [k for k in dict.fromkeys(keys) if k not in out]
    if new:
        found = lookup(new)
        if len(memo) + len(new) > limit:
            memo.clear()
        memo.update(zip(new, found))
        out.update(zip(new, found))
    return [out[k] for k in keys]


class RowFile:
    """Rows of a 1-d or 2-d .npy array read with pread: for arrays whose rows are wanted a few at a time at
    scattered places (vectors of candidates). Mapping them instead brings ~64 KB of neighbouring
    pages into the process with every row touched (1 KB each at 512 dimensions); read this way, the
    pages stay in the kernel's page cache, shared and reclaimable, not in the process. A small file
    (a small index, or a segment of one reindexed file) is read whole instead."""

    def __init__(self, path: Path, in_memory_below: int = 8 << 20, widen: bool = False):
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, fortran, dtype = read_header(f)
            self._offset = f.tell()
        if fortran or len(shape) not in (1, 2):
            raise ValueError(f"{path.name}: expected a C-ordered 1-d or 2-d array")
        self.shape, self.dtype = tuple(shape), np.dtype(dtype)
        # rows come back as float32 with `widen` (half-float vectors): a small file is held widened,
        # so questions do not convert the same rows again and again (~3 ns a number)
        self.out_dtype = np.dtype(np.float32) if widen else self.dtype
        self._row_bytes = (self.shape[1] if len(self.shape) == 2 else 1) * self.dtype.itemsize
        self._fd = os.open(path, os.O_RDONLY)
        self._all: np.ndarray | None = None
        if self.shape[0] * self._row_bytes <= in_memory_below:
            # a small segment's rows: one read now saves a system call per row on every question
            self._all = self.slice(0, self.shape[0]).astype(self.out_dtype, copy=False)
            self._all.flags.writeable = False
            self.close()  # nothing more to read: the descriptor is not held for the segment's life

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, i: "int | slice"):
        """One element of a 1-d file (or one row); or, for a slice of step 1, those rows in one read."""
        if isinstance(i, slice):
            a, b, step = i.indices(self.shape[0])
            if step != 1:
                raise IndexError("RowFile slices read consecutive rows")
            return self.slice(a, max(a, b))
        i = int(i) + (self.shape[0] if int(i) < 0 else 0)
        return self.slice(i, i + 1)[0]

    def close(self) -> None:
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            os.close(fd)

    def __del__(self):
        try:
            self.close()
        except (OSError, AttributeError):
            pass

    def slice(self, a: int, b: int) -> np.ndarray:
        """Rows a..b-1 in one read."""
        if not 0 <= a <= b <= self.shape[0]:
            raise IndexError(f"rows {a}:{b} of {self.shape[0]}")
        if self._all is not None:
            return self._all[a:b]
        data = os.pread(self._fd, (b - a) * self._row_bytes, self._offset + a * self._row_bytes)
        if len(data) != (b - a) * self._row_bytes:
            raise OSError(f"short read of {(b - a) * self._row_bytes} bytes")
        return np.frombuffer(data, dtype=self.dtype).reshape(b - a, *self.shape[1:]).astype(self.out_dtype, copy=False)

    def take(self, rows: np.ndarray) -> np.ndarray:
        """The given rows in the given order: one read for a run of consecutive rows, else one per row."""
        rows = np.asarray(rows, dtype=np.int64)
        n = len(rows)
        if n and (rows.min() < 0 or rows.max() >= self.shape[0]):
            raise IndexError("row out of range")
        if self._all is not None:
            return self._all[rows]
        if n > 1 and rows[-1] - rows[0] == n - 1 and (np.diff(rows) == 1).all():
            return self.slice(int(rows[0]), int(rows[-1]) + 1)
        size = self._row_bytes
        buf = bytearray(n * size)
        view = memoryview(buf)
        for i, r in enumerate(rows.tolist()):
            if os.preadv(self._fd, [view[i * size:(i + 1) * size]], self._offset + r * size) != size:
                raise OSError(f"short read of row {r}")
        return np.frombuffer(buf, dtype=self.dtype).reshape(n, *self.shape[1:]).astype(self.out_dtype, copy=False)


class Vocabulary:
    """Lookup both ways; `add` hands out new ids for unseen terms (build time only)."""

    def __init__(self, words: np.ndarray, ids: np.ndarray, added: list[str], long: dict[str, int], size: int):
        self._words, self._ids = words, ids  # sorted terms (bytes) and their ids
        self._added = added  # terms with ids size_of_base.., in order
        self._long = long  # terms too wide for the array
        self._long_by_id = {i: w for w, i in long.items()}
        self._base = size - len(added)
        self._extra: dict[str, int] = {w: self._base + k for k, w in enumerate(added)}
        self._pos: np.ndarray | None = None  # id → position in the sorted array, built on first use
        self._grams: np.ndarray | None = None  # ids of the array's n-grams, sorted, built on first use
        self._recent: dict[str, int | None] = {}  # question-time lookups: questions share most terms
        self._table: dict[str, int] | None = None  # every term, once prepared (a small index)

    @classmethod
    def from_words(cls, words: Sequence[str]) -> "Vocabulary":
        """The vocabulary whose term k is words[k] (as `all_words` lists it)."""
        short_w, short_i, long = _by_width((w, i) for i, w in enumerate(words))
        arr = np.array(short_w, dtype=f"S{WIDTH}")
        order = np.argsort(arr, kind="stable")
        return cls(arr[order], np.array(short_i, dtype=np.int32)[order], [], long, len(words))

    def all_words(self) -> list[str]:
        """Every term, by id."""
        return self.words(range(len(self)))

    @classmethod
    def empty(cls) -> "Vocabulary":
        return cls(np.zeros(0, dtype=f"S{WIDTH}"), np.zeros(0, dtype=np.int32), [], {}, 0)

    def __len__(self) -> int:
        return self._base + len(self._added)

    def get(self, term: str) -> int | None:
        hit = self._extra.get(term)
        if hit is not None:
            return hit
        key = term.encode("utf-8")
        if len(key) > WIDTH or key.endswith(b"\0"):
            return self._long.get(term)
        k = int(np.searchsorted(self._words, key))
        if k < len(self._words) and self._words[k] == key:
            return int(self._ids[k])
        return None

    def ids(self, terms: Sequence[str]) -> list[int | None]:
        """Ids of many terms with one binary search over the sorted array (a question has ~80 tokens);
        terms looked up before are remembered (up to RECENT of them)."""
        table = self._table
        if table is not None:
            return [table.get(t) for t in terms]
        return remembered(self._recent, terms, self._lookup, RECENT)

    def prepare(self, limit: int = TABLE_TERMS) -> bool:
        """Every term's id in one dict, so questions look terms up without binary searches (serve's
        warm-up, for a small index); False, and nothing done, past `limit` terms."""
        if len(self) > limit:
            return False
        table = dict(zip([w.decode("utf-8") for w in self._words.tolist()], self._ids.tolist()))
        table.update(self._long)
        table.update(self._extra)  # as in get: an added term's id comes first
        self._table = table
        return True

    def _lookup(self, terms: Sequence[str]) -> list[int | None]:
        keys = [t.encode("utf-8") for t in terms]
        plain = [k for k in keys if len(k) <= WIDTH and not k.endswith(b"\0")]
        found: dict[bytes, int] = {}
        if plain and len(self._words):
            wanted = np.asarray(plain, dtype=f"S{WIDTH}")
            pos = np.minimum(np.searchsorted(self._words, wanted), len(self._words) - 1)
            hit = self._words[pos] == wanted
            found = {k: int(i) for k, i, ok in zip(plain, self._ids[pos].tolist(), hit.tolist()) if ok}
        out: list[int | None] = []
        for t, k in zip(terms, keys):
            i = self._extra.get(t)
            if i is None:
                i = self._long.get(t) if len(k) > WIDTH or k.endswith(b"\0") else found.get(k)
            out.append(i)
        return out

    def __contains__(self, term: str) -> bool:
        return self.get(term) is not None

    def words(self, term_ids: Sequence[int]) -> list[str]:
        return [self.word(int(i)) for i in term_ids]

    def is_gram(self, term_ids: np.ndarray) -> np.ndarray:
        """Whether each term is a character n-gram ("#..."), read from the first byte, no decoding."""
        term_ids = np.asarray(term_ids, dtype=np.int64)
        out = np.zeros(len(term_ids), dtype=bool)
        plain = (term_ids < self._base) & ~np.isin(term_ids, list(self._long_by_id))
        grams = self._gram_ids()
        if plain.any() and len(grams):
            wanted = term_ids[plain]
            out[plain] = grams[np.minimum(np.searchsorted(grams, wanted), len(grams) - 1)] == wanted
        for k in np.flatnonzero(~plain).tolist():
            out[k] = self.word(int(term_ids[k])).startswith("#")
        return out

    def _gram_ids(self) -> np.ndarray:
        """Ids of the sorted array's "#..." terms, sorted: they sit together in it, between b"#" and
        b"$" (reading their ids is one short sequential read; inverting the whole id order, as
        `word` needs, took 0.4 s at 10^5 passages on a question's first answer)."""
        if self._grams is None:
            lo, hi = np.searchsorted(self._words, np.asarray([b"#", b"$"], dtype=self._words.dtype)).tolist()
            self._grams = np.sort(np.asarray(self._ids[lo:hi], dtype=np.int64))
        return self._grams

    def _positions(self) -> np.ndarray:
        if self._pos is None:
            pos = np.zeros(self._base, dtype=np.int64)
            pos[np.asarray(self._ids, dtype=np.int64)] = np.arange(len(self._ids))
            self._pos = pos
        return self._pos

    def word(self, term_id: int) -> str:
        if term_id >= self._base:
            return self._added[term_id - self._base]
        if term_id in self._long_by_id:
            return self._long_by_id[term_id]
        return bytes(self._words[int(self._positions()[term_id])]).decode("utf-8")

    def ids_adding(self, terms: Sequence[str]) -> np.ndarray:
        """Ids of `terms`, giving unseen ones the next ids (build time)."""
        return self.ids_adding_many([terms])[0]

    def ids_adding_many(self, term_lists: Sequence[Sequence[str]]) -> list[np.ndarray]:
        """Ids of each list of terms, giving unseen ones the next ids in order of first appearance (build
        time). The sorted array is searched once for all the terms not added since it was written: a build
        cuts a thousand passages at a time, and remembering lookups instead costs a dict entry a term."""
        if not term_lists:
            return []
        extra = self._extra
        unique = dict.fromkeys(chain.from_iterable(term_lists))
        table = dict(zip(unique, map(extra.get, unique)))
        missing = [t for t, i in table.items() if i is None]
        if missing:
            if len(self._words) or self._long:
                searched = self._lookup(missing)
                table.update((t, i) for t, i in zip(missing, searched) if i is not None)
                missing = [t for t, i in zip(missing, searched) if i is None]
            new_ids = range(self._base + len(self._added), self._base + len(self._added) + len(missing))
            extra.update(zip(missing, new_ids))
            table.update(zip(missing, new_ids))
            self._added.extend(missing)
            if missing:
                self._table = None
                for t in missing if self._recent else ():
                    self._recent.pop(t, None)  # was unknown until now
        lengths = [len(terms) for terms in term_lists]
        flat = np.fromiter(map(table.__getitem__, chain.from_iterable(term_lists)), dtype=np.int32, count=sum(lengths))
        return np.split(flat, np.cumsum(lengths[:-1]))

    def fold(self, at_least: int | None = None) -> None:
        """The added terms moved into the sorted array, ids unchanged, once there are `at_least` (default
        CONSOLIDATE_AT) of them (build time, between segments): a term costs ~52 bytes there, against ~170 as
        a string in a list and a dict, and 10^6 passages add millions. (Fewer stay added: `save` then shares
        the previous sorted array.)"""
        if not self._added or len(self._added) < (CONSOLIDATE_AT if at_least is None else at_least):
            return
        words, ids, long = self._consolidated()
        self.__init__(words, ids, [], long, len(self))  # the state a vocabulary of these arrays starts with

    # -- disk --------------------------------------------------------------------------------------

    def save(self, folder: Path, previous: Path | None = None) -> None:
        """Write into `folder`: hard-link the previous sorted arrays when only a few terms were added."""
        folder = Path(folder)
        same_base = previous is not None and (previous / "vocab.words.npy").exists()
        if same_base and len(self._added) < CONSOLIDATE_AT and self._base == _base_size(previous):
            for name in ("vocab.words.npy", "vocab.ids.npy", "vocab.long.json"):
                try:
                    os.link(previous / name, folder / name)
                except OSError:  # a file system without hard links: a copy costs only time
                    shutil.copyfile(previous / name, folder / name)
            added = self._added
        else:
            words, ids, long = self._consolidated()
            np.save(folder / "vocab.words.npy", words)
            np.save(folder / "vocab.ids.npy", ids)
            _write(folder / "vocab.long.json", long)
            added = []
        _write(folder / "vocab.added.json", {"base": len(self) - len(added), "added": added})

    def _consolidated(self) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
        short_w, short_i, added_long = _by_width(self._extra.items())
        long = {**self._long, **added_long}
        new_w, new_i = np.array(short_w, dtype=f"S{WIDTH}"), np.array(short_i, dtype=np.int32)
        order = np.argsort(new_w, kind="stable")
        new_w, new_i = new_w[order], new_i[order]
        # merged into the sorted array, not sorted with it: the whole array is copied once, not three times
        at = np.searchsorted(self._words, new_w)
        return (np.insert(np.asarray(self._words, dtype=f"S{WIDTH}"), at, new_w),
                np.insert(np.asarray(self._ids, dtype=np.int32), at, new_i), long)

    @classmethod
    def load(cls, folder: Path) -> "Vocabulary":
        folder = Path(folder)
        words = mapped(folder / "vocab.words.npy", random_access=True)  # binary searches and gathers
        ids = mapped(folder / "vocab.ids.npy", random_access=True)
        with open(folder / "vocab.long.json", encoding="utf-8") as f:
            long = json.load(f)
        with open(folder / "vocab.added.json", encoding="utf-8") as f:
            extra = json.load(f)
        if extra["base"] != len(words) + len(long):
            raise ValueError("vocabulary files disagree")
        return cls(words, ids, list(extra["added"]), long, extra["base"] + len(extra["added"]))


def _by_width(terms: Iterable[tuple[str, int]]) -> tuple[list[bytes], list[int], dict[str, int]]:
    """(term, id) pairs split into those the fixed-width array holds (UTF-8 bytes, ids) and the longer
    ones (or ending in NUL, which the array would strip), kept in a dict."""
    short_w, short_i, long = [], [], {}
    for w, i in terms:
        b = w.encode("utf-8")
        if len(b) > WIDTH or b.endswith(b"\0"):
            long[w] = i
        else:
            short_w.append(b)
            short_i.append(i)
    return short_w, short_i, long


def _base_size(folder: Path) -> int:
    with open(folder / "vocab.added.json", encoding="utf-8") as f:
        return json.load(f)["base"]


def _write(path: Path, data) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, separators=(",", ":"))
