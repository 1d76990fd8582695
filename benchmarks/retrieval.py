"""Paragraph retrieval on the public dev sets: BM25 alone, dense alone, and fusions, side by side.

    python benchmarks/retrieval.py [--limit N] [--encoder use] [--write]

Every paragraph of every article goes into one index (built by the real `build_index` from JSON
seed files); each question is asked against it, and a hit counts when the passage's paragraph is
the question's own. With --write, the table replaces its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.report import write_section
from bot.datasets import load_squad, write_articles
from embeddings.encoders import make_encoder
from embeddings.index import Index, build_index
from embeddings.search import CANDIDATES, BM25_WEIGHT, Searcher, fuse, minmax
from embeddings.textnorm import clean_spaces

ROOT = Path(__file__).resolve().parent.parent

DATASETS = ROOT.parent / "shared" / "datasets"
WEIGHTS = [0.3, 0.5, 0.6, 0.7, 0.8, 0.9]
MINMAX_WEIGHTS = [0.5, 0.7, 0.9]


def paragraph_ranks(scores: np.ndarray, para_of: np.ndarray, gold: int, valid: np.ndarray | None = None) -> int:
    """1-based rank of the gold paragraph when paragraphs are ranked by their best passage (0 = absent)."""
    s = scores if valid is None else np.where(valid, scores, -np.inf)
    best: dict[int, float] = {}
    for i in np.argsort(-s, kind="stable")[:200]:
        if not np.isfinite(s[i]):
            break
        best.setdefault(int(para_of[i]), float(s[i]))
        if len(best) >= 20:
            break
    order = list(best)
    return order.index(gold) + 1 if gold in best else 0


def metrics(ranks: list[int]) -> dict:
    n = len(ranks)
    return {
        "R@1": sum(r == 1 for r in ranks) / n,
        "R@5": sum(1 <= r <= 5 for r in ranks) / n,
        "MRR": sum(1 / r for r in ranks if r) / n,
    }


def run(dataset_path: Path, encoder_spec: str, limit: int | None) -> dict:
    ds = load_squad(dataset_path)
    encoder = make_encoder(encoder_spec)
    with tempfile.TemporaryDirectory() as tmp:
        seeds, index_dir = Path(tmp) / "seeds", Path(tmp) / "index"
        write_articles(ds, seeds, which="all")
        t0 = time.perf_counter()
        report = build_index(seeds, index_dir, encoder)
        build_s = time.perf_counter() - t0
        index = Index.load(index_dir, encoder.id)
        searcher = Searcher(index, encoder)
        # Paragraph keys: the gold paragraph is found by its text within its article's document.
        keys: dict[tuple[str, str], int] = {}
        para_of = np.full(index.rows, -2, dtype=np.int64)  # rows of deleted files (none in a fresh build)
        for p in index.passages:
            text = clean_spaces(index.paragraph(p).text)
            para_of[p.row] = keys.setdefault((p.doc_id, text), len(keys))
        questions = ds.questions[:limit] if limit else ds.questions
        t0 = time.perf_counter()
        qvecs = encoder.encode([q.text for q in questions])
        encode_ms = (time.perf_counter() - t0) / max(1, len(questions)) * 1000
        vectors = index.vectors(np.arange(index.rows))
        ranks: dict[str, list[int]] = {"bm25": [], "dense": [], "rrf": []}
        ranks.update({f"w={w}": [] for w in WEIGHTS})
        ranks.update({f"minmax w={w}": [] for w in MINMAX_WEIGHTS})
        ranks["search"] = []
        latencies = []
        missing = 0
        kc = min(CANDIDATES, len(index))
        for q, qv in zip(questions, qvecs):
            doc_id = f"{ds.name}_{q.article:05d}.json"
            gold = keys.get((doc_id, q.paragraph))
            if gold is None:  # the paragraph was dropped by the reader (e.g. looked like a promo)
                missing += 1
                gold = -1
            bm = searcher.bm25_scores(q.text)
            cos = vectors @ qv
            ranks["bm25"].append(paragraph_ranks(bm, para_of, gold))
            ranks["dense"].append(paragraph_ranks(cos, para_of, gold))
            cand = np.zeros(index.rows, dtype=bool)
            cand[np.argsort(-bm, kind="stable")[:kc][bm[np.argsort(-bm, kind="stable")[:kc]] > 0]] = True
            cand[np.argsort(-cos, kind="stable")[:kc]] = True
            idx = np.flatnonzero(cand)
            for w in WEIGHTS:
                fused = np.full(len(index), -np.inf)
                fused[idx] = fuse(bm[idx], cos[idx], w)
                ranks[f"w={w}"].append(paragraph_ranks(fused, para_of, gold))
            for w in MINMAX_WEIGHTS:  # the alternative: both scores min-max scaled over the candidates
                fused = np.full(len(index), -np.inf)
                fused[idx] = w * minmax(bm[idx]) + (1 - w) * minmax(cos[idx])
                ranks[f"minmax w={w}"].append(paragraph_ranks(fused, para_of, gold))
            rrf = np.zeros(len(index))
            for arr in (bm, cos):
                order = np.argsort(-arr, kind="stable")[:kc]
                rrf[order] += 1.0 / (60 + np.arange(1, len(order) + 1))
            ranks["rrf"].append(paragraph_ranks(np.where(rrf > 0, rrf, -np.inf), para_of, gold))
            t0 = time.perf_counter()
            hits = searcher.search(q.text, k=5)
            latencies.append((time.perf_counter() - t0) * 1000)
            order = []
            for h in hits:
                key = keys[(h.passage.doc_id, clean_spaces(index.paragraph(h.passage).text))]
                if key not in order:
                    order.append(key)
            ranks["search"].append(order.index(gold) + 1 if gold in order else 0)
    return {
        "name": ds.name,
        "articles": len(ds.articles),
        "paragraphs": len(keys),
        "passages": report.passages,
        "questions": len(questions),
        "missing_gold": missing,
        "build_s": build_s,
        "encode_ms": encode_ms,
        "search_p50": statistics.median(latencies),
        "search_p95": float(np.percentile(latencies, 95)),
        "results": {name: metrics(r) for name, r in ranks.items()},
    }


def table(runs: list[dict], encoder: str, limit: int | None) -> str:
    cmd = "python benchmarks/retrieval.py --write" + (f" --limit {limit}" if limit else "") + (
        f" --encoder {encoder}" if encoder != "use" else "")
    lines = [
        "## Retrieval (issue 3)",
        "",
        f"Command: `{cmd}` (encoder `{encoder}`, 1 thread). Paragraph-level Recall@1, Recall@5 and MRR; every",
        "paragraph of every article in one index, every question asked against it. `w=x` is the weighted",
        "fusion x·BM25/max(BM25) + (1−x)·cosine over the union of the top-50 BM25 and top-50 dense",
        "candidates; `minmax w=x` scales both scores min-max over the candidates instead; `rrf` is",
        f"reciprocal-rank fusion (k=60) for comparison; `search` is the production `Searcher.search` (BM25 weight {BM25_WEIGHT},",
        "near-duplicates folded).",
        "",
    ]
    names = list(runs[0]["results"])
    head = "| method | " + " | ".join(f"{r['name']} R@1 | R@5 | MRR" for r in runs) + " |"
    lines += [head, "|---|" + "---|---|---|" * len(runs)]
    for name in names:
        cells = []
        for r in runs:
            m = r["results"][name]
            cells.append(f"{m['R@1']:.3f} | {m['R@5']:.3f} | {m['MRR']:.3f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "| set | articles | paragraphs | passages | questions | gold paragraph dropped by reader | index build s | query encode ms | search p50 ms | search p95 ms |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        lines.append(f"| {r['name']} | {r['articles']} | {r['paragraphs']} | {r['passages']} | {r['questions']} | "
                     f"{r['missing_gold']} | {r['build_s']:.1f} | {r['encode_ms']:.2f} | {r['search_p50']:.2f} | {r['search_p95']:.2f} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=["cmrc2018_dev", "drcd_dev"])
    ap.add_argument("--limit", type=int, default=None, help="questions per set (default: all)")
    ap.add_argument("--encoder", default="use")
    ap.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = ap.parse_args()
    runs = []
    for name in args.datasets:
        path = DATASETS / f"{name}.json"
        if not path.exists():
            print(f"error: {path} not found", file=sys.stderr)
            return 2
        runs.append(run(path, args.encoder, args.limit))
        print(f"{name}: done", file=sys.stderr)
    text = table(runs, args.encoder, args.limit)
    print(text)
    if args.write:
        write_section("retrieval", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
