"""The scale benchmark with the production encoder (issue 20): build, resume, and answers beside both peers.

    python benchmarks/scale_real.py [--sizes 10000,100000] [--resume-at 10000] [--build-sizes N,...] [--write]

The corpus is the scale benchmark's (benchmarks/scale.py: real paragraphs, then synthetic ones up to the
size) and so are the 100 questions. Everything uses USE multilingual, the default encoder:
- build: `python -m bot index --json`, the command a user runs (two embedding worker processes);
- resume: the same command killed (SIGKILL) at half of that build's time, then run again to the end;
- answers: `Engine.answer` with the real question encoder (one thread), three runs taking turns with
  the peers, the run with the median p50 shown; the peers (rank_bm25 or bm25s over jieba tokens, a flat
  FAISS index of the same encoder's passage vectors, the best sentence of the top passage) encode each
  question with the same encoder.
`--build-sizes` measures the build alone at more sizes (no answers, no peers).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import scale
from benchmarks.report import command_line, read_logs, write_section

ENCODER = "use"
ROOT = Path(__file__).resolve().parent.parent
READING = [
    "",
    "A peer's build embeds each passage whole (on the same two worker processes) and nothing else; this project",
    "embeds every sentence (its passage vectors are their means) and cuts, writes and publishes segments. A",
    "peer's build time is also its reindex time: it has no incremental update.",
    "",
    "Reading: with the real encoder, 10^4 passages build in under a minute and 10^5 in under five. The two",
    "sizes were measured in different sessions, and the machine was ~20% slower for the 10^4 run (the peers'",
    "identical builds took 34.8 s there, 28.8 s in the session of the 10^5 run); compare within a size. A build",
    "killed at half time finished in 0.64 of a full build (0.59 in an earlier run of the same size): the journal",
    "gives back every cut and the vectors made, but at half time the embedding is only ~30% done, since reading",
    "and cutting come first. At 10^5 this project answers faster than the bm25s peer with better quotes; at 10^4",
    "bm25s answers in about a third of the time: its whole work is one sparse product and one sentence choice, where Engine.answer",
    "also reads the question (kind, typos, names), fuses BM25 with dense search, folds near-duplicates and",
    "scores every sentence of the top passages for the quote and the abstention decision.",
]
ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", QUOTEBOT_ENCODER=ENCODER)


def index_command(seeds: Path, index: Path) -> list[str]:
    return [sys.executable, "-m", "bot", "index", "--seeds", str(seeds), "--index", str(index), "--json"]


def build(seeds: Path, index: Path) -> dict:
    """The index command, timed from outside; its own report (phases) and the largest process's peak RSS."""
    t0 = time.perf_counter()
    r = subprocess.run(index_command(seeds, index), env=ENV, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"index failed:\n{r.stderr[-3000:]}")
    report = json.loads(r.stdout.strip().splitlines()[-1])
    import resource

    return {"seconds": seconds, "passages": report["passages"], "phases": report["phases"], "resumed": report["resumed"],
            "rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def resume(seeds: Path, index: Path, full_s: float) -> dict:
    """Kill the index command at half of `full_s`, then run it again; seconds of the second run."""
    shutil.rmtree(index, ignore_errors=True)
    proc = subprocess.Popen(index_command(seeds, index), env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=ROOT, start_new_session=True)
    time.sleep(full_s / 2)
    os.killpg(proc.pid, signal.SIGKILL)  # the workers too, as a reboot would
    proc.wait()
    again = build(seeds, index)
    return {"killed_at_s": full_s / 2, "resumed_s": again["seconds"], "ratio": again["seconds"] / full_s,
            "phases": again["phases"], "vectors_resumed": again["resumed"]}


def child(kind: str, *args: str) -> dict:
    r = subprocess.run([sys.executable, "-m", "benchmarks.scale_real", "--child", kind, *args], env=ENV,
                       capture_output=True, text=True, cwd=ROOT)
    if r.returncode != 0:
        raise SystemExit(f"{kind} child failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def measure(size: int, work: Path, real: list[str], questions: Path, with_resume: bool) -> dict:
    seeds, index = work / "seeds", work / "index"
    row = {"size": size, **scale.write_corpus(seeds, size, real)}
    row["build"] = build(seeds, index)
    if with_resume:
        row["resume"] = resume(seeds, index, row["build"]["seconds"])
    ours, naive, fair = [], [], []
    for _ in range(3):
        ours.append(child("query", str(index), str(questions)))
        naive.append(child("naive", str(seeds), str(questions)))
        fair.append(child("bm25s", str(seeds), str(questions)))
    for key, runs in (("query", ours), ("peer", naive), ("peer_bm25s", fair)):
        row[key] = {**scale.median_run(runs), "runs_p50_ms": [q["answer_p50_ms"] for q in runs]}
    return row


def render(rows: list[dict], builds: list[dict], command: str) -> str:
    lines = ["## Scale with the production encoder (issue 20)", "",
             f"Command: `{command}` (2-core machine; USE multilingual for every system; questions on one thread).", "",
             "Build: `python -m bot index --json` on the scale benchmark's corpus (real paragraphs, then synthetic "
             "ones), two embedding worker processes; resume: the same command SIGKILLed at half its build time, "
             "then run again.", "",
             "| passages | build s (read / cut / embed / write) | passages/s | build peak RSS MB (largest process) | "
             "resumed after a kill at 50%: s (÷ full build) |",
             "| ---: | --- | ---: | ---: | --- |"]
    for b in [r["build"] for r in rows] + builds:
        ph = b["phases"]
        res = next((r.get("resume") for r in rows if r["build"] is b), None)
        lines.append(f"| {b['passages']:,} | {b['seconds']:.1f} ({ph.get('read', 0):.1f} / {ph.get('cut', 0):.1f} / "
                     f"{ph.get('embed', 0):.1f} / {ph.get('write', 0):.1f}) | {b['passages'] / b['seconds']:.0f} | "
                     f"{b['rss_mb']:,.0f} | "
                     + (f"{res['resumed_s']:.1f} ({res['ratio']:.2f}; {res['vectors_resumed']:,} vectors from the journal)"
                        if res else "not measured") + " |")
    lines += ["", "Answers (100 CMRC dev questions whose paragraphs are in the corpus, asked twice by this project, "
              "once by the peers; the real question encoder included everywhere):", "",
              "| passages | system | build s (= a peer's reindex) | answer p50 / p95 ms | quote@1 | all p50s (ms) |",
              "| ---: | --- | ---: | --- | ---: | --- |"]
    for r in rows:
        for key, name in (("query", "this project (Engine.answer)"), ("peer_bm25s", "bm25s + FAISS peer"),
                          ("peer", "rank_bm25 + FAISS peer")):
            q = r[key]
            built = r["build"]["seconds"] if key == "query" else q["build"]["seconds"]
            lines.append(f"| {r['build']['passages']:,} | {name} | {built:.1f} | {q['answer_p50_ms']:.1f} / "
                         f"{q['answer_p95_ms']:.1f} | {q['quote1']:.2f} | {', '.join(f'{x:.1f}' for x in q['runs_p50_ms'])} |")
    return "\n".join(lines + READING)


def run(args) -> tuple[list[dict], list[dict]]:
    real, questions = scale.real_paragraphs()
    rows, builds = [], []
    with tempfile.TemporaryDirectory(prefix="quotebot-scale-real-") as tmp:
        qfile = Path(tmp) / "questions.json"
        qfile.write_text(json.dumps(questions, ensure_ascii=False), encoding="utf-8")
        for size in (int(s) for s in args.sizes.split(",") if s):
            rows.append(measure(size, Path(tmp) / f"n{size}", real, qfile, with_resume=size == args.resume_at))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
            shutil.rmtree(Path(tmp) / f"n{size}")
        for size in (int(s) for s in args.build_sizes.split(",") if s):
            work = Path(tmp) / f"b{size}"
            scale.write_corpus(work / "seeds", size, real)
            builds.append(build(work / "seeds", work / "index"))
            print(json.dumps(builds[-1]), file=sys.stderr, flush=True)
            shutil.rmtree(work)
    return rows, builds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000", help="sizes to measure everything at, comma-separated")
    ap.add_argument("--resume-at", type=int, default=10000, help="the size whose build is also killed and resumed")
    ap.add_argument("--build-sizes", default="", help="sizes to measure the build alone at, comma-separated")
    ap.add_argument("--from-log", type=Path, nargs="+", help="render the rows earlier runs printed (stderr) instead")
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        scale.ENCODER = ENCODER
        kind, *rest = args.child
        questions = json.loads(Path(rest[1]).read_text(encoding="utf-8"))
        out = (scale.child_query(Path(rest[0]), questions, warm=True) if kind == "query"
               else scale.child_naive(Path(rest[0]), questions, "bm25s" if kind == "bm25s" else "rank_bm25"))
        print(json.dumps(out))
        return 0
    command = command_line("scale_real.py")
    if args.from_log:
        logged, command = read_logs(args.from_log)
        rows = [r for r in logged if "size" in r]
        builds = [r for r in logged if "size" not in r]
    else:
        print(json.dumps({"command": command}), file=sys.stderr, flush=True)
        rows, builds = run(args)
    text = render(rows, builds, command)
    print(text)
    if args.write:
        write_section("scale_real", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
