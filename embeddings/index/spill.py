"""What a build keeps on disk until its segment is written (read files, sentence vectors), not in memory."""

from __future__ import annotations

import errno
import os
import pickle
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embeddings.index.plan import Part

PREFIX = "spill-"


@dataclass(frozen=True)
class Spilled:
    """What planning needs of a read file; its documents and passages wait in the spill folder."""

    path: str
    sha256: str
    rows: int  # passages
    words: list[str]  # words jieba lacks, found in this file
    name: str  # its file in the spill folder


class Spill:
    """A folder of one build's read files (pickles this build wrote itself), removed when the build ends."""

    def __init__(self, index_dir: Path):
        self.folder = Path(index_dir) / f"{PREFIX}{uuid.uuid4().hex[:12]}"
        self.folder.mkdir(parents=True)
        self._count = 0

    def put(self, part: Part) -> Spilled:
        self._count += 1
        name = f"{self._count:07d}.pickle"
        with open(self.folder / name, "wb") as f:
            pickle.dump((part.docs, part.passages), f, protocol=pickle.HIGHEST_PROTOCOL)
        return Spilled(part.path, part.sha256, len(part.passages), part.words, name)

    def load(self, spilled: Spilled) -> Part:
        with open(self.folder / spilled.name, "rb") as f:
            docs, passages = pickle.load(f)
        (self.folder / spilled.name).unlink()  # read once: its segment is being written
        return Part(spilled.path, spilled.sha256, docs, passages, spilled.words)

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class SpilledRows:
    """A float16 (rows, dim) .npy file filled row by row, never held in memory (read it back with RowFile): a
    segment's sentence vectors (about 0.5 GB at 10^5 passages) on their way to the segment."""

    def __init__(self, path: Path, rows: int, dim: int):
        self.path, self.shape = Path(path), (rows, dim)
        self._row = dim * 2
        with open(self.path, "wb") as f:
            header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float16)), "fortran_order": False,
                      "shape": self.shape}
            np.lib.format.write_array_header_2_0(f, header)
            self._offset = f.tell()
            f.truncate(self._offset + rows * self._row)
        self._fd = os.open(self.path, os.O_RDWR)

    def __len__(self) -> int:
        return self.shape[0]

    def __setitem__(self, rows: "int | list[int]", vector: np.ndarray) -> None:
        data = np.asarray(vector, dtype=np.float16).tobytes()
        for row in [rows] if isinstance(rows, int) else rows:
            if os.pwrite(self._fd, data, self._offset + row * self._row) != len(data):
                raise OSError(errno.ENOSPC, f"short write to {self.path.name}")

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self):
        try:
            self.close()
        except (OSError, AttributeError):
            pass
