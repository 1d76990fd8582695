"""What the readers produce: documents of quotable paragraphs, and the warnings for files they could not read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from embeddings.boilerplate import Dropped, line_rule
from embeddings.textnorm import normalize, split_sentences, strip_controls


class UnreadableFile(Exception):
    """A seed file that cannot be turned into a document; the message says why."""


@dataclass(frozen=True)
class Paragraph:
    """One quotable paragraph: its exact text (markup removed) and sentence spans into it."""

    index: int
    text: str
    section: str | None
    sentences: tuple[tuple[int, int], ...]
    kind: str = "body"  # body | summary | subtitle | table_row

    @property
    def sentence_texts(self) -> tuple[str, ...]:
        return tuple(self.text[a:b] for a, b in self.sentences)

    @property
    def norm(self) -> str:
        return normalize(self.text)


@dataclass(frozen=True)
class Document:
    id: str
    path: str
    shape: str
    title: str
    date: str | None
    url: str | None
    author: str | None
    source: str | None
    paragraphs: tuple[Paragraph, ...]
    dropped: tuple[Dropped, ...] = ()
    tags: tuple[str, ...] = ()
    sha256: str = ""
    notes: tuple[str, ...] = ()

    @property
    def sentence_count(self) -> int:
        return sum(len(p.sentences) for p in self.paragraphs)


@dataclass(frozen=True)
class LoadWarning:
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(frozen=True)
class Corpus:
    documents: tuple[Document, ...]
    warnings: tuple[LoadWarning, ...] = field(default=())


def _paragraphs(items: Iterable[tuple[str, str | None, str]]) -> tuple[Paragraph, ...]:
    """(text, section, kind) → Paragraphs with sentence spans; blank texts are skipped."""
    out: list[Paragraph] = []
    for text, section, kind in items:
        text = strip_controls(text).strip()  # JSON escapes (\u0000) decode after the file-level pass
        if not text:
            continue
        out.append(Paragraph(len(out), text, section, split_sentences(text), kind))
    return tuple(out)


def _classify_paragraphs(
    items: list[tuple[str, str | None, str]], dropped: list[Dropped]
) -> list[tuple[str, str | None, str]]:
    kept = []
    for text, section, kind in items:
        rule = line_rule(text)
        if rule is not None and rule != "link_list":
            dropped.append(Dropped(text, rule))
        else:
            kept.append((text, section, kind))
    return kept
