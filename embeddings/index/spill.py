"""Files a build has read, kept on disk until their segment is written: a build holds one segment's documents at a time."""

from __future__ import annotations

import pickle
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

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
