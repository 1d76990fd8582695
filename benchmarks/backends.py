"""Search backends side by side (issue 19): local segments, Qdrant, Qdrant Edge; written to docs/benchmarks.md.

    python benchmarks/backends.py [--limit 300] [--scale DIR] [--write]

1. Answers: `python -m bot eval` on CMRC 2018 and DRCD dev with `--backend local` and `--backend qdrant`
   (qdrant-client's local mode: the server's API in pure Python, no server), and the reader questions:
   quote@1, abstention, latency, and how many answers are identical.
2. Fusion: on the CMRC corpus in Qdrant, the gold paragraph's rank under this project's weighted fusion
   of BM25 and dense scores (done in Python) against Qdrant's own fusions (RRF, DBSF) of the same two
   searches.
3. Search speed: the candidate search alone (dense top 50 + BM25 top 50) on the same corpora, local
   against Qdrant local mode and Qdrant Edge (embedded, Rust); with `--scale DIR`, also on the kept
   10^4 and 10^5 passage indexes of `benchmarks/scale.py --keep DIR`.
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
from bot.chat import percentile
from bot.datasets import load_squad, write_articles
from bot.engine import Engine
from bot.evaluate import run_eval, summarise
from bot.reader_eval import run_reader_eval, summarise_reader
from bot.settings import Settings
from embeddings.index import Index
from embeddings.qdrant import QdrantIndex, connect, publish
from embeddings.qdrant.layout import DENSE, SPARSE
from embeddings.textnorm import clean_spaces

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ROOT.parent / "shared" / "datasets"
READER = sorted((ROOT / "benchmarks" / "reader").glob("*.json"))
K = 50  # candidates from each side, as the Searcher asks
READING = [
    '',
    'Reading: the two backends give the same answers, so the choice between them is operational (docs/deploy.md).',
    "The weighted fusion is kept in Python: Qdrant's RRF and DBSF of the same two searches put the gold",
    'paragraph first less often. Qdrant Edge searches faster than the local index, but its candidates differ',
    '(HNSW against the local flat or IVF index, so answers would have to be measured again), and it is not safer',
    'against crashes than the local index, whose generations are published atomically (docs/reliability.md); the',
    'issue keeps it only if it beats local on speed and crash safety without losing answers, so it is not kept.',
]


def same_answers(a: list, b: list) -> int:
    return sum(x.abstained == y.abstained and x.quotes == y.quotes for x, y in zip(a, b))


def answers_table(limit: int) -> list[str]:
    rows = []
    for name in ("cmrc2018_dev", "drcd_dev"):
        runs = {}
        for backend in ("local", "qdrant"):
            # run_eval puts Qdrant's local-mode folder in its own scratch folder
            _, records, build_s, passages = run_eval(DATASETS / f"{name}.json", Settings(backend=backend), limit=limit)
            runs[backend] = (records, summarise(records), build_s, passages)
            print(name, backend, {k: v for k, v in runs[backend][1].items() if isinstance(v, float)}, file=sys.stderr)
        same = same_answers(runs["local"][0], runs["qdrant"][0])
        for backend, (records, s, build_s, passages) in runs.items():
            rows.append(f"| {name} | {backend} | {passages:,} | {len(records)} | **{s['quote@1']:.3f}** | "
                        f"{s['abstention rate']:.3f} | {s['p50 ms']:.1f} / {s['p95 ms']:.1f} | {build_s:.1f} | "
                        f"{same} of {len(records)} |")
    runs = {}
    for backend in ("local", "qdrant"):
        _, records, build_s, passages = run_reader_eval(READER, Settings(seeds_dir=ROOT / "seeds", backend=backend),
                                                        shared_dir=DATASETS)
        s = summarise_reader(records)
        lat = [r.latency_ms for r in records]
        runs[backend] = (records, s, build_s, passages, lat)
    same = sum(x.quotes == y.quotes and x.abstained == y.abstained
               for x, y in zip(runs["local"][0], runs["qdrant"][0]))
    for backend, (records, s, build_s, passages, lat) in runs.items():
        rows.append(f"| reader questions | {backend} | {passages:,} | {len(records)} | right {s['right']:.3f} | "
                    f"{s['abstained (unanswerable)']:.3f} | {statistics.median(lat):.1f} / {percentile(sorted(lat), 0.95):.1f} | "
                    f"{build_s:.1f} | {same} of {len(records)} |")
    return ["| set | backend | passages | questions | quote@1 | abstention (held-out) | answer p50 / p95 ms | "
            "build (+ publish) s | answers identical to the other backend |",
            "|---|---|---:|---:|---:|---:|---|---:|---|", *rows]


def fusion_table(limit: int) -> tuple[list[str], Path, Path]:
    """The gold paragraph's rank by each fusion; also returns the corpus's index and Qdrant folders, kept."""
    from qdrant_client import models

    ds = load_squad(DATASETS / "cmrc2018_dev.json")
    work = Path(tempfile.mkdtemp(prefix="quotebot-backends-"))
    indexed = set(write_articles(ds, work / "seeds", which="even"))
    engine = Engine(Settings(seeds_dir=work / "seeds", index_dir=work / "index", backend="qdrant",
                             qdrant_path=work / "qdrant"))
    engine.ensure_index()
    index: QdrantIndex = engine.loaded.index
    searcher = engine.loaded.searcher
    gold_of, ranks = {}, {"Python (weighted, shipped)": [], "Qdrant RRF": [], "Qdrant DBSF": []}
    for p in index.passages:  # as bot/evaluate.py keys them: the document and the paragraph's text
        gold_of[p.row] = (p.doc_id, clean_spaces(index.paragraph(p).text))
    questions = [q for q in ds.questions if q.article in indexed][:limit]
    for q in questions:
        gold = (f"{ds.name}_{q.article:05d}.json", q.paragraph)
        qv = searcher.query_vector(q.text)
        tokens = index.tokenizer.query_tokens(q.text)
        orders = {"Python (weighted, shipped)": [h.passage.row for h in searcher.search(q.text, k=20, dedupe=False,
                                                                                       query_vector=qv)]}
        prefetch = [models.Prefetch(query=qv.tolist(), using=DENSE, limit=K),
                    models.Prefetch(query=index.sparse_query(tokens), using=SPARSE, limit=K)]
        for name, fusion in (("Qdrant RRF", models.Fusion.RRF), ("Qdrant DBSF", models.Fusion.DBSF)):
            found = index.client.query_points(index.collection, prefetch=prefetch, query=models.FusionQuery(fusion=fusion),
                                              limit=20, with_payload=False).points
            orders[name] = [int(p.id) for p in found]
        for name, rows in orders.items():
            paras = list(dict.fromkeys(gold_of[r] for r in rows))
            ranks[name].append(paras.index(gold) + 1 if gold in paras else 0)
    engine.close()
    out = ["| fusion | R@1 | R@5 | MRR |", "|---|---:|---:|---:|"]
    for name, rs in ranks.items():
        n = len(rs)
        out.append(f"| {name} | {sum(r == 1 for r in rs) / n:.3f} | {sum(0 < r <= 5 for r in rs) / n:.3f} | "
                   f"{sum(1 / r for r in rs if r) / n:.3f} |")
    return out, work / "index", work / "qdrant"


def edge_shard(index: Index, folder: Path):
    """The local generation's passages in a Qdrant Edge shard: the same dense and sparse vectors Qdrant gets."""
    import qdrant_edge as qe

    from embeddings import bm25

    shard = qe.EdgeShard.create(str(folder), qe.EdgeConfig(
        vectors={DENSE: qe.EdgeVectorParams(size=index.manifest.encoder.dim, distance=qe.Distance.Dot)},
        sparse_vectors={SPARSE: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)}))
    for k, seg in enumerate(index.segments):
        base = int(index.starts[k])
        ptr, terms, saturated = bm25.row_saturations(seg.postings, index.avgdl)
        live = np.flatnonzero(index.live[base:base + seg.rows])
        for a in range(0, len(live), 1024):
            local = live[a:a + 1024]
            vectors = index.vectors((local + base).tolist())
            shard.update(qe.UpdateOperation.upsert_points([
                qe.Point(int(r + base), {DENSE: v.tolist(), SPARSE: qe.SparseVector(
                    terms[ptr[r]:ptr[r + 1]].tolist(), saturated[ptr[r]:ptr[r + 1]].tolist())})
                for r, v in zip(local.tolist(), vectors)]))
    shard.flush()
    shard.optimize()
    return shard


