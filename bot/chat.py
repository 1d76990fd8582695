"""Chat policy without Telegram: who is addressed in a group, the per-user limit, usage figures."""

from __future__ import annotations

import hashlib
import math
import re
import statistics
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

from embeddings.documents import Document


class RateLimiter:
    """At most `limit` questions per `window` seconds per user (a sliding window, not a bucket)."""

    def __init__(self, limit: int, window: float):
        self.limit = limit
        self.window = window
        self._seen: dict[int, deque[float]] = {}

    def check(self, user_id: int, now: float) -> float:
        """0 if the question may go ahead (and counts it); else the seconds until it may."""
        times = self._seen.setdefault(user_id, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) >= self.limit:
            return times[0] + self.window - now
        times.append(now)
        if len(self._seen) > 10_000:  # forget idle users so the table stays small
            self._seen = {u: t for u, t in self._seen.items() if t and t[-1] > now - self.window}
        return 0.0


class Stats:
    """Questions answered since start; latencies kept for the most recent 10,000.

    `latencies` run from the question reaching the bot to its answer being ready (waiting for a
    free worker included); `compute` is the answering alone.
    """

    def __init__(self):
        self.questions = 0
        self.abstained = 0
        self.rate_limited = 0
        self.errors = 0
        self.latencies: deque[float] = deque(maxlen=10_000)
        self.compute: deque[float] = deque(maxlen=10_000)

    def record(self, seconds: float, abstained: bool, compute: float | None = None) -> None:
        self.questions += 1
        self.abstained += abstained
        self.latencies.append(seconds)
        self.compute.append(seconds if compute is None else compute)

    def summary(self) -> dict:
        lat, comp = sorted(self.latencies), sorted(self.compute)
        return {
            "questions": self.questions,
            "abstained": self.abstained,
            "abstention_rate": self.abstained / self.questions if self.questions else 0.0,
            "rate_limited": self.rate_limited,
            "errors": self.errors,
            "p50_ms": 1000 * statistics.median(lat) if lat else None,
            "p95_ms": 1000 * percentile(lat, 0.95) if lat else None,
            "compute_p50_ms": 1000 * statistics.median(comp) if comp else None,
            "compute_p95_ms": 1000 * percentile(comp, 0.95) if comp else None,
        }


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    k = max(0, min(len(sorted_values) - 1, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[k]


def strip_mention(text: str, username: str) -> str:
    """The question without the bot's @mention."""
    return re.sub(rf"@{re.escape(username)}\b", " ", text, flags=re.IGNORECASE).strip()


def mentions(text: str, username: str) -> bool:
    return bool(username) and re.search(rf"@{re.escape(username)}\b", text, flags=re.IGNORECASE) is not None


def addressed_question(text: str, *, private: bool, username: str, reply_to_bot: bool) -> str | None:
    """The question a message asks the bot, or None when it is group talk not meant for the bot."""
    if private or reply_to_bot:
        return strip_mention(text, username) if username else text.strip()
    if mentions(text, username):
        return strip_mention(text, username)
    return None


# Questions a reader asks of a name, as the bot can answer them; filled with a name from an article's title.
EXAMPLE_FORMS = ("{name}最新情况如何？", "{name}最新的消息是什么？", "{name}是什么？")


SUBJECT_TAGS = frozenset({"nr", "nrt", "nrfg", "nt", "eng"})  # people, bodies, Latin names: what news is about


def subjects(tagged: list[tuple[str, str]], taught, df) -> list[str]:
    """The names a title is about, the ones to ask of first: products and models (H200), then people and bodies
    the articles use (`df(word)` → their document frequency), the rarer first; never a bare place ('中国')."""
    found = {w for w, flag in tagged if len(w) >= 2 and (flag in SUBJECT_TAGS or (flag == "x" and taught(w)))}
    used = [w for w in found if df(w.lower()) > 0]
    return sorted(used, key=lambda w: (not w[:1].isascii(), df(w.lower()), w))


def example_questions(documents: list[Document], names_in, n: int = 3) -> list[str]:
    """Candidate example questions about the names in the newest documents' titles (`names_in(title)` → the
    names it holds, as written, most specific first), one name per document and no name twice, the forms
    taken in turn; the caller keeps those the index answers."""
    dated = sorted(documents, key=lambda d: (d.date or "", d.id), reverse=True)
    out, used = [], set()
    for doc in dated:
        name = next((x for x in names_in(doc.title or "") if x.lower() not in used), None)
        if name is None:
            continue
        used.add(name.lower())
        out.append(EXAMPLE_FORMS[len(out) % len(EXAMPLE_FORMS)].format(name=name))
        if len(out) >= n * 3:
            break
    return out


@dataclass(frozen=True)
class CorpusFacts:
    """What /start and /help say about the corpus."""

    documents: int
    passages: int
    first_date: str | None
    last_date: str | None
    examples: tuple[str, ...]
    outlets: int = 0


# --- callback data: which paragraph a button shows (Telegram allows 64 bytes) ----------------------


@dataclass(frozen=True)
class ParagraphRef:
    """A paragraph of a document, and optionally the quoted span in it; checked against the text on use."""

    doc_key: str
    paragraph: int
    start: int
    end: int
    text_key: str

    def encode(self) -> str:
        return f"p|{self.doc_key}|{self.paragraph}|{self.start}|{self.end}|{self.text_key}"

    @classmethod
    def make(cls, doc_id: str, paragraph: int, text: str, start: int = 0, end: int = 0) -> "ParagraphRef":
        return cls(short_hash(doc_id, 8), paragraph, start, end, short_hash(text, 6))

    @classmethod
    def decode(cls, data: str) -> "ParagraphRef | None":
        parts = (data or "").split("|")
        if len(parts) != 6 or parts[0] != "p" or not all(p.isdigit() for p in parts[2:5]):
            return None
        return cls(parts[1], int(parts[2]), int(parts[3]), int(parts[4]), parts[5])

    def resolve(self, documents: Mapping[str, Document]) -> tuple[Document, str] | None:
        """The document and paragraph text, or None if the index no longer holds that exact paragraph."""
        for doc_id in documents:  # ids first: only the matching document is read from the index
            if short_hash(doc_id, 8) != self.doc_key:
                continue
            doc = documents[doc_id]
            if 0 <= self.paragraph < len(doc.paragraphs):
                text = doc.paragraphs[self.paragraph].text
                if short_hash(text, 6) == self.text_key and self.end <= len(text):
                    return doc, text
        return None


def short_hash(text: str, n: int) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:n]
