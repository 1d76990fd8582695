"""A build's peak memory at 10^6 passages (issue 20): the main process and each embedding worker; written to docs/benchmarks.md.

    python benchmarks/build_memory.py [--sizes 100000,1000000] [--work DIR] [--write]

The corpus is the scale benchmark's (real paragraphs, then synthetic ones up to the size). The build is
what `python -m bot index` runs: hash:512 vectors (the issue allows them here; the real encoder's rates
are in "Embedding in a build") on QUOTEBOT_BUILD_THREADS=2 worker processes. Each build runs in a fresh
child process; its peak RSS is read from the kernel (ru_maxrss), and its children's (the workers and
multiprocessing's resource tracker) from /proc (VmHWM) before the pool stops.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.report import command_line, read_logs, write_section
from benchmarks.scale import real_paragraphs, write_corpus

READING = [
    "",
    "Reading: the main process peaks while a segment's postings are made, ~330 MB over what it holds once the",
    "segment is embedded (one segment's documents, token ids and sentence token ids, ~980 MB at 10^5 passages).",
    "From 10^5 to 10^6 it grows by ~90 MB: the vocabulary (millions of terms, most of them bigrams of the",
    "synthetic paragraphs' random words), folded after each segment into a sorted array of ~52 bytes a term. A",
    "worker holds the encoder and one batch. Before the vocabulary was folded, the postings, texts, means and",
    "FAISS vectors were made a block at a time, the main process peaked at 1,771 MB (10^5) and 2,461 MB (10^6);",
    "the workers' column then read RUSAGE_CHILDREN, which counts a spawned worker's pages from before its exec",
    "(the parent's), and said ~1 GB. Both builds shared the machine with tests and other measurements for part",
    "of their time (the 10^6 cut took 1,489 s, against 882 s alone in the earlier run), so their seconds are high.",
]
ENCODER = "hash:512"
WORKERS = 2


def child(seeds: Path, index: Path) -> dict:
    from embeddings.index import build_index
    from embeddings.pool import EncoderPool

    rss_at: dict[str, float] = {}

    def step(name: str) -> None:
        if name not in rss_at:  # the peak so far, the first time each step is reached
            rss_at[name] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    t0 = time.perf_counter()
    with EncoderPool(ENCODER, WORKERS) as encoder:
        report = build_index(seeds, index, encoder, on_step=step)
        children = children_peaks_mb()  # the workers (and multiprocessing's resource tracker), still running
    return {"passages": report.passages, "seconds": time.perf_counter() - t0,
            "phases": {k: round(v, 1) for k, v in report.phases.items()},
            "segments": len([p for p in (index / "segments").iterdir()]),
            "main_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "worker_peak_mb": max(children, default=0.0), "children_peak_mb": sum(children),
            "peak_by_phase_mb": rss_at}


def children_peaks_mb() -> list[float]:
    """Each running child process's peak RSS (VmHWM), in MB. Not RUSAGE_CHILDREN: that counts a spawned
    worker's pages from before its exec, which are the parent's (it read ~the main process's RSS)."""
    peaks = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:  # ended meanwhile
            continue
        if int(fields.get("PPid", "0").strip() or 0) == os.getpid() and "VmHWM" in fields:
            peaks.append(int(fields["VmHWM"].split()[0]) / 1024)
    return peaks


def measure(sizes: str, work: Path | None) -> list[dict]:
    real, _ = real_paragraphs()
    rows = []
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        for size in (int(s) for s in sizes.split(",")):
            seeds, index = Path(tmp) / f"seeds-{size}", Path(tmp) / f"index-{size}"
            write_corpus(seeds, size, real)
            env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
            r = subprocess.run([sys.executable, "-m", "benchmarks.build_memory", "--child", str(seeds), str(index)],
                               env=env, capture_output=True, text=True)
            if r.returncode != 0:
                raise SystemExit(f"build failed:\n{r.stderr[-3000:]}")
            rows.append(json.loads(r.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
            shutil.rmtree(seeds)
            shutil.rmtree(index)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--work", type=Path, default=None, help="where corpora are written (default: a temp folder)")
    ap.add_argument("--from-log", type=Path, nargs="+", help="render the rows earlier runs printed instead")
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--child", nargs=2, metavar=("SEEDS", "INDEX"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(Path(args.child[0]), Path(args.child[1]))))
        return 0
    command = command_line("build_memory.py")
    if args.from_log:  # rows that earlier runs printed (stderr), each with its command
        rows, command = read_logs(args.from_log)
    else:
        print(json.dumps({"command": command}), file=sys.stderr, flush=True)
        rows = measure(args.sizes, args.work)
    lines = ["## Build memory (issue 20)", "",
             f"Command: `{command}` (2-core machine; `{ENCODER}` vectors, {WORKERS} embedding worker processes, "
             "each build in a fresh process).", "",
             "| passages | segments | build s (read / cut / embed / write) | main process peak RSS MB | "
             "largest worker's peak MB | main + every child's peak MB | main peak when every file was read MB |",
             "| ---: | ---: | --- | ---: | ---: | ---: | --- |"]
    for r in rows:
        ph, at = r["phases"], r["peak_by_phase_mb"]
        lines.append(f"| {r['passages']:,} | {r['segments']} | {r['seconds']:.0f} ({ph.get('read', 0):.0f} / "
                     f"{ph.get('cut', 0):.0f} / {ph.get('embed', 0):.0f} / {ph.get('write', 0):.0f}) | "
                     f"{r['main_peak_mb']:,.0f} | {r['worker_peak_mb']:,.0f} | "
                     f"{r['main_peak_mb'] + r.get('children_peak_mb', 0.0):,.0f} | "
                     f"{at.get('documents-read', 0):,.0f} |")
    text = "\n".join(lines + READING)
    print(text)
    if args.write:
        write_section("build_memory", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
