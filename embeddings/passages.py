"""Paragraphs → passages: the unit that is indexed and cited, with content-derived ids and offsets."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from embeddings.documents import Document, Paragraph

MAX_CHARS = 360  # longer paragraphs are split on sentence boundaries
OVERLAP_SENTENCES = 1


@dataclass(frozen=True)
class Passage:
    """A run of whole sentences of one paragraph: text == paragraph.text[start:end]."""

    id: str
    doc_id: str
    paragraph: int
    start: int
    end: int
    text: str
    section: str | None
    sentences: tuple[tuple[int, int], ...]  # spans relative to `text`
    kind: str = "body"
    row: int = field(default=-1, compare=False)  # position in the loaded index (-1: not from an index)

    @property
    def content_hash(self) -> str:
        return content_hash(self.text)


def content_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]


def passage_id(doc_id: str, text: str) -> str:
    # The document is part of the id: the same sentence in two outlets is two citable passages.
    return hashlib.sha1(f"{doc_id}\x00{text}".encode("utf-8")).hexdigest()[:16]


def split_paragraph(doc_id: str, para: Paragraph, max_chars: int = MAX_CHARS,
                    overlap: int = OVERLAP_SENTENCES) -> list[Passage]:
    """One paragraph → passages of whole sentences, at most `max_chars` unless one sentence is longer."""
    spans = list(para.sentences) or [(0, len(para.text))]
    groups: list[list[tuple[int, int]]] = []
    i = 0
    while i < len(spans):
        group = [spans[i]]
        j = i + 1
        while j < len(spans) and spans[j][1] - group[0][0] <= max_chars:
            group.append(spans[j])
            j += 1
        groups.append(group)
        if j >= len(spans):
            break
        # Step back `overlap` sentences so an answer straddling the cut is whole in one passage.
        i = max(j - overlap, i + 1)
    out = []
    for group in groups:
        start, end = group[0][0], group[-1][1]
        text = para.text[start:end]
        rel = tuple((a - start, b - start) for a, b in group)
        out.append(Passage(passage_id(doc_id, text), doc_id, para.index, start, end, text, para.section, rel, para.kind))
    # Identical text twice in one document would collide on id: keep the first occurrence.
    return out


def document_passages(doc: Document, max_chars: int = MAX_CHARS) -> list[Passage]:
    seen: set[str] = set()
    out = []
    for para in doc.paragraphs:
        for p in split_paragraph(doc.id, para, max_chars):
            if p.id not in seen:
                seen.add(p.id)
                out.append(p)
    return out

