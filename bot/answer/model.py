"""What the answer layer hands to the edges: quotes with their sources, or an abstention."""

from __future__ import annotations

from dataclasses import dataclass, field

from embeddings.passages import Passage


@dataclass(frozen=True)
class Note:
    """The bot's own words about an answer, worded by the renderer in the reader's script."""

    key: str  # hedge | changed | sequence | overview | not_found | not_answered
    topic: str = ""  # a word of the question (what was not found)
    what: str = ""  # what was asked of it: a question kind or a fact slot


@dataclass(frozen=True)
class Quote:
    """A verbatim slice of a source paragraph: paragraph.text[start:end] == text."""

    text: str
    passage: Passage
    start: int  # offsets into the paragraph text
    end: int
    score: float
    coverage: float
    date: str | None = None  # the date of what it reports: the sentence's own, else the article's
    role: str = "answer"  # answer | earlier | conflicting | context
    marks: tuple[tuple[int, int], ...] = ()  # offsets into text of the words that answer (bold in the chat)


@dataclass(frozen=True)
class Corroboration:
    """Another outlet's article that carries the same text as a quoted source."""

    title: str
    outlet: str | None = None
    date: str | None = None
    url: str | None = None


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
    corroborating: tuple[Corroboration, ...] = ()  # other outlets carrying the same text


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
    kind: str = "fact"  # what the question asks for (bot.answer.question.KINDS)
    note: Note | None = None  # how to read the quotes (a hedge, a change over time) or what was not found
    script: str = "simplified"  # the reader's script, for the bot's own words
    hits: tuple = field(default=(), compare=False, repr=False)  # what retrieval returned (for eval)
    searched_for: tuple[str, ...] = ()  # words searched for instead of the reader's (a typo repaired)

    @property
    def hedged(self) -> bool:
        """Given as the nearest evidence, not as a direct answer."""
        return self.note is not None and self.note.key == "hedge"

    def source_number(self, quote: Quote) -> int:
        for i, s in enumerate(self.sources, 1):
            if s.doc_id == quote.passage.doc_id and s.paragraph == quote.passage.paragraph:
                return i
        raise KeyError(quote.passage.id)
