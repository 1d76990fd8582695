"""`eval`: index half of a SQuAD-format set, ask questions of both halves, score quotes and abstention."""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from bot.datasets import Dataset, Question, load_squad, write_articles
from bot.engine import Engine
from bot.settings import Settings
from embeddings.encoders import Encoder
from embeddings.textnorm import clean_spaces, normalize


@dataclass(frozen=True)
class Record:
    question: Question
    held_out: bool
    abstained: bool
    confidence: float
    para_rank: int  # 1-based rank of the gold paragraph among the hits' paragraphs, 0 if absent
    quote1: bool  # the first quote holds a gold answer
    quote3: bool  # one of the top three candidate quotes holds one
    naive1: bool  # the naive baseline's quote holds one
    latency_ms: float
    features: dict
    verbatim: bool  # every quote is a slice of its source paragraph
    quotes: tuple[str, ...] = ()


def contains_answer(text: str, answers: tuple[str, ...]) -> bool:
    t = normalize(text)
    return any(normalize(a) in t for a in answers)


def naive_quote(engine: Engine, question: str) -> str:
    """The peer to beat: BM25's top paragraph, then its sentence sharing the most words. Never abstains."""
    loaded = engine.loaded
    searcher = loaded.searcher
    bm = searcher.bm25_scores(question)
    if not bm.size or bm.max() <= 0:
        return ""
    passage = searcher.index.passages[int(np.argmax(bm))]
    para = searcher.index.paragraph(passage)
    return most_shared(searcher.index.tokenizer, question, [para.text[a:b] for a, b in para.sentences])


def most_shared(tokenizer, question: str, sentences: list[str]) -> str:
    """The first of `sentences` sharing the most words with the question (the naive peers' choice)."""
    q = {t for t in tokenizer.tokens(question) if not t.startswith("#")}
    best, best_n = "", -1
    for s in sentences:
        n = len(q & {t for t in tokenizer.tokens(s) if not t.startswith("#")})
        if n > best_n:
            best, best_n = s, n
    return best


def scratch_settings(settings: Settings, tmp: Path) -> Settings:
    """Settings for an evaluation run in `tmp`: its seeds and index there, and with Qdrant in local mode its
    collections too, so that a run never publishes over the user's index."""
    settings = replace(settings, seeds_dir=tmp / "seeds", index_dir=tmp / "index")
    if settings.backend == "qdrant" and not settings.qdrant_url:
        settings = replace(settings, qdrant_path=tmp / "qdrant")
    return settings


def run_eval(path: Path, settings: Settings, encoder: Encoder | None = None, limit: int | None = None,
             calibration: dict | None = None, progress: bool = False) -> tuple[Dataset, list[Record], float, int]:
    """Index the even-position articles, then ask `limit` questions of each half (all if None)."""
    ds = load_squad(path)
    with tempfile.TemporaryDirectory(prefix="quotebot-eval-") as tmp:
        scratch = scratch_settings(settings, Path(tmp))
        indexed = set(write_articles(ds, scratch.seeds_dir, which="even"))
        engine = Engine(scratch, encoder=encoder)
        t0 = time.perf_counter()
        report = engine.ensure_index()
        build_s = time.perf_counter() - t0
        if calibration is not None:
            engine.use_calibration(calibration)
        index = engine.loaded.index
        para_key = {}
        for p in index.passages:
            para_key[p.id] = (p.doc_id, clean_spaces(index.paragraph(p).text))
        answerable = [q for q in ds.questions if q.article in indexed]
        held_out = [q for q in ds.questions if q.article not in indexed]
        if limit:
            answerable, held_out = answerable[:limit], held_out[:limit]
        records = []
        todo = [(q, False) for q in answerable] + [(q, True) for q in held_out]
        if progress:
            from tqdm import tqdm

            todo = tqdm(todo, desc=ds.name, unit="q")
        for q, out in todo:
            t0 = time.perf_counter()
            answer = engine.answer(q.text)
            hits = answer.hits
            latency = (time.perf_counter() - t0) * 1000
            gold = (f"{ds.name}_{q.article:05d}.json", q.paragraph)
            order = []
            for h in hits:
                key = para_key[h.passage.id]
                if key not in order:
                    order.append(key)
            rank = order.index(gold) + 1 if gold in order else 0
            quotes = [x.text for x in answer.quotes]
            alternatives = answer.features.get("alternatives", [])
            verbatim = all(
                index.paragraph(x.passage).text[x.start:x.end] == x.text for x in answer.quotes
            ) and all(s.passage in (p.text for p in index.documents[s.doc_id].paragraphs) for s in answer.sources)
            records.append(Record(
                question=q, held_out=out, abstained=answer.abstained, confidence=answer.confidence,
                para_rank=0 if out else rank,
                quote1=bool(alternatives) and not out and contains_answer(alternatives[0], q.answers),
                quote3=not out and any(contains_answer(t, q.answers) for t in alternatives[:3]),
                naive1=not out and contains_answer(naive_quote(engine, q.text), q.answers),
                latency_ms=latency, features={k: v for k, v in answer.features.items() if k != "alternatives"},
                verbatim=verbatim, quotes=tuple(quotes),
            ))
        engine.close()
    return ds, records, build_s, report.passages if report else len(index)


def summarise(records: list[Record]) -> dict:
    ans = [r for r in records if not r.held_out]
    out = [r for r in records if r.held_out]
    n = max(1, len(ans))
    lat = [r.latency_ms for r in records]
    answered = [r for r in ans if not r.abstained]
    return {
        "answerable": len(ans),
        "held_out": len(out),
        "R@1": sum(r.para_rank == 1 for r in ans) / n,
        "R@5": sum(1 <= r.para_rank <= 5 for r in ans) / n,
        "MRR": sum(1 / r.para_rank for r in ans if r.para_rank) / n,
        "quote@1": sum(r.quote1 and not r.abstained for r in ans) / n,
        "quote@1 answered": sum(r.quote1 for r in answered) / max(1, len(answered)),
        "quote@1 no abstention": sum(r.quote1 for r in ans) / n,
        "quote@3": sum(r.quote3 for r in ans) / n,
        "answer rate": len(answered) / n,
        "abstention rate": sum(r.abstained for r in out) / max(1, len(out)),
        "naive quote@1": sum(r.naive1 for r in ans) / n,
        "p50 ms": statistics.median(lat) if lat else 0.0,
        "p95 ms": float(np.percentile(lat, 95)) if lat else 0.0,
        "verbatim": all(r.verbatim for r in records),
    }


def tradeoff(records: list[Record], thresholds=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)) -> list[dict]:
    """Answer rate, abstention rate and quote@1 if the threshold were t (from the recorded confidences)."""
    ans = [r for r in records if not r.held_out]
    out = [r for r in records if r.held_out]
    rows = []
    for t in thresholds:
        answered = [r for r in ans if r.confidence >= t]
        rows.append({
            "threshold": t,
            "answer rate": len(answered) / max(1, len(ans)),
            "abstention rate": sum(r.confidence < t for r in out) / max(1, len(out)),
            "quote@1": sum(r.quote1 for r in answered) / max(1, len(ans)),
        })
    return rows

