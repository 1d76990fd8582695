"""`eval` on reader-question sets: every question against the whole corpus, right answers per kind, beside the naive peer."""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bot.engine import Engine
from bot.evaluate import most_shared, scratch_settings
from bot.readerset import KINDS, STYLES, ReaderQuestion, ReaderSet, load_reader_set, shows, write_corpus
from bot.settings import Settings
from embeddings.encoders import Encoder

PEER_PARAGRAPHS = 3


@dataclass(frozen=True)
class ReaderRecord:
    question: ReaderQuestion
    abstained: bool
    right: bool  # answerable: every group shown; unanswerable: abstained
    peer_right: bool  # the naive peer (never abstains) shows every group
    kind_found: str  # the kind the bot read the question as
    quotes: tuple[str, ...]
    peer_quote: str
    latency_ms: float
    verbatim: bool
    hedged: bool = False


def peer_quote(engine: Engine, question: str) -> str:
    """The naive peer: jieba + BM25 over the passages, then the sentence of the top three that shares the
    most question words (the higher-ranked passage wins ties). It never abstains."""
    searcher = engine.loaded.searcher
    bm = searcher.bm25_scores(question)
    if not bm.size or bm.max() <= 0:
        return ""
    rows = [row for row in bm.argsort()[::-1][:PEER_PARAGRAPHS].tolist() if bm[row] > 0]
    sentences = [p.text[a:b] for p in (searcher.index.passages[row] for row in rows) for a, b in p.sentences]
    return most_shared(searcher.index.tokenizer, question, sentences)


def run_reader_eval(paths: list[Path], settings: Settings, encoder: Encoder | None = None,
                    shared_dir: Path | None = None, limit: int | None = None,
                    progress: bool = False) -> tuple[list[ReaderSet], list[ReaderRecord], float, int]:
    """Index the sets' corpora together once, then ask every question of every set."""
    sets = [load_reader_set(p) for p in paths]
    corpora = tuple(dict.fromkeys(c for s in sets for c in s.corpora))
    shared = shared_dir or Path(settings.seeds_dir).resolve().parent.parent / "shared" / "datasets"
    with tempfile.TemporaryDirectory(prefix="quotebot-reader-") as tmp:
        scratch = scratch_settings(settings, Path(tmp))
        write_corpus(ReaderSet("all", corpora, ()), scratch.seeds_dir, settings.seeds_dir, shared)
        engine = Engine(scratch, encoder=encoder)
        t0 = time.perf_counter()
        report = engine.ensure_index()
        build_s = time.perf_counter() - t0
        index = engine.loaded.index
        todo = [q for s in sets for q in (s.questions[:limit] if limit else s.questions)]
        if progress:
            from tqdm import tqdm

            todo = tqdm(todo, desc="reader", unit="q")
        records = []
        for q in todo:
            t0 = time.perf_counter()
            answer = engine.answer(q.text)
            latency = (time.perf_counter() - t0) * 1000
            quotes = tuple(x.text for x in answer.quotes)
            peer = peer_quote(engine, q.text)
            verbatim = all(index.paragraph(x.passage).text[x.start:x.end] == x.text for x in answer.quotes)
            right = (not answer.abstained and shows(quotes, q.must)) if q.answerable else answer.abstained
            records.append(ReaderRecord(q, answer.abstained, right, q.answerable and shows((peer,), q.must),
                                        answer.kind, quotes, peer, latency, verbatim,
                                        answer.hedged))
    return sets, records, build_s, report.passages if report else len(index)


def summarise_reader(records: list[ReaderRecord]) -> dict:
    """Right answers per kind (answerable questions typed as the articles word them), abstention on unanswerable
    ones, the peer beside; and the same per style of typing (typos, synonyms, keywords, English)."""
    per_style = {}
    for style in STYLES[1:]:
        rs = [r for r in records if r.question.style == style]
        if rs:
            a = [r for r in rs if r.question.answerable]
            u = [r for r in rs if not r.question.answerable]
            per_style[style] = {"n": len(a), "right": sum(r.right for r in a) / max(1, len(a)),
                                "peer": sum(r.peer_right for r in a) / max(1, len(a)),
                                "unanswerable": len(u), "abstained": sum(r.abstained for r in u) / max(1, len(u))}
    all_records = records
    records = [r for r in records if r.question.style == "plain"]
    ans = [r for r in records if r.question.answerable]
    out = [r for r in records if not r.question.answerable]
    per_kind = {}
    for kind in KINDS:
        rs = [r for r in ans if r.question.kind == kind]
        if rs:
            per_kind[kind] = {"n": len(rs), "right": sum(r.right for r in rs) / len(rs),
                              "peer": sum(r.peer_right for r in rs) / len(rs),
                              "abstained": sum(r.abstained for r in rs) / len(rs)}
    lat = [r.latency_ms for r in all_records]
    return {
        "questions": len(records),
        "answerable": len(ans),
        "unanswerable": len(out),
        "right": sum(r.right for r in ans) / max(1, len(ans)),
        "peer right": sum(r.peer_right for r in ans) / max(1, len(ans)),
        "abstained (answerable)": sum(r.abstained for r in ans) / max(1, len(ans)),
        "hedged (answerable)": sum(r.hedged for r in ans) / max(1, len(ans)),
        "abstained (unanswerable)": sum(r.abstained for r in out) / max(1, len(out)),
        "kind read right": sum(r.kind_found == r.question.kind for r in records) / max(1, len(records)),
        "per kind": per_kind,
        "per style": per_style,
        "p50 ms": statistics.median(lat) if lat else 0.0,
        "verbatim": all(r.verbatim for r in all_records),
    }
