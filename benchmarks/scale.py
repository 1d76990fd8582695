"""Scale benchmark: build, load, answer and reindex at 10^3..10^6 passages, this project against two peers.

Corpora: every paragraph of the public sets (../shared/datasets), then synthetic paragraphs made of
words drawn from jieba's dictionary by frequency (labelled synthetic in the output) up to the size.
Questions: a fixed set from cmrc2018_dev whose paragraphs are in every corpus.

Each measurement runs in a fresh child process (peak RSS is the child's own). Vectors come from the
`hash:512` encoder at every size, for both systems, so that sizes can be compared and 10^6 is
buildable here; the production encoder's embedding rate is measured separately and reported.

    python benchmarks/scale.py --sizes 1000,10000,100000 --write
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DATASETS = ROOT.parent / "shared" / "datasets"
ENCODER = "hash:512"
QUESTIONS = 100
REPEATS, REPEAT_UP_TO = 3, 10_000  # sizes up to this are measured three times, taking turns with the peer
ARTICLES_PER_FILE = 1000


# --- corpora ------------------------------------------------------------------------------------


def real_paragraphs() -> tuple[list[str], list[dict]]:
    """All paragraphs of the public sets (question paragraphs first) and the fixed question set."""
    from bot.datasets import load_squad

    cmrc = load_squad(DATASETS / "cmrc2018_dev.json")
    rng = random.Random(7)
    picked = rng.sample(list(cmrc.questions), QUESTIONS)
    first = list(dict.fromkeys(q.paragraph for q in picked))
    rest = []
    for name in ("cmrc2018_dev.json", "drcd_dev.json", "cmrc2018_trial.json"):
        for art in load_squad(DATASETS / name).articles:
            rest += [p for p in art["paragraphs"] if p.strip()]
    paragraphs = list(dict.fromkeys(first + rest))
    questions = [{"question": q.text, "answers": list(q.answers)} for q in picked]
    return paragraphs, questions


def synthetic_paragraphs(n: int, seed: int = 11):
    """Paragraphs of 3-6 sentences of 6-16 words, words drawn by jieba dictionary frequency."""
    import jieba

    words, weights = [], []
    with open(Path(jieba.__file__).parent / "dict.txt", encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) >= 5:
                words.append(parts[0])
                weights.append(int(parts[1]))
    rng = random.Random(seed)
    cum = []
    total = 0
    for w in weights:
        total += w
        cum.append(total)
    import bisect

    for _ in range(n):
        sentences = []
        for _ in range(rng.randint(3, 6)):
            k = rng.randint(6, 16)
            picks = [words[bisect.bisect(cum, rng.random() * total)] for _ in range(k)]
            sentences.append("".join(picks) + "。")
        yield "".join(sentences)


def write_corpus(seeds: Path, size: int, real: list[str]) -> dict:
    """JSON article files under `seeds` holding about `size` passages (one paragraph per article)."""
    from embeddings.passages import MAX_CHARS

    seeds.mkdir(parents=True, exist_ok=True)
    articles, passages, n_real = [], 0, 0
    for p in real:
        if passages >= size:
            break
        articles.append(p)
        passages += max(1, -(-len(p) // MAX_CHARS))
        n_real += 1
    n_synth = max(0, size - passages)
    articles += list(synthetic_paragraphs(n_synth))
    for f in range(0, len(articles), ARTICLES_PER_FILE):
        chunk = [{"title": f"文章 {f + i}", "date": "2026-01-01", "body": text}
                 for i, text in enumerate(articles[f:f + ARTICLES_PER_FILE])]
        (seeds / f"part-{f // ARTICLES_PER_FILE:05d}.json").write_text(
            json.dumps({"articles": chunk}, ensure_ascii=False), encoding="utf-8")
    return {"real_paragraphs": n_real, "synthetic_paragraphs": n_synth}


# --- children: one measurement each, in a fresh process --------------------------------------------


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_build(seeds: Path, index: Path) -> dict:
    from embeddings.encoders import make_encoder
    from embeddings.index import build_index

    phases = {"documents-read": 0.0, "tokenised": 0.0, "embedded": 0.0}
    last = [time.perf_counter()]

    def on_step(name: str) -> None:  # each segment cuts, embeds, writes: sum the phases over segments
        now = time.perf_counter()
        key = name if name in phases else "write"
        phases[key] = phases.get(key, 0.0) + now - last[0]
        last[0] = now

    t0 = time.perf_counter()
    report = build_index(seeds, index, make_encoder(ENCODER), on_step=on_step)
    total = time.perf_counter() - t0
    return {"seconds": total, "passages": report.passages,
            "read_s": phases["documents-read"], "tokenise_s": phases["tokenised"], "embed_s": phases["embedded"],
            "write_s": phases.get("write", 0.0),
            "disk_mb": sum(f.stat().st_size for f in index.rglob("*") if f.is_file()) / 1e6,
            "rss_mb": peak_rss_mb()}


def child_query(index: Path, questions: list[dict], warm: bool) -> dict:
    """Load, answer one question (the cold start), then answer the set twice. With `warm`, first
    do what `serve` does in the background after loading (timed): read the index into the page
    cache and, for a small index, prepare every passage's derived data; so the figures are those of
    a bot that has been up a little while. Without, pages come from wherever they are."""
    t0 = time.perf_counter()
    from bot.engine import RETRIEVE_K, Engine, warm_up
    from bot.evaluate import contains_answer
    from bot.settings import Settings
    from embeddings.encoders import make_encoder
    from embeddings.warm import default_budget

    encoder = make_encoder(ENCODER)
    # The bot's one answering path (Engine.answer): what a reader waits for, form and extra searches included.
    engine = Engine(Settings(seeds_dir=index, index_dir=index, encoder=ENCODER), encoder=encoder)
    engine.ensure_index(build=False)
    idx, searcher, composer = engine.loaded.index, engine.loaded.searcher, engine.loaded.composer
    engine.answer(questions[0]["question"])
    cold = time.perf_counter() - t0
    warmed = {}
    if warm:
        t0 = time.perf_counter()
        done = warm_up(engine.loaded, default_budget())
        warmed = {"warm_s": time.perf_counter() - t0, "warm_mb": done["bytes"] / 1e6, "prepared": done["prepared"]}
    total_ms, hits1 = [], 0
    for q in questions * 2:  # the second round is what a warm bot sees; both are counted
        t1 = time.perf_counter()
        answer = engine.answer(q["question"])
        total_ms.append((time.perf_counter() - t1) * 1000)
        hits1 += bool(answer.quotes) and contains_answer(answer.quotes[0].text, tuple(q["answers"]))
    search_ms, compose_ms = [], []
    for q in questions:  # the two stages apart, for the record (the lookups' retrieval depth)
        t1 = time.perf_counter()
        qv = searcher.query_vector(q["question"])
        hits = searcher.search(q["question"], k=RETRIEVE_K, query_vector=qv)
        t2 = time.perf_counter()
        composer.compose(q["question"], hits, qv)
        search_ms.append((t2 - t1) * 1000)
        compose_ms.append((time.perf_counter() - t2) * 1000)
    rss = peak_rss_mb()
    split = memory_split()
    first = total_ms[1:len(questions)]  # asked for the first time (the first was, for the cold start)
    return {"cold_s": cold, **warmed, "anon_mb": split.get("RssAnon"), "file_mb": split.get("RssFile"),
            **pct("answer", total_ms), **pct("answer_new", first), **pct("search", search_ms), **pct("compose", compose_ms),
            "quote1": hits1 / (2 * len(questions)), "rss_mb": rss, "segments": len(idx.segments),
            "dense_recall": dense_recall(idx, searcher, questions[:20])}


def memory_split() -> dict:
    """Resident memory now, split into private (anonymous) and file-backed pages (mapped index files:
    page cache the kernel can drop under pressure), from /proc/self/status, in MB."""
    out = {}
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("RssAnon", "RssFile"):
                    out[key] = int(value.split()[0]) / 1024
    except (OSError, ValueError):
        pass
    return out


def dense_recall(idx, searcher, questions: list[dict], k: int = 50) -> float:
    """Share of the exact top-k dense neighbours (all live vectors) that the index's FAISS search returns."""
    import numpy as np

    live = np.flatnonzero(idx.live)
    got = []
    for q in questions:
        qv = searcher.query_vector(q["question"])
        exact = []
        for start in range(0, len(live), 50_000):
            rows = live[start:start + 50_000]
            sims = idx.vectors(rows) @ qv
            exact += list(zip(sims.tolist(), rows.tolist()))
        exact.sort(key=lambda x: (-x[0], x[1]))
        truth = {r for _, r in exact[:k]}
        got.append(len(truth & set(idx.dense_search(qv, k))) / len(truth))
    return sum(got) / len(got)


