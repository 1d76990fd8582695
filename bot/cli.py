"""Command line: `python -m bot corpus|index|ask|eval|serve`; errors become one line and exit 2."""

from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter
from pathlib import Path

from bot.settings import ConfigError, Settings
from embeddings.encoders import EncoderError
from embeddings.index import IndexError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Answer questions about a folder of Chinese news articles by quoting them, with citations.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("corpus", help="list the documents read from the seeds folder")
    p.add_argument("--seeds", type=Path, help="folder of seed documents (default: seeds/)")
    p.add_argument("--verbose", "-v", action="store_true", help="show every line dropped as boilerplate")
    p.set_defaults(run=cmd_corpus)

    p = sub.add_parser("index", help="build or update the search index (only what changed is redone)")
    p.add_argument("--seeds", type=Path, help="folder of seed documents (default: seeds/)")
    p.add_argument("--index", type=Path, help="index folder (default: .index/)")
    p.add_argument("--encoder", help="'use' (default, offline), 'st:MODEL_NAME_OR_PATH' or 'hash:DIM'")
    p.add_argument("--force", action="store_true", help="rebuild everything, reusing nothing")
    p.add_argument("--watch", action="store_true", help="keep watching the seeds folder and reindex after changes settle")
    p.set_defaults(run=cmd_index)
    return parser


def _step_hook(settings: Settings):
    """Fault-injection hook for tests: announce each build step on stderr and pause after it."""
    if settings.debug_pause <= 0:
        return None
    import time

    def step(name: str) -> None:
        print(f"step: {name}", file=sys.stderr, flush=True)
        time.sleep(settings.debug_pause)

    return step


def run_index(settings: Settings, force: bool = False):
    from embeddings.encoders import make_encoder
    from embeddings.index import build_index

    if not settings.seeds_dir.is_dir():
        raise ConfigError(f"seeds folder not found: {settings.seeds_dir}")
    encoder = make_encoder(settings.encoder, threads=settings.threads)
    return build_index(settings.seeds_dir, settings.index_dir, encoder, max_bytes=settings.max_file_bytes,
                       progress=sys.stderr.isatty(), on_step=_step_hook(settings), force=force)


def print_report(report) -> None:
    for name in report.added:
        print(f"  + {name}")
    for name in report.changed:
        print(f"  ~ {name}")
    for name in report.removed:
        print(f"  - {name}")
    print(f"{report.generation}: {report.summary()}", flush=True)
    for w in report.warnings:
        print(f"warning: {w}", file=sys.stderr)


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    print_report(run_index(settings, force=args.force))
    if not args.watch:
        return 0
    from watchfiles import watch

    from embeddings.index import seeds_changed

    # watchfiles batches events until the folder has been quiet for `debounce` ms. The watcher
    # only exists from the first yield on, so a change made before that is caught by comparing
    # content hashes once it is up.
    announced = False
    for changes in watch(settings.seeds_dir, debounce=1500, step=200, yield_on_timeout=True, rust_timeout=1000):
        if not announced:
            if seeds_changed(settings.seeds_dir, settings.index_dir):
                print_report(run_index(settings))
            print(f"watching {settings.seeds_dir} (Ctrl-C to stop)", flush=True)
            announced = True
        elif changes:
            print_report(run_index(settings))
    return 0


def cmd_corpus(args: argparse.Namespace, settings: Settings) -> int:
    from embeddings.documents import load_corpus

    seeds = settings.seeds_dir
    if not seeds.is_dir():
        raise ConfigError(f"seeds folder not found: {seeds}")
    corpus = load_corpus(seeds, max_bytes=settings.max_file_bytes)
    out = sys.stdout
    for doc in corpus.documents:
        print(f"{doc.path}  [{doc.shape}]", file=out)
        print(f"  title:      {doc.title}", file=out)
        print(f"  date:       {doc.date or 'unknown'}", file=out)
        print(f"  url:        {doc.url or '-'}", file=out)
        if doc.author or doc.source:
            print(f"  author:     {doc.author or '-'}    source: {doc.source or '-'}", file=out)
        rules = Counter(d.rule for d in doc.dropped)
        dropped = ", ".join(f"{rule} {n}" for rule, n in sorted(rules.items())) or "none"
        print(f"  paragraphs: {len(doc.paragraphs)}    sentences: {doc.sentence_count}", file=out)
        print(f"  dropped:    {len(doc.dropped)} ({dropped})", file=out)
        if args.verbose:
            for d in doc.dropped:
                print(f"    - [{d.rule}] {d.text}", file=out)
        print(file=out)
    total_p = sum(len(d.paragraphs) for d in corpus.documents)
    print(f"{len(corpus.documents)} documents, {total_p} paragraphs; {len(corpus.warnings)} warnings", file=out)
    for w in corpus.warnings:
        print(f"warning: {w}", file=sys.stderr)
    return 0 if corpus.documents else 1


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # The loaders log each skipped file; the CLI reports them itself, once, as warnings.
    logging.getLogger("embeddings.documents").setLevel(logging.ERROR)
    try:
        flags = {"seeds_dir": getattr(args, "seeds", None), "index_dir": getattr(args, "index", None),
                 "encoder": getattr(args, "encoder", None)}
        settings = Settings.from_env(**flags)
        return args.run(args, settings)
    except (ConfigError, IndexError, EncoderError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head`: not an error worth a traceback
        sys.stderr.close()
        return 0
