"""How a generation is laid out in Qdrant: collection names, point ids, named vectors and payloads."""

from __future__ import annotations

import re
from dataclasses import dataclass

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