def child_reindex(seeds: Path, index: Path) -> dict:
    from embeddings.encoders import make_encoder
    from embeddings.index import build_index

    files = sorted(seeds.glob("part-*.json"))
    target = files[len(files) // 2]  # a full file of ARTICLES_PER_FILE articles (the last one may be short)
    data = json.loads(target.read_text(encoding="utf-8"))
    data["articles"][0]["body"] += "这是一处修改。"
    target.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    from embeddings.index import Index

    encoder = make_encoder(ENCODER)
    before = Index.load(index, encoder.id)
    t0 = time.perf_counter()
    report = build_index(seeds, index, encoder)
    t1 = time.perf_counter()
    Index.load(index, encoder.id, previous=before)  # what the running bot does next: swap in the new generation
    return {"seconds": t1 - t0, "reload_s": time.perf_counter() - t1, "embedded": report.embedded,
            "retokenized": report.retokenized, "rss_mb": peak_rss_mb()}


# --- the naive peer: rank_bm25 + jieba + a flat dense index rebuilt on every change -------------------


def naive_passages(seeds: Path) -> list[str]:
    out = []
    for f in sorted(seeds.glob("part-*.json")):
        out += [a["body"] for a in json.loads(f.read_text(encoding="utf-8"))["articles"]]
    return out


def naive_build(seeds: Path, library: str = "rank_bm25"):
    """The peer's index: jieba tokens into rank_bm25 (the naive peer) or bm25s (the fair one), and a flat
    FAISS index of the same vectors this project uses, embedded on the same two worker processes.

    Vectors of a slow encoder are embedded once per corpus and kept beside it (peer-vectors.npy): later
    children load them and count the embedding seconds that first build measured."""
    import faiss
    import jieba
    import numpy as np

    from embeddings.pool import EncoderPool

    texts = naive_passages(seeds)
    t0 = time.perf_counter()
    tokens = [jieba.lcut(t) for t in texts]
    if library == "bm25s":
        import bm25s

        bm25 = bm25s.BM25()
        bm25.index(tokens, show_progress=False)
    else:
        from rank_bm25 import BM25Okapi

        bm25 = BM25Okapi(tokens)
    t1 = time.perf_counter()
    cache, timing = seeds.parent / "peer-vectors.npy", seeds.parent / "peer-vectors.json"
    if ENCODER.startswith("hash") or not cache.exists():
        with EncoderPool(ENCODER, 2) as encoder:
            vectors = encoder.encode(texts)
        embed_s = time.perf_counter() - t1
        if not ENCODER.startswith("hash"):
            np.save(cache, vectors)
            timing.write_text(json.dumps({"embed_s": embed_s}), encoding="utf-8")
    else:
        vectors = np.load(cache)
        embed_s = json.loads(timing.read_text(encoding="utf-8"))["embed_s"]
    t2 = time.perf_counter()
    dense = faiss.IndexFlatIP(vectors.shape[1])
    dense.add(vectors)
    add_s = time.perf_counter() - t2
    return texts, bm25, dense, {"tokenise_s": t1 - t0, "embed_s": embed_s, "seconds": t1 - t0 + embed_s + add_s}


def child_naive(seeds: Path, questions: list[dict], library: str = "rank_bm25") -> dict:
    import re

    import jieba
    import numpy as np

    from bot.evaluate import contains_answer
    from embeddings.encoders import make_encoder

    texts, bm25, dense, build = naive_build(seeds, library)
    encoder = make_encoder(ENCODER)
    total_ms, hits1 = [], 0
    for q in questions:
        t1 = time.perf_counter()
        words = jieba.lcut(q["question"])
        if library == "bm25s":
            known = bm25.get_tokens_ids(words)
            scores = bm25.get_scores_from_ids(known) if known else np.zeros(len(texts))
        else:
            scores = bm25.get_scores(words)
        dense.search(encoder.encode([q["question"]]), 8)
        best = texts[int(np.argmax(scores))]
        sentences = [s for s in re.split(r"(?<=[。！？])", best) if s.strip()]
        qs = set(words)
        quote = max(sentences, key=lambda s: len(qs & set(jieba.lcut(s)))) if sentences else ""
        total_ms.append((time.perf_counter() - t1) * 1000)
        hits1 += contains_answer(quote, tuple(q["answers"]))
    # A change means a rebuild from scratch: that is the peer's reindex time.
    _, _, _, rebuild = naive_build(seeds, library)
    return {"build": build, "reindex_s": rebuild["seconds"], **pct("answer", total_ms),
            "quote1": hits1 / len(questions), "rss_mb": peak_rss_mb()}


def pct(name: str, values: list[float]) -> dict:
    from bot.chat import percentile

    v = sorted(values)
    return {f"{name}_p50_ms": statistics.median(v), f"{name}_p95_ms": percentile(v, 0.95),
            f"{name}_p99_ms": percentile(v, 0.99)}


def run_child(kind: str, *args: str) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    r = subprocess.run([sys.executable, __file__, "--child", kind, *args], env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{kind} child failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def drop_page_cache() -> bool:
    """Empty the kernel's page cache (needs root); False where not allowed."""
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w", encoding="ascii") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


# --- the run ------------------------------------------------------------------------------------------


def use_rate() -> float:
    """Passages per second through the production encoder (USE multilingual), one thread."""
    from embeddings.encoders import make_encoder

    paragraphs, _ = real_paragraphs()
    texts = [p[:300] for p in paragraphs[:512]]
    enc = make_encoder("use", threads=1)
    enc.encode(texts[:16])
    t0 = time.perf_counter()
    enc.encode(texts)
    return len(texts) / (time.perf_counter() - t0)


def measure(size: int, work: Path, real: list[str], questions_file: Path, peer: bool, keep: bool = False) -> dict:
    """One row. With `keep`, the corpus and index stay in `work`, and a later run reuses the build
    (its figures are those of the run that built it) to measure the query side again."""
    seeds, index, built = work / "seeds", work / "index", work / "build.json"
    if keep and built.exists():
        row = json.loads(built.read_text(encoding="utf-8"))
        row["build"]["reused"] = True  # and row["reindexed"]: one-file reindexes earlier runs applied to it
    else:
        if work.exists():
            shutil.rmtree(work)
        composition = write_corpus(seeds, size, real)
        row = {"size": size, **composition}
        row["build"] = run_child("build", str(seeds), str(index))
        if keep:
            built.write_text(json.dumps(row), encoding="utf-8")
    # Pages dropped first where allowed (root), so "cold" is cold; then again after a warm-up.
    row["query_cold"] = {"dropped": drop_page_cache(), **run_child("query", str(index), str(questions_file), "cold")}
    # Where answers take milliseconds, the machine's drift between two measurements minutes apart
    # is as large as the difference measured: this project and the peer take turns, REPEATS times,
    # and the run with the median p50 of each is kept (all p50s are recorded).
    ours, theirs, fair = [], [], []
    for _ in range(REPEATS if size <= REPEAT_UP_TO else 1):
        ours.append(run_child("query", str(index), str(questions_file), "warm"))
        if peer:
            theirs.append(run_child("naive", str(seeds), str(questions_file)))
            fair.append(run_child("bm25s", str(seeds), str(questions_file)))
    row["query"] = {**median_run(ours), "runs_p50_ms": [q["answer_p50_ms"] for q in ours]}
    if peer:
        row["peer"] = {**median_run(theirs), "runs_p50_ms": [q["answer_p50_ms"] for q in theirs]}
        row["peer_bm25s"] = {**median_run(fair), "runs_p50_ms": [q["answer_p50_ms"] for q in fair]}
    row["reindex"] = run_child("reindex", str(seeds), str(index))
    if keep:
        kept = json.loads(built.read_text(encoding="utf-8"))
        kept["reindexed"] = kept.get("reindexed", 0) + 1
        built.write_text(json.dumps(kept), encoding="utf-8")
    if not keep:
        shutil.rmtree(work)
    return row


def median_run(runs: list[dict]) -> dict:
    return sorted(runs, key=lambda r: r["answer_p50_ms"])[len(runs) // 2]


def render(rows: list[dict], rate: float, command: str) -> str:
    def f(x, nd=1):
        return "-" if x is None else f"{x:,.{nd}f}"

    lines = [
        f"Command: `{command}` (2-core machine, one thread each; each figure from a fresh process).",
        "",
        "Corpora: all paragraphs of CMRC 2018 dev/trial and DRCD dev (real), then **synthetic** paragraphs of",
        "words drawn from jieba's dictionary by frequency up to the size. 100 fixed CMRC dev questions (asked",
        "twice; first-time: the first round alone) whose paragraphs are in every corpus. Vectors: `hash:512` for both systems at every size",
        f"(the production encoder embeds {rate:.0f} passages/s on one thread here; its builds and answers at 10^4",
        "and 10^5 are in \"Scale with the production encoder\").",
        "",
        "| passages | real / synthetic ¶ | build s (tokenise / embed / write) | passages/s | disk MB | build RSS MB | segments | cold start s (page cache dropped / not) | cold-cache answer p50 / p95 ms | warm-up s (MB read) | answer p50 / p95 / p99 ms | first-time p50 ms | search p50 ms | compose p50 ms | dense recall@50 | reindex 1 file s (+ swap) | query peak RSS MB (private / mapped files at the end) | quote@1 |",
        "| ---: | --- | --- | ---: | ---: | ---: | ---: | --- | --- | --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for r in rows:
        b, q, x, c = r["build"], r["query"], r["reindex"], r.get("query_cold", {})
        lines.append(
            f"| {b['passages']:,} | {r['real_paragraphs']:,} / {r['synthetic_paragraphs']:,} | {f(b['seconds'])} "
            f"({f(b['tokenise_s'])} / {f(b['embed_s'])} / {f(b['write_s'])}) | {f(b['passages'] / b['seconds'], 0)} | "
            f"{f(b['disk_mb'])} | {f(b['rss_mb'], 0)} | {q['segments']} | {f(c.get('cold_s'), 2)} / {f(q['cold_s'], 2)} | "
            f"{f(c.get('answer_p50_ms'))} / {f(c.get('answer_p95_ms'))} | {f(q.get('warm_s'), 1)} ({f(q.get('warm_mb'), 0)}) | "
            f"{f(q['answer_p50_ms'])} / "
            f"{f(q['answer_p95_ms'])} / {f(q['answer_p99_ms'])} | {f(q.get('answer_new_p50_ms'))} | {f(q['search_p50_ms'])} | "
            f"{f(q['compose_p50_ms'])} | "
            f"{q['dense_recall']:.3f} | {f(x['seconds'], 2)} (+ {f(x['reload_s'], 2)}) | {f(q['rss_mb'], 0)} "
            f"({f(q.get('anon_mb'), 0)} / {f(q.get('file_mb'), 0)}) | {q['quote1']:.2f} |")
    repeated = [r for r in rows if len(r["query"].get("runs_p50_ms", [])) > 1]
    if repeated:
        lines += ["", "At " + ", ".join(f"{r['build']['passages']:,}" for r in repeated) + " passages each system was "
                  f"measured {REPEATS} times, taking turns; the table shows the run with the median p50. All p50s (ms): "
                  + "; ".join(f"{r['build']['passages']:,}: this project " + ", ".join(f"{x:.1f}" for x in r["query"]["runs_p50_ms"])
                              + (", peer " + ", ".join(f"{x:.1f}" for x in r["peer"]["runs_p50_ms"]) if "peer" in r else "")
                              + (", bm25s peer " + ", ".join(f"{x:.1f}" for x in r["peer_bm25s"]["runs_p50_ms"])
                                 if "peer_bm25s" in r else "")
                              for r in repeated) + "."]
    if any(r.get("query_cold", {}).get("dropped") is False for r in rows):
        lines += ["", "The page cache could not be dropped (not root): the cold figures are with pages as found."]
    reused = [r for r in rows if r["build"].get("reused")]
    if reused:
        lines += ["", "Build figures at " + ", ".join(f"{r['build']['passages']:,}" for r in reused) + " passages are "
                  "those of an earlier run that built the kept index (`--keep`); everything else was measured in this "
                  "run, on that index after " + ", ".join(str(r.get("reindexed", 0)) for r in reused) + " earlier "
                  "one-file reindex(es) (each leaves the changed file in a small segment of its own)."]
    for key, name in (("peer", "Naive peer (rank_bm25 + jieba + flat FAISS, rebuilt on every change)"),
                      ("peer_bm25s", "Fair peer (bm25s + jieba + flat FAISS, rebuilt on every change; the same quoting)")):
        lines += peer_table(rows, key, name)
    return "\n".join(lines)


def peer_table(rows: list[dict], key: str, name: str) -> list[str]:
    def f(x, nd=1):
        return "-" if x is None else f"{x:,.{nd}f}"

    lines: list[str] = []
    if any(key in r for r in rows):
        lines += ["", f"{name} on the same corpora and questions,",
                  "and the ratio peer ÷ this project (above 1: this project is faster):", "",
                  "| passages | peer build s | peer answer p50 / p95 ms | peer reindex s | peer RSS MB | peer quote@1 | build ratio | answer p50 ratio | first-time p50 ratio | reindex ratio |",
                  "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for r in rows:
            if key not in r:
                lines.append(f"| {r['build']['passages']:,} | not run (--peer-max) | | | | | | | | |")
                continue
            p, b, q, x = r[key], r["build"], r["query"], r["reindex"]
            lines.append(
                f"| {b['passages']:,} | {f(p['build']['seconds'])} | {f(p['answer_p50_ms'])} / {f(p['answer_p95_ms'])} | "
                f"{f(p['reindex_s'])} | {f(p['rss_mb'], 0)} | {p['quote1']:.2f} | {p['build']['seconds'] / b['seconds']:.2f} | "
                f"{p['answer_p50_ms'] / q['answer_p50_ms']:.2f} | "
                f"{f(p['answer_p50_ms'] / q['answer_new_p50_ms'] if q.get('answer_new_p50_ms') else None, 2)} | "
                f"{p['reindex_s'] / x['seconds']:.2f} |")
    return lines


def plot(rows: list[dict], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["build"]["passages"] for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    a.plot(sizes, [r["query"]["answer_p50_ms"] for r in rows], "o-", label="quotebot p50")
    a.plot(sizes, [r["query"]["answer_p95_ms"] for r in rows], "o--", label="quotebot p95")
    cold = [r for r in rows if "query_cold" in r]
    if cold:
        dropped = all(r["query_cold"].get("dropped") for r in cold)
        a.plot([r["build"]["passages"] for r in cold], [r["query_cold"]["answer_p50_ms"] for r in cold], "o:",
               label="quotebot p50, page cache " + ("dropped" if dropped else "as found (not dropped)"))
    peer = [r for r in rows if "peer" in r]
    if peer:
        a.plot([r["build"]["passages"] for r in peer], [r["peer"]["answer_p50_ms"] for r in peer], "s-", label="naive peer p50")
    a.set(xscale="log", yscale="log", xlabel="passages", ylabel="answer latency (ms)", title="Answer latency")
    a.legend()
    b.plot(sizes, [r["build"]["seconds"] for r in rows], "o-", label="quotebot build")
    b.plot(sizes, [r["reindex"]["seconds"] for r in rows], "o--", label="quotebot reindex 1 file")
    if peer:
        b.plot([r["build"]["passages"] for r in peer], [r["peer"]["build"]["seconds"] for r in peer], "s-",
               label="naive peer build (= its reindex)")
    b.set(xscale="log", yscale="log", xlabel="passages", ylabel="seconds", title="Build and reindex time")
    b.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated passage counts")
    parser.add_argument("--peer-max", type=int, default=100000, help="largest size the naive peer runs at")
    parser.add_argument("--write", action="store_true", help="write the section of docs/benchmarks.md and the plot")
    parser.add_argument("--from-log", type=Path, help="render the rows a run printed (one JSON object per line) "
                        "instead of measuring; with --write, rewrite the section from them")
    parser.add_argument("--keep", type=Path, help="keep corpora and indexes in this folder; a later run with the "
                        "same folder reuses each size's build and measures the rest again")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "build":
            out = child_build(Path(rest[0]), Path(rest[1]))
        elif kind == "query":
            out = child_query(Path(rest[0]), json.loads(Path(rest[1]).read_text(encoding="utf-8")), rest[2] == "warm")
        elif kind == "reindex":
            out = child_reindex(Path(rest[0]), Path(rest[1]))
        else:
            out = child_naive(Path(rest[0]), json.loads(Path(rest[1]).read_text(encoding="utf-8")),
                              "bm25s" if kind == "bm25s" else "rank_bm25")
        print(json.dumps(out))
        return 0
    if args.from_log:
        lines = args.from_log.read_text(encoding="utf-8").splitlines()
        rows = [json.loads(line) for line in lines if line.startswith('{"size"')]
        meta = json.loads(next((line for line in lines if line.startswith('{"command"')), "{}") or "{}")
        text = render(rows, meta.get("use_rate", use_rate()), meta.get("command", "?"))
        print(text)
        if args.write:
            write(rows, text)
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    real, questions = real_paragraphs()
    rate = use_rate()
    command = "python benchmarks/scale.py " + " ".join(sys.argv[1:])
    print(json.dumps({"command": command, "use_rate": rate}), flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="quotebot-scale-") as tmp:
        qfile = Path(tmp) / "questions.json"
        qfile.write_text(json.dumps(questions, ensure_ascii=False), encoding="utf-8")
        for size in sizes:
            work = (args.keep or Path(tmp)) / f"n{size}"
            row = measure(size, work, real, qfile, peer=size <= args.peer_max, keep=args.keep is not None)
            print(json.dumps(row), flush=True)
            rows.append(row)
            text = render(rows, rate, command)
            if args.write:  # after every size, so a long run's finished sizes are kept if it is cut short
                write(rows, text)
    print(text)
    return 0


def write(rows: list[dict], text: str) -> None:
    from benchmarks.report import write_section

    plot(rows, ROOT / "docs" / "scale.png")
    write_section("scale", "## Scale: 10^3 to 10^6 passages\n\n" + text
                  + "\n\n![latency and build time against corpus size](scale.png)")


if __name__ == "__main__":
    sys.exit(main())
