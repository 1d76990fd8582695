"""Building a generation: plan what changed by content hash, read the files, have their segments made, publish."""

from __future__ import annotations

import shutil
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from embeddings.boilerplate import repeated
from embeddings.documents import LoadWarning, read_file
from embeddings.encoders import Encoder
from embeddings.passages import document_passages
from embeddings.tokens import Tokenizer, discover_user_words
from embeddings.vocab import Vocabulary
from embeddings.index.manifest import Counts, EncoderInfo, FileEntry, Manifest, SegmentEntry, package_versions
from embeddings.index.plan import (Part, compatible, file_hashes, group_parts, plan_segments, previous_manifest,
                                   rules_of)
from embeddings.index.errors import IndexWriteFailed
from embeddings.index.journal import Journal
from embeddings.index.new_segment import build_segment
from embeddings.index.progress import BarProgress, Progress
from embeddings.index.reuse import Reuse
from embeddings.index.spill import Spill, Spilled
from embeddings.index.storage import (FORMAT_VERSION, SEGMENTS, cleanup, fsync_file, fsync_tree, lock,
                                       current_generation, publish, write_error, write_json)


@dataclass(frozen=True)
class BuildReport:
    generation: str
    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: int
    documents: int
    passages: int
    embedded: int
    reused: int
    retokenized: int
    seconds: float
    warnings: tuple[LoadWarning, ...] = ()
    resumed: int = 0  # texts whose vectors a killed build had embedded (read back from the journal)
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase: read, cut, embed, write, publish

    @property
    def changed_anything(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def summary(self) -> str:
        return (
            f"files: {len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed, "
            f"{self.unchanged} unchanged; passages: {self.passages} ({self.embedded} embedded, {self.reused} reused"
            + (f", {self.resumed} vectors from the interrupted build" if self.resumed else "") + f"); {self.seconds:.2f} s"
        )


def build_index(
    seeds_dir: Path,
    index_dir: Path,
    encoder: Encoder,
    *,
    max_bytes: int = 10 * 1024 * 1024,
    progress: bool | Progress = False,
    on_step: Callable[[str], None] | None = None,
    force: bool = False,
    passage_vectors: str = "mean",
) -> BuildReport:
    """Reindex `seeds_dir` into a new generation of `index_dir`, reusing all that did not change.

    Files whose content is unchanged keep their segment as it is on disk; new and changed files
    are read, cut and embedded (reusing the vectors of unchanged passages by content hash) into new
    segments; the new generation becomes visible by one atomic rename. A crash at any point leaves
    the previous generation in place and loadable.
    """
    step = on_step or (lambda name: None)
    # True: a bar per phase on the terminal; False: timed, not shown; or the caller's (the chat's message).
    meter = progress if isinstance(progress, Progress) else BarProgress() if progress else Progress()
    t0 = time.perf_counter()
    seeds_dir, index_dir = Path(seeds_dir), Path(index_dir)
    with lock(index_dir):
        prev_gen = current_generation(index_dir)
        rules = rules_of(Tokenizer.rules())
        prev: Manifest | None = None
        if prev_gen is not None and not force:
            manifest = previous_manifest(prev_gen)
            prev = manifest if manifest is not None and compatible(manifest, encoder, rules, passage_vectors) else None
        prev_files: dict[str, FileEntry] = prev.files if prev else {}

        hashes = file_hashes(seeds_dir)
        added = sorted(p for p in hashes if p not in prev_files)
        changed = sorted(p for p in hashes if p in prev_files and prev_files[p].sha256 != hashes[p])
        removed = sorted(p for p in prev_files if p not in hashes)
        unchanged = [p for p in hashes if p in prev_files and prev_files[p].sha256 == hashes[p]]
        kept, todo = plan_segments(prev, hashes, lambda name: (index_dir / SEGMENTS / name / "segment.json").exists())

        n = _next_number(index_dir, "gen")
        gen = index_dir / f"gen-{n:06d}"
        new_segments: list[Path] = []
        seg_numbers = iter(range(_next_number(index_dir / SEGMENTS, "seg"), 1 << 30))
        embedded = retokenized = resumed = 0
        journal: Journal | None = None
        spill: Spill | None = None
        try:
            journal = Journal(index_dir, encoder.id, encoder.dim)  # inside: a full disk fails it too
            spill = Spill(index_dir)  # read files wait on disk, not in memory, until their segment is cut
            parts: list[Spilled] = []
            warnings: list[LoadWarning] = [w for w in (prev.warnings if prev else ())
                                           if w.path in hashes and w.path not in todo]
            meter.phase("read", len(todo))
            for path in todo:
                loaded, notes = read_file(seeds_dir, path, max_bytes)
                warnings.extend(notes)
                passages = [p for d in loaded for p in document_passages(d)]
                parts.append(spill.put(Part(path, hashes[path], loaded, passages,
                                            discover_user_words(p.text for p in passages))))
                meter.advance()
            warnings.sort(key=lambda w: w.path)
            step("documents-read")

            # Words jieba lacks are found per file; new passages are cut knowing the words of every
            # file, and so are questions. (Older segments keep the cut they were built with.)
            user_words = sorted(set().union(*(p.words for p in parts), *(s.user_words for s in kept)))
            tokenizer = Tokenizer(user_words)
            vocab = Vocabulary.load(prev_gen) if prev is not None else Vocabulary.empty()
            groups = group_parts(parts)
            old = Reuse(index_dir, prev, [p.path for p in parts], tokenizer) if prev is not None else None
            built: list[SegmentEntry] = []
            for group in groups:
                # Never a name used before: a reader that loaded an older generation shares
                # segments by name, so a name must always mean the same files.
                seg_dir = index_dir / SEGMENTS / f"seg-{next(seg_numbers):06d}-{uuid.uuid4().hex[:8]}"
                new_segments.append(seg_dir)
                info, e, r, j = build_segment(seg_dir, [spill.load(s) for s in group], tokenizer, vocab, encoder,
                                                old, meter, step, passage_vectors, journal, spill.folder)
                built.append(info)
                vocab.fold()
                embedded += e
                retokenized += r
                resumed += j
            if not groups:
                for name in ("tokenised", "embedded"):
                    step(name)
            segments = [*kept, *built]
            files: dict[str, FileEntry] = {}
            for seg in segments:
                for path, f in seg.files.items():
                    if hashes.get(path) == f.sha256:
                        files[path] = replace(f, segment=seg.name)
            repeats = repeated_rows(files)
            live = sum(f.passages for f in files.values()) - sum(map(len, repeats.values()))
            manifest = Manifest(
                format=FORMAT_VERSION, generation=gen.name,
                built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                build_seconds=round(time.perf_counter() - t0, 3), encoder=EncoderInfo(encoder.id, encoder.dim, passage_vectors),
                tokenizer=tokenizer.settings,
                counts=Counts(len(hashes), sum(f.documents for f in files.values()), live),
                vocabulary=len(vocab), segments=tuple(segments),
                files={p: replace(f, lines=None) for p, f in sorted(files.items())},  # repeat lines stay in segments
                repeated=repeats, warnings=tuple(warnings), versions=package_versions())
            meter.phase("publish", 1)
            if gen.exists():
                shutil.rmtree(gen)
            gen.mkdir(parents=True)
            vocab.save(gen, prev_gen if prev is not None else None)
            # The manifest is written last: a generation without one was never finished.
            write_json(gen / "manifest.json", manifest.to_json())
            step("wrote-manifest")
            fsync_tree(gen)
            for seg_dir in new_segments:
                fsync_tree(seg_dir)
            if new_segments:
                fsync_file(index_dir / SEGMENTS)
            fsync_file(index_dir)
            step("synced")
            publish(index_dir, gen, step)
        except BaseException as exc:
            if journal is not None:
                journal.close()  # kept: what it holds is not embedded again by the next build
            if spill is not None:
                spill.remove()
            if current_generation(index_dir) != gen:  # never leave a half-written generation behind
                shutil.rmtree(gen, ignore_errors=True)
                for seg_dir in new_segments:
                    shutil.rmtree(seg_dir, ignore_errors=True)
            if isinstance(exc, OSError):
                where = ("the new index is in use; syncing it to disk failed"
                         if current_generation(index_dir) == gen else "the previous index is still in use")
                raise IndexWriteFailed(f"could not write the new index in {index_dir} ({write_error(exc, index_dir)}); "
                                       f"{where}") from exc
            raise
        step("published")
        journal.remove()
        spill.remove()
        cleanup(index_dir, keep={gen.name} | ({prev_gen.name} if prev_gen else set()))
        step("cleaned")
        meter.advance()
        meter.finish()
        return BuildReport(
            generation=gen.name, added=tuple(added), changed=tuple(changed), removed=tuple(removed),
            unchanged=len(unchanged), documents=manifest.counts.documents, passages=live, embedded=embedded,
            reused=live - embedded, retokenized=retokenized, seconds=time.perf_counter() - t0,
            warnings=tuple(warnings), resumed=resumed, phases=dict(meter.seconds),
        )


def _next_number(folder: Path, prefix: str) -> int:
    """One more than the highest number among `folder`'s PREFIX-NNNNNN[-...] children."""
    existing = [int(c.name.split("-")[1]) for c in folder.glob(f"{prefix}-*") if c.name.split("-")[1].isdigit()] \
        if folder.is_dir() else []
    return max([0, *existing]) + 1


def repeated_rows(files: dict[str, FileEntry]) -> dict[str, tuple[int, ...]]:
    """Segment → its rows (passages) whose paragraph is furniture repeated across the corpus's documents."""
    rep = repeated((line.key, line.title) for f in files.values() for line in f.lines or ())
    out: dict[str, list[int]] = {}
    for f in files.values():
        for line in f.lines or ():
            if line.key in rep:
                out.setdefault(f.segment, []).append(f.rows[0] + line.row)
    return {seg: tuple(sorted(rows)) for seg, rows in sorted(out.items())}
