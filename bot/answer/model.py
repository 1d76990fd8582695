"""What the answer layer hands to the edges: quotes with their sources, or an abstention."""

from __future__ import annotations

from dataclasses import dataclass, field

from embeddings.passages import Passage



@dataclass(frozen=True)
class Quote:
    """A verbatim slice of a source paragraph: paragraph.text[start:end] == text."""

    text: str
    passage: Passage
    start: int  # offsets into the paragraph text
    end: int
    score: float
    coverage: float


@dataclass(frozen=True)
class Source:
    doc_id: str
    path: str
    title: str
    date: str | None
    url: str | None
    section: str | None
    passage: str  # the whole paragraph the quote comes from
    score: float
    paragraph: int
    source_name: str | None = None
    corroborating: tuple[str, ...] = ()  # titles of other outlets carrying the same text


@dataclass(frozen=True)
class Answer:
    question: str
    abstained: bool
    confidence: float
    quotes: tuple[Quote, ...]
    sources: tuple[Source, ...]  # sources[i] is cited as i + 1; quotes refer to them by doc and paragraph
    related: tuple[Source, ...] = ()  # "possibly related" passages, only when abstaining
    qtype: str = "other"
    features: dict = field(default_factory=dict, compare=False)

    def source_number(self, quote: Quote) -> int:
        for i, s in enumerate(self.sources, 1):
            if s.doc_id == quote.passage.doc_id and s.paragraph == quote.passage.paragraph:
                return i
        raise KeyError(quote.passage.id)