def speed_rows(label: str, index: Index, qdrant: QdrantIndex | None, questions: list[str], encoder) -> list[str]:
    import qdrant_edge as qe

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        shard = edge_shard(index, Path(tmp) / "edge")
        edge_build = time.perf_counter() - t0
        vectors = encoder.encode(questions)
        times: dict[str, list[float]] = {"local": [], "Qdrant local mode": [], "Qdrant Edge": []}
        overlap = []
        for _ in range(2):
            for q, qv in zip(questions, vectors):
                tokens = index.tokenizer.query_tokens(q)
                t1 = time.perf_counter()
                mine = index.search(tokens, qv, K)
                times["local"].append((time.perf_counter() - t1) * 1000)
                if qdrant is not None:
                    t1 = time.perf_counter()
                    qdrant.search(tokens, qv, K)
                    times["Qdrant local mode"].append((time.perf_counter() - t1) * 1000)
                sparse = index.vocab.ids(tokens)
                counts: dict[int, float] = {}
                for i in sparse:
                    if i is not None:
                        counts[i] = counts.get(i, 0.0) + 1.0
                ids = sorted(counts)
                t1 = time.perf_counter()
                batch = [qe.QueryRequest(limit=K, query=qe.Query.Nearest(qv.tolist(), using=DENSE), with_payload=False)]
                if ids:
                    batch.append(qe.QueryRequest(limit=K, with_payload=False, query=qe.Query.Nearest(
                        qe.SparseVector(ids, [counts[i] for i in ids]), using=SPARSE)))
                found = shard.query_batch(qe.QueryBatchRequest(batch))
                times["Qdrant Edge"].append((time.perf_counter() - t1) * 1000)
                edge_rows = {int(p.id) for answer in found for p in answer}
                overlap.append(len(edge_rows & set(mine.rows)) / max(1, len(set(mine.rows))))
        shard.close()
    out = []
    for name, ts in times.items():
        if ts:
            ts.sort()
            out.append(f"| {label} | {name} | {statistics.median(ts):.2f} / {percentile(ts, 0.95):.2f} | "
                       + (f"{np.mean(overlap):.3f} (built in {edge_build:.1f} s)" if name == "Qdrant Edge" else "—")
                       + " |")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=300, help="questions from each half of each dev set")
    ap.add_argument("--scale", type=Path, help="the --keep folder of benchmarks/scale.py (n10000, n100000)")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    command = "python benchmarks/backends.py " + " ".join(sys.argv[1:])
    answers = answers_table(args.limit)
    fusion, index_dir, qdrant_dir = fusion_table(args.limit)
    from embeddings.encoders import make_encoder

    encoder = make_encoder("use")
    questions = [q.text for q in load_squad(DATASETS / "cmrc2018_dev.json").questions[:200]]
    local = Index.load(index_dir, encoder.id)
    client = connect(path=qdrant_dir)
    speed = speed_rows(f"CMRC dev half ({local.live_count:,} passages)", local,
                       QdrantIndex.load(client, "quotebot", encoder.id), questions, encoder)
    client.close()
    if args.scale:
        hashed = make_encoder("hash:512")
        from benchmarks.scale import real_paragraphs

        scale_questions = [q["question"] for q in real_paragraphs()[1]]  # the questions the scale table asks
        for n in (10000, 100000):
            folder = args.scale / f"n{n}" / "index"
            if not folder.exists():
                continue
            idx = Index.load(folder, hashed.id)
            qdrant = None
            if n <= 10000:  # local mode is pure Python: at 10^5 one search takes seconds
                with tempfile.TemporaryDirectory() as tmp:
                    c = connect(path=Path(tmp) / "q")
                    publish(idx, c, "scale")
                    qdrant = QdrantIndex.load(c, "scale", hashed.id)
                    speed += speed_rows(f"scale corpus ({idx.live_count:,} passages, hash:512)", idx, qdrant,
                                        scale_questions, hashed)
                    c.close()
            else:
                speed += speed_rows(f"scale corpus ({idx.live_count:,} passages, hash:512)", idx, None,
                                    scale_questions, hashed)
    text = "\n".join([
        "## Search backends (issue 19)", "",
        f"Command: `{command}` (2-core machine, one thread). `qdrant` here is qdrant-client's local mode: the",
        "server's API run in pure Python in the bot's process, which is what CI can test. Its latencies are",
        "those of that Python emulation, not of a Qdrant server (which is Rust and needs a network round trip).",
        "",
        "### Answers", "",
        *answers, "",
        "### Fusion: this project's weighted fusion against Qdrant's", "",
        f"CMRC dev, the even-position articles indexed, the first {args.limit} questions about them; the gold",
        "paragraph's rank among the top 20 passages' paragraphs (0 if absent). Both fusions combine the same",
        f"dense top {K} and BM25 top {K}; the weighted sum needs each side's score of the other side's rows,",
        "so it runs in Python (embeddings/search.py) on the candidates the backend returns.", "",
        *fusion, "",
        "### Candidate search speed", "",
        f"The search alone (dense top {K} and BM25 top {K}; local and Qdrant also score each side's rows the",
        "other way, Edge does not). Overlap: the share of local's candidates Edge also returns.", "",
        "| corpus | engine | search p50 / p95 ms | overlap with local |", "|---|---|---|---|",
        *speed,
        *READING,
    ])
    print(text)
    if args.write:
        write_section("backends", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
