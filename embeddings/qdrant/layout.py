"""How a generation is laid out in Qdrant: collection names, point ids, named vectors and payloads."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from embeddings.index.manifest import Counts, EncoderInfo, ManifestError

DENSE = "dense"  # the passage vector
SENTENCES = "sentences"  # a multivector: one vector per sentence of the passage, for choosing quotes
SPARSE = "bm25"  # term ids with BM25's saturated term frequency; Qdrant multiplies in the IDF

DOC_BASE = 1 << 40  # a document's point id: DOC_BASE + its number in the generation
META_BASE = 1 << 41  # the generation's description, then its vocabulary in chunks
VOCAB_CHUNK = 20_000  # terms per vocabulary point (a payload of some hundred KB)

_VERSION = re.compile(r"^(?P<alias>.+)--(?P<generation>gen-\d+)--(?P<tag>[0-9a-f]{8})$")


@dataclass(frozen=True)
class Version:
    """One written generation: collection `<alias>--<generation>--<tag>`; the tag keeps two builders'
    generations of the same local number apart."""

    alias: str
    generation: str
    tag: str

    @property
    def name(self) -> str:
        return f"{self.alias}--{self.generation}--{self.tag}"

    @classmethod
    def parse(cls, name: str) -> "Version | None":
        m = _VERSION.match(name)
        return cls(m["alias"], m["generation"], m["tag"]) if m else None


def doc_point(number: int) -> int:
    return DOC_BASE + number


def meta_point(k: int) -> int:
    return META_BASE + k


def lease_collection(alias: str) -> str:
    return f"{alias}--lease"


def day_number(date: str | None) -> int | None:
    """'2026-01-23…' → 20260123, for range filters on the day; None when there is no full date."""
    if not date or not re.match(r"^\d{4}-\d{2}-\d{2}", date):
        return None
    return int(date[:10].replace("-", ""))


def _spans(data: Any, key: str) -> tuple[tuple[int, int], ...]:
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, list) or not all(isinstance(x, list) and len(x) == 2 for x in value):
        raise ManifestError(f"field {key!r} is not a list of [start, stop] pairs")
    return tuple((int(a), int(b)) for a, b in value)


@dataclass(frozen=True, kw_only=True)
class Description:
    """What a version says of itself (its first meta point): enough to answer without any local file."""

    generation: str  # the version's collection name
    built_at: str
    encoder: EncoderInfo
    tokenizer: dict[str, Any]  # Tokenizer.settings
    counts: Counts
    rows: int  # one past the highest passage row
    live: tuple[tuple[int, int], ...]  # row spans searched and shown
    stale: tuple[tuple[int, int], ...]  # row spans cut before the tokenizer learnt some user words
    documents: tuple[tuple[str, int], ...]  # document id → its point
    files: dict[str, str]  # seed file → sha256
    warnings: tuple[tuple[str, str], ...]  # (file, reason) of what was skipped or guessed
    vocabulary: int  # terms, stored VOCAB_CHUNK to a point after this one

    @property
    def vocabulary_points(self) -> int:
        return -(-self.vocabulary // VOCAB_CHUNK)

    def to_json(self) -> dict:
        return {"kind": "meta", "generation": self.generation, "built_at": self.built_at,
                "encoder": self.encoder.to_json(), "tokenizer": self.tokenizer, "counts": self.counts.to_json(),
                "rows": self.rows, "live": [list(s) for s in self.live], "stale": [list(s) for s in self.stale],
                "documents": [list(d) for d in self.documents], "files": self.files,
                "warnings": [list(w) for w in self.warnings], "vocabulary": self.vocabulary}

    @classmethod
    def from_json(cls, data: Any) -> "Description":
        if not isinstance(data, dict) or data.get("kind") != "meta":
            raise ManifestError("not a version description")
        try:
            return cls(generation=str(data["generation"]), built_at=str(data["built_at"]),
                       encoder=EncoderInfo.from_json(data["encoder"]), tokenizer=dict(data["tokenizer"]),
                       counts=Counts.from_json(data["counts"]), rows=int(data["rows"]),
                       live=_spans(data, "live"), stale=_spans(data, "stale"),
                       documents=tuple((str(d), int(n)) for d, n in data["documents"]),
                       files={str(k): str(v) for k, v in data["files"].items()},
                       warnings=tuple((str(a), str(b)) for a, b in data["warnings"]),
                       vocabulary=int(data["vocabulary"]))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ManifestError(f"version description unreadable: {exc}") from None
