"""Durable writes: fsync, the build lock, the atomic switch of the CURRENT generation, cleanup."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
from pathlib import Path
from typing import Callable

from embeddings.index.errors import IndexBusy
from embeddings.index.manifest import segment_names

FORMAT_VERSION = 7  # changes with the layout of the files: an index written in another is rebuilt, never misread
POINTER = "CURRENT"
SEGMENTS = "segments"


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            fsync_file(Path(dirpath) / name)
        fsync_file(Path(dirpath))


def write_json(path: Path, data) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, separators=(",", ":"))


@contextlib.contextmanager
def lock(index_dir: Path):
    index_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(index_dir / ".lock", os.O_CREAT | os.O_RDWR, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexBusy(f"another process is reindexing {index_dir}; try again when it is done") from None
        yield
    finally:
        os.close(fd)


def current_generation(index_dir: Path) -> Path | None:
    pointer = Path(index_dir) / POINTER
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    gen = Path(index_dir) / name
    return gen if name and (gen / "manifest.json").exists() else None


def publish(index_dir: Path, gen: Path, step: Callable[[str], None] = lambda name: None) -> None:
    """Point CURRENT at `gen` atomically: tmp file, fsync, rename, fsync the folder."""
    tmp = index_dir / f"{POINTER}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(gen.name + "\n")
        f.flush()
        os.fsync(f.fileno())
    step("publishing")
    os.replace(tmp, index_dir / POINTER)
    fsync_file(index_dir)


def cleanup(index_dir: Path, keep: set[str]) -> None:
    """Remove generations other than the current and the previous one (a reader may still be on it),
    segments neither of them uses, and what killed builds left."""
    used: set[str] = set()
    for child in index_dir.iterdir():
        if child.is_dir() and child.name.startswith("gen-"):
            if child.name not in keep:
                shutil.rmtree(child, ignore_errors=True)
                continue
            with contextlib.suppress(OSError, ValueError):
                used.update(segment_names(read_json(child / "manifest.json")))
    for seg in (index_dir / SEGMENTS).glob("seg-*") if (index_dir / SEGMENTS).is_dir() else ():
        if seg.name not in used:
            shutil.rmtree(seg, ignore_errors=True)
    for spilled in index_dir.glob("spill-*"):  # read files a killed build left (embeddings/index/spill.py)
        shutil.rmtree(spilled, ignore_errors=True)


def write_error(exc: OSError, index_dir: Path) -> str:
    """A short reason; numpy reports a full disk as a bare short write, so look at the free space."""
    if exc.errno is None and shutil.disk_usage(index_dir).free < 1 << 20:
        return f"{os.strerror(errno.ENOSPC)}: {exc}"
    return exc.strerror or str(exc)


def read_json(path: Path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)
