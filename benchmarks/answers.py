"""Quoting and abstention on the dev sets, next to the naive baseline, written to docs/benchmarks.md.

    python benchmarks/answers.py [--limit 600] [--write]

Runs the same evaluation as `python -m bot eval` (half the articles indexed, questions asked of
both halves) on cmrc2018_dev.json and drcd_dev.json, and the naive peer (BM25's top paragraph,
then its sentence sharing the most words; never abstains) on the same questions.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks.report import write_section
from bot.answer import load_calibration
from bot.evaluate import run_eval, summarise, tradeoff
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent

DATASETS = ROOT.parent / "shared" / "datasets"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=["cmrc2018_dev", "drcd_dev"])
    ap.add_argument("--limit", type=int, default=600, help="questions from each half (0 = all)")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    calib = load_calibration()
    rows, curves = [], []
    for name in args.datasets:
        ds, records, build_s, passages = run_eval(DATASETS / f"{name}.json", Settings(), limit=args.limit or None)
        s = summarise(records)
        s.update({"name": name, "build_s": build_s, "passages": passages})
        rows.append(s)
        curves.append((name, tradeoff(records)))
        print(name, {k: (round(v, 3) if isinstance(v, float) else v) for k, v in s.items()}, file=sys.stderr)
    lim = f" --limit {args.limit}" if args.limit else " --limit 0"
    out = [
        "## Answers (issue 4)",
        "",
        f"Command: `python benchmarks/answers.py --write{lim}` (same as `python -m bot eval FILE{lim if args.limit else ''}`"
        " per set). Even-position articles are indexed,",
        "odd ones held out; `--limit` questions are asked from each half. quote@1: the first quote holds a gold",
        "answer (an abstention counts as a miss); quote@3: one of the top three candidate quotes does;",
        "the naive peer is BM25's top paragraph and its sentence sharing the most words, never abstaining.",
        f"Abstention threshold {calib.get('threshold')} and scorer weights fitted on {calib.get('fitted_on')}"
        " by `python benchmarks/calibrate.py` (the dev sets are only measured).",
        "",
        "| set | answerable / held-out | R@1 | R@5 | MRR | quote@1 | quote@1 (answered) | quote@3 | naive quote@1 | answer rate | abstention (held-out) | p50 ms | p95 ms | index build s | all quotes verbatim |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in rows:
        out.append(
            f"| {s['name']} | {s['answerable']} / {s['held_out']} | {s['R@1']:.3f} | {s['R@5']:.3f} | {s['MRR']:.3f} | "
            f"**{s['quote@1']:.3f}** | {s['quote@1 answered']:.3f} | {s['quote@3']:.3f} | {s['naive quote@1']:.3f} | "
            f"**{s['answer rate']:.3f}** | **{s['abstention rate']:.3f}** | {s['p50 ms']:.1f} | {s['p95 ms']:.1f} | "
            f"{s['build_s']:.1f} | {'yes' if s['verbatim'] else 'NO'} |")
    out += ["", "Trade-off of the abstention threshold (same runs; quote@1 counts abstentions as misses):", ""]
    head = "| threshold | " + " | ".join(f"{n} answer rate | abstention | quote@1" for n, _ in curves) + " |"
    out += [head, "|---|" + "---|---|---|" * len(curves)]
    for i, row in enumerate(curves[0][1]):
        cells = []
        for _, curve in curves:
            r = curve[i]
            cells.append(f"{r['answer rate']:.3f} | {r['abstention rate']:.3f} | {r['quote@1']:.3f}")
        out.append(f"| {row['threshold']:.1f} | " + " | ".join(cells) + " |")
    text = "\n".join(out)
    print(text)
    if args.write:
        write_section("answers", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
