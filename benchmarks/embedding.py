"""What embedding costs a build, and what embedding less does to answers (issue 20); written to docs/benchmarks.md.

    python benchmarks/embedding.py [--limit 600] [--write]

1. Rates: the default encoder (USE multilingual) on CMRC dev passages and on their sentences, with one
   and two threads, and on the build's pool of two worker processes (embeddings/pool.py), in texts a second.
2. Passage vectors: each passage embedded whole against the normalised mean of its sentences' vectors
   (QUOTEBOT_PASSAGE_VECTORS=mean, the default), which needs no passage embedding at all: build
   seconds, retrieval and quote@1 on CMRC 2018 and DRCD dev (`python -m bot eval`, half the articles
   indexed) and the reader questions.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from benchmarks.report import write_section
from bot.datasets import load_squad
from bot.evaluate import run_eval, summarise
from bot.reader_eval import run_reader_eval, summarise_reader
from bot.settings import Settings
from embeddings.encoders import make_encoder
from embeddings.pool import POOLED_FROM, EncoderPool
from embeddings.passages import document_passages
from embeddings.documents import Document, Paragraph
from embeddings.textnorm import split_sentences

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ROOT.parent / "shared" / "datasets"
READER = sorted((ROOT / "benchmarks" / "reader").glob("*.json"))
READING = [
    '',
    'The abstention model (bot/calibration.json) is fitted on `mean` vectors',
    '(`python benchmarks/calibrate.py --passage-vectors mean --keep-scorer`), so the `whole` rows above answer',
    'with a model fitted on other vectors. Before `mean` became the default, the same command measured `whole`',
    'with the model fitted on `whole` vectors: quote@1 0.792 / 0.817 (CMRC / DRCD), reader questions right',
    '0.518; abstention 0.872 / 0.925 / 0.796.',
    '',
    'Reading: per character, sentences and whole passages embed at about the same rate here, so the',
    'mean-of-sentences vector saves the passage embedding itself (about half of what a build embeds), not',
    "a cheaper kind of text. Two threads give 1.3-1.4 times one thread's rate; two worker processes of one",
    'thread each come closer to twice, as a build uses them (embeddings/pool.py).',
]


def rates(n: int = 512) -> list[str]:
    paragraphs = [p for a in load_squad(DATASETS / "cmrc2018_dev.json").articles for p in a["paragraphs"]][:n]
    passages = []
    for i, text in enumerate(paragraphs):
        spans = tuple(split_sentences(text))
        doc = Document(id=str(i), path="x", shape="text", title="", date=None, url=None, author=None, source=None,
                       paragraphs=(Paragraph(0, text, None, spans),))
        passages += document_passages(doc)
    sentences = [p.text[a:b] for p in passages for a, b in p.sentences]
    rows = []
    for label, encoder in (("1 thread", make_encoder("use", threads=1)), ("2 threads", make_encoder("use", threads=2)),
                           ("2 worker processes", EncoderPool("use", 2))):
        encoder.encode(["预热"] * POOLED_FROM)  # loads the model (in the workers, for the pool)
        for kind, texts in (("passages", [p.text for p in passages]), ("sentences", sentences)):
            t0 = time.perf_counter()
            encoder.encode(texts)
            seconds = time.perf_counter() - t0
            chars = sum(map(len, texts)) / len(texts)
            rows.append(f"| {kind} ({len(texts)}, {chars:.0f} chars on average) | {label} | "
                        f"{len(texts) / seconds:,.0f} | {sum(map(len, texts)) / seconds:,.0f} |")
        if isinstance(encoder, EncoderPool):
            encoder.close()
    return ["| texts | how | texts/s | chars/s |", "|---|---|---:|---:|", *rows]


def passage_vectors(limit: int) -> list[str]:
    rows = []
    for name in ("cmrc2018_dev", "drcd_dev"):
        for mode in ("whole", "mean"):
            _, records, build_s, passages = run_eval(DATASETS / f"{name}.json", Settings(passage_vectors=mode),
                                                     limit=limit)
            s = summarise(records)
            rows.append(f"| {name} | {mode} | {passages:,} | {build_s:.1f} | {s['R@1']:.3f} | {s['MRR']:.3f} | "
                        f"**{s['quote@1']:.3f}** | {s['abstention rate']:.3f} |")
            print(name, mode, build_s, s["quote@1"], s["abstention rate"], file=sys.stderr)
    for mode in ("whole", "mean"):
        _, records, build_s, passages = run_reader_eval(READER, Settings(seeds_dir=ROOT / "seeds", passage_vectors=mode),
                                                        shared_dir=DATASETS)
        s = summarise_reader(records)
        rows.append(f"| reader questions | {mode} | {passages:,} | {build_s:.1f} | — | — | right **{s['right']:.3f}** | "
                    f"{s['abstained (unanswerable)']:.3f} |")
    return ["| set | passage vectors | passages | build s | R@1 | MRR | quote@1 | abstention (held-out) |",
            "|---|---|---:|---:|---:|---:|---:|---:|", *rows]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=600, help="questions from each half of each dev set")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    command = "python benchmarks/embedding.py " + " ".join(sys.argv[1:])
    text = "\n".join([
        "## Embedding in a build (issue 20)", "",
        f"Command: `{command}` (2-core machine).", "",
        "### Encoder rates", "",
        *rates(), "",
        "### Passage vectors: embedded whole, or the mean of their sentences", "",
        "Build seconds include reading, cutting and writing; everything else in the build is the same.", "",
        *passage_vectors(args.limit),
        *READING,
    ])
    print(text)
    if args.write:
        write_section("embedding", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
