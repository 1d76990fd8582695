"""What a reindex must do: which files changed (by content hash), which segments are kept, which rebuilt."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from embeddings.documents import Document, seed_files
from embeddings.encoders import Encoder
from embeddings.passages import Passage
from embeddings.tokens import Tokenizer
from embeddings.index.manifest import Manifest, SegmentEntry, manifest_format
from embeddings.index.storage import FORMAT_VERSION, current_generation, read_json

if TYPE_CHECKING:
    from embeddings.index.spill import Spilled

SEGMENT_ROWS = 100_000  # new files are grouped into segments of at most this many passages
MAX_PER_CLASS = 8  # more small segments than this of one size class are rebuilt as one
MIN_LIVE = 0.5  # a segment with less than this share of its passages live is rebuilt


def file_hashes(seeds_dir: Path) -> dict[str, str]:
    import hashlib

    out = {}
    for path in seed_files(seeds_dir):
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        out[path.relative_to(seeds_dir).as_posix()] = h.hexdigest()
    return out


def previous_manifest(gen: Path) -> Manifest | None:
    """The generation's manifest; None when another format version wrote it (rebuild, do not refuse)."""
    data = read_json(gen / "manifest.json")
    return Manifest.from_json(data) if manifest_format(data) == FORMAT_VERSION else None


def compatible(manifest: Manifest, encoder: Encoder, tokenizer_rules: dict, passage_vectors: str = "mean") -> bool:
    """Whether a new generation may reuse this one's segments and vectors."""
    return (manifest.encoder.id == encoder.id and manifest.encoder.passages == passage_vectors
            and rules_of(manifest.tokenizer) == tokenizer_rules)


def rules_of(settings: dict) -> dict:
    return {k: v for k, v in settings.items() if k != "user_words"}


def seeds_changed(seeds_dir: Path, index_dir: Path, passage_vectors: str = "mean") -> bool:
    """True if the seeds differ from what the current index was built from (or there is none), or the index
    was cut by other rules (another alias table, stop words or tokenizer version) or made its passage
    vectors another way."""
    gen = current_generation(index_dir)
    if gen is None:
        return True
    manifest = previous_manifest(gen)
    if (manifest is None or rules_of(manifest.tokenizer) != rules_of(Tokenizer.rules())
            or manifest.encoder.passages != passage_vectors):
        return True
    built = {path: f.sha256 for path, f in manifest.files.items()}
    return built != file_hashes(Path(seeds_dir))


@dataclass(frozen=True)
class Part:
    """A file's documents and passages as they go into a new segment."""

    path: str
    sha256: str
    docs: list[Document]
    passages: list[Passage]
    words: list[str]  # words jieba lacks, found in this file


def size_class(rows: int) -> int:
    return len(str(max(rows, 1)))  # 1-9 rows: 1, 10-99: 2, ...


def plan_segments(prev: Manifest | None, hashes: dict[str, str], present: Callable[[str], bool] = lambda name: True
          ) -> tuple[list[SegmentEntry], list[str]]:
    """(segments of the previous generation to keep as they are, files to (re)build into new segments).

    A segment is dropped when none of its files is live, rebuilt when less than MIN_LIVE of its
    passages are, and segments of one size class (1-9, 10-99, ... passages) are rebuilt as one when
    there are more than MAX_PER_CLASS of them: each reindex adds a small segment, and this keeps
    their number (and so the per-query cost) logarithmic in the number of reindexes.
    """
    if prev is None:
        return [], sorted(hashes)
    files = prev.files
    live_rows: dict[str, int] = {}
    live_files: dict[str, int] = {}
    for path, f in files.items():
        if hashes.get(path) == f.sha256:
            live_rows[f.segment] = live_rows.get(f.segment, 0) + f.passages
            live_files[f.segment] = live_files.get(f.segment, 0) + 1
    kept, rebuild = [], set()
    for seg in prev.segments:
        if not live_files.get(seg.name) or not present(seg.name):
            continue  # nothing live in it, or its folder is gone (its files are read again)
        if seg.rows and live_rows[seg.name] / seg.rows < MIN_LIVE:
            rebuild.add(seg.name)  # mostly dead: its live files are cheaper rebuilt than carried
        else:
            kept.append(seg)
    by_class: dict[int, list[SegmentEntry]] = {}
    for seg in kept:
        if seg.rows < SEGMENT_ROWS // 2:
            by_class.setdefault(size_class(seg.rows), []).append(seg)
    for same in by_class.values():
        if len(same) > MAX_PER_CLASS:
            rebuild.update(s.name for s in same)
    kept = [s for s in kept if s.name not in rebuild]
    kept_names = {s.name for s in kept}
    todo = sorted(p for p in hashes if p not in files or files[p].sha256 != hashes[p]
                  or files[p].segment not in kept_names)
    return kept, todo


def group_parts(parts: list["Spilled"]) -> list[list["Spilled"]]:
    """Files in path order, cut into groups of at most SEGMENT_ROWS passages (a file is never split)."""
    groups: list[list[Spilled]] = []
    rows = 0
    for part in parts:
        if not groups or (groups[-1] and rows + part.rows > SEGMENT_ROWS):
            groups.append([])
            rows = 0
        groups[-1].append(part)
        rows += part.rows
    return [g for g in groups if g]
