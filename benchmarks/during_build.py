"""Answer latency while a reindex runs in the same process, by the threads the build embeds with (issue 20).

    python benchmarks/during_build.py [--passages 2000] [--write]

The bot answers from its loaded index while `/reindex` builds the next generation on another thread.
Here an engine over CMRC dev articles answers 100 CMRC questions with nothing else running, then
again while it rebuilds the whole index (`reindex(force=True)`) with QUOTEBOT_BUILD_THREADS one (the
encoder on one thread) and two (two worker processes): the answers' p50/p95 and the build's seconds.
Real encoder (USE multilingual) throughout.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.report import write_section
from bot.chat import percentile
from bot.datasets import load_squad, write_articles
from bot.engine import Engine, limit_threads
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ROOT.parent / "shared" / "datasets"
READING = [
    '',
    'Reading: QUOTEBOT_BUILD_THREADS=2 embeds on two worker processes of one thread each (embeddings/pool.py).',
    'They build about 1.4-1.5 times faster than one thread, alone or while the bot answers; while it answers,',
    "the answers' p50 rises by about a third and their p95 doubles, as the workers take the answering core",
    "half the time. So `index` and a bot's first build (nobody is waiting for answers yet) use the workers,",
    "and the chat's /reindex embeds on the questions' one thread: a reader's wait matters more than the",
    "admin's.",
]


def latencies(engine: Engine, questions: list[str], until: threading.Event | None = None) -> list[float]:
    """Answer the questions in turn (round after round while `until` is unset, else once); ms each."""
    out = []
    while True:
        for q in questions:
            t0 = time.perf_counter()
            engine.answer(q)
            out.append((time.perf_counter() - t0) * 1000)
            if until is not None and until.is_set():
                return out
        if until is None:
            return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=200, help="CMRC dev articles indexed")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    command = "python benchmarks/during_build.py " + " ".join(sys.argv[1:])
    ds = load_squad(DATASETS / "cmrc2018_dev.json")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        seeds = Path(tmp) / "seeds"
        chosen = set(write_articles(ds, seeds, which="all")[:args.articles])
        for f in seeds.glob("*.json"):
            if int(f.stem.split("_")[-1]) not in chosen:
                f.unlink()
        questions = [q.text for q in ds.questions if q.article in chosen][:100]
        for build_threads in (1, 2):
            settings = Settings(seeds_dir=seeds, index_dir=Path(tmp) / f"index{build_threads}", threads=1,
                                build_threads=build_threads)
            engine = Engine(settings)
            first = engine.ensure_index()
            limit_threads(1)
            idle = latencies(engine, questions)
            done = threading.Event()
            took = {}

            def build() -> None:
                t0 = time.perf_counter()
                engine.reindex(force=True)
                took["s"] = time.perf_counter() - t0
                done.set()

            worker = threading.Thread(target=build)
            worker.start()
            during = latencies(engine, questions, until=done)
            worker.join()
            for label, ms in (("idle", idle), ("during the build", during)):
                ms = sorted(ms)
                rows.append(f"| {build_threads} | {label} | {len(ms)} | {statistics.median(ms):.1f} / "
                            f"{percentile(ms, 0.95):.1f} | {took['s'] if label != 'idle' else first.seconds:.1f} |")
            print(rows[-2:], file=sys.stderr)
            passages = first.passages
    text = "\n".join([
        "## Answers while a reindex runs (issue 20)", "",
        f"Command: `{command}` (2-core machine; {passages:,} passages of {args.articles} CMRC dev articles, real",
        "encoder; the answering thread uses one core). Build s: the first build (idle rows) and the forced",
        "rebuild that ran during the answers.", "",
        "| build threads | answers | answered | answer p50 / p95 ms | build s |", "|---:|---|---:|---|---:|",
        *rows,
        *READING,
    ])
    print(text)
    if args.write:
        write_section("during_build", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
