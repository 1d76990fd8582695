"""Reader questions per kind (issue 15), next to the naive peer measured in the same run, written to docs/benchmarks.md.

    python benchmarks/reader.py [--write]

Runs `python -m bot eval benchmarks/reader/*.json`: the seeds and the 62 web-extraction pages indexed
together, every question asked, right answers counted per kind (every must-group shown in the quotes;
an unanswerable question is right when the bot abstains). The peer is jieba + BM25 over passages, then
the sentence of the top three sharing the most question words; it never abstains.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks.report import write_section
from bot.reader_eval import run_reader_eval, summarise_reader
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent

SETS = sorted((ROOT / "benchmarks" / "reader").glob("*.json"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    sets, records, build_s, passages = run_reader_eval(SETS, Settings(seeds_dir=ROOT / "seeds"),
                                                       shared_dir=ROOT.parent / "shared" / "datasets")
    s = summarise_reader(records)
    out = [
        "## Reader questions (issue 15)",
        "",
        "Command: `python benchmarks/reader.py --write` (the same figures as"
        " `python -m bot eval benchmarks/reader/*.json`).",
        f"{s['questions']} questions written by the team ({', '.join(x.name for x in sets)}) over the 5 seeds and the"
        f" 62 web-extraction pages, indexed together ({passages} passages). Right: every must-group of the question"
        " is shown in the quotes; the peer (jieba + BM25, best sentence of the top three passages) never abstains.",
        "",
        "| kind | answerable | right | peer right | abstained |",
        "|---|---|---|---|---|",
    ]
    for kind, row in s["per kind"].items():
        out.append(f"| {kind} | {row['n']} | **{row['right']:.3f}** | {row['peer']:.3f} | {row['abstained']:.3f} |")
    out += [
        f"| **all answerable** | {s['answerable']} | **{s['right']:.3f}** | {s['peer right']:.3f} |"
        f" {s['abstained (answerable)']:.3f} |",
        "",
        f"Unanswerable near-misses abstained: **{s['abstained (unanswerable)']:.3f}** of {s['unanswerable']} (the peer: 0)."
        f" Answers given with a hedge: {s['hedged (answerable)']:.3f}. Question kind read as the set tags it:"
        f" {s['kind read right']:.3f}. Answer p50 {s['p50 ms']:.1f} ms. Every quote verbatim: {'yes' if s['verbatim'] else 'NO'}.",
    ]
    if s["per style"]:
        out += ["", "Questions as people type them (issue 17; robust.json, 173 questions over the same corpus): right"
                " among answerable questions and abstained among unanswerable ones, per style of typing, the peer"
                " beside:", "",
                "| style | answerable | right | peer right | unanswerable | abstained |", "|---|---|---|---|---|---|"]
        for style, row in s["per style"].items():
            out.append(f"| {style} | {row['n']} | **{row['right']:.3f}** | {row['peer']:.3f} | {row['unanswerable']} |"
                       f" **{row['abstained']:.3f}** |")
    text = "\n".join(out)
    print(text)
    if args.write:
        write_section("reader", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
