"""The manifest and segment.json as dataclasses: the bytes on disk round-trip, bad fields are a corrupt index."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from embeddings.encoders import HashingEncoder
from embeddings.index import FORMAT_VERSION, Index, IndexCorrupt, IndexMismatch, build_index
from embeddings.index.manifest import (Counts, EncoderInfo, FileEntry, Manifest, ManifestError, RepeatLine,
                                       SegmentEntry)
from embeddings.index.plan import MAX_PER_CLASS, plan_segments
from embeddings.index.storage import write_json
from tests.conftest import SEEDS

ENC = HashingEncoder(64)


@pytest.fixture(scope="module")
def reindexed(tmp_path_factory) -> Path:
    """An index over the seeds reindexed once after a file was added: a kept segment and a new one."""
    root = tmp_path_factory.mktemp("manifest")
    seeds, index_dir = root / "seeds", root / "index"
    shutil.copytree(SEEDS, seeds)
    build_index(seeds, index_dir, ENC)
    (seeds / "zz_new.txt").write_text("新報導\n2026-03-01\n記者在深圳採訪了半導體工廠的工程師。\n", encoding="utf-8")
    build_index(seeds, index_dir, ENC)
    return index_dir


def _copy(index_dir: Path, tmp_path: Path) -> Path:
    out = tmp_path / "index"
    shutil.copytree(index_dir, out)
    return out


def _written(data, tmp_path: Path) -> bytes:
    write_json(tmp_path / "written.json", data)
    return (tmp_path / "written.json").read_bytes()


def test_manifest_and_segment_json_round_trip_to_the_same_bytes(reindexed, tmp_path):
    index = Index.load(reindexed, ENC.id)
    assert len(index.segments) == 2
    raw = (index.path / "manifest.json").read_bytes()
    manifest = Manifest.from_json(json.loads(raw))
    assert manifest == index.manifest and _written(manifest.to_json(), tmp_path) == raw
    for seg in index.segments:
        raw = (seg.path / "segment.json").read_bytes()
        assert _written(SegmentEntry.from_segment_json(json.loads(raw)).to_json(), tmp_path) == raw
        assert seg.info.listing() == next(s for s in manifest.segments if s.name == seg.name)
    assert manifest.format == FORMAT_VERSION and manifest.generation == index.generation
    assert sum(f.passages for f in manifest.files.values()) == manifest.counts.passages == len(index)
    assert all(f.segment in {s.name for s in manifest.segments} and f.lines is None for f in manifest.files.values())


@pytest.mark.parametrize("change,field", [
    (lambda m: m.pop("counts"), "'counts'"),
    (lambda m: m["encoder"].update(dim="64"), "'dim'"),
    (lambda m: next(iter(m["files"].values())).update(rows=[3, 1]), "'rows'"),
    (lambda m: next(iter(m["files"].values())).pop("segment"), "'segment'"),
    (lambda m: next(iter(m["segments"][0]["files"].values())).pop("lines"), "'lines'"),
    (lambda m: m.update(warnings=[["a.txt"]]), "'warnings'"),
    (lambda m: m["tokenizer"].pop("user_words"), "'user_words'"),
])
def test_a_missing_or_malformed_manifest_field_is_a_corrupt_index(reindexed, tmp_path, change, field):
    index_dir = _copy(reindexed, tmp_path)
    path = Index.load(index_dir, ENC.id).path / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    write_json(path, data)
    with pytest.raises(IndexCorrupt, match="python -m bot index") as caught:
        Index.load(index_dir, ENC.id)
    assert field in str(caught.value) and "\n" not in str(caught.value)


def test_a_malformed_segment_json_is_a_corrupt_index_and_another_format_a_mismatch(reindexed, tmp_path):
    index_dir = _copy(reindexed, tmp_path)
    index = Index.load(index_dir, ENC.id)
    seg = index.segments[0].path / "segment.json"
    data = json.loads(seg.read_text(encoding="utf-8"))
    write_json(seg, {k: v for k, v in data.items() if k != "cut_with"})
    with pytest.raises(IndexCorrupt, match="'cut_with'.*--force"):
        Index.load(index_dir, ENC.id)
    manifest = index.path / "manifest.json"
    write_json(manifest, {"format": FORMAT_VERSION - 1, "segments": "another shape"})
    with pytest.raises(IndexMismatch, match=f"index format {FORMAT_VERSION - 1} is not {FORMAT_VERSION}"):
        Index.load(index_dir, ENC.id)
    write_json(manifest, [FORMAT_VERSION])
    with pytest.raises(IndexCorrupt, match="not an object"):
        Index.load(index_dir, ENC.id)


def test_json_true_is_not_a_count():
    entry = {"sha256": "x", "rows": [0, 1], "doc_rows": [0, 1], "documents": 1, "lines": [["k", "t", 0]]}
    assert FileEntry.from_json(entry, in_segment=True).passages == 1
    with pytest.raises(ManifestError, match="'documents'"):
        FileEntry.from_json({**entry, "documents": True}, in_segment=True)


def _segment(name: str, files: dict[str, int]) -> SegmentEntry:
    """A segment holding files of the given passage counts, one document each, in order."""
    entries, row = {}, 0
    for k, (path, n) in enumerate(files.items()):
        entries[path] = FileEntry(sha256=f"sha-{path}", rows=(row, row + n), doc_rows=(k, k + 1), documents=1,
                                  lines=(RepeatLine("key", "title", 0),))
        row += n
    return SegmentEntry(name=name, rows=row, sentences=row, index_type="Flat", user_words=(), files=entries)


def _manifest(segments: list[SegmentEntry]) -> Manifest:
    files = {p: FileEntry(sha256=f.sha256, segment=s.name, rows=f.rows, doc_rows=f.doc_rows, documents=1)
             for s in segments for p, f in s.files.items()}
    return Manifest(format=FORMAT_VERSION, generation="gen-000001", built_at="", build_seconds=0.0,
                    encoder=EncoderInfo(ENC.id, ENC.dim), tokenizer={"user_words": []},
                    counts=Counts(len(files), len(files), sum(f.passages for f in files.values())), vocabulary=0,
                    segments=tuple(segments), files=files, repeated={}, warnings=(), versions={})


def test_plan_keeps_live_segments_rebuilds_mostly_dead_ones_and_merges_a_crowded_size_class():
    big = _segment("seg-big", {"a": 30, "b": 30, "c": 40})
    dead = _segment("seg-dead", {"d": 10, "e": 90})
    prev = _manifest([big, dead])
    hashes = {p: f"sha-{p}" for p in "abcde"} | {"e": "changed", "new": "sha-new"}
    kept, todo = plan_segments(prev, hashes)
    assert kept == [big] and todo == ["d", "e", "new"]  # 10 of seg-dead's 100 passages still live
    assert plan_segments(prev, hashes, present=lambda name: name != "seg-big")[1] == ["a", "b", "c", "d", "e", "new"]
    small = [_segment(f"seg-{i}", {f"f{i}": 5}) for i in range(MAX_PER_CLASS + 1)]
    kept, todo = plan_segments(_manifest(small), {f"f{i}": f"sha-f{i}" for i in range(len(small))})
    assert kept == [] and len(todo) == len(small)
    assert plan_segments(None, {"x": "1"}) == ([], ["x"])
