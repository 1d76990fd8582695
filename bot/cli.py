"""Command line: `python -m bot corpus|index|ask|eval|serve`; errors become one line and exit 2."""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from collections import Counter
from pathlib import Path

from bot.settings import ConfigError, Settings
from embeddings.boilerplate import repeat_key
from embeddings.encoders import EncoderError
from embeddings.index import IndexFailure


def add_corpus_args(p: argparse.ArgumentParser) -> None:
    """Where the seeds and the index are, and which encoder: the same flags for every command using them."""
    p.add_argument("--seeds", type=Path, help="folder of seed documents (default: seeds/)")
    p.add_argument("--index", type=Path, help="index folder (default: .index/)")
    p.add_argument("--encoder", help="'use' (default, offline), 'st:MODEL_NAME_OR_PATH' or 'hash:DIM'")
    p.add_argument("--backend", choices=("local", "qdrant"),
                   help="where the index is searched: 'local' (default: files in --index) or 'qdrant' (a collection "
                        "version behind an alias; --index is then the builder's working copy)")
    p.add_argument("--qdrant-url", help="Qdrant server URL, e.g. http://qdrant:6333 (with --backend qdrant)")
    p.add_argument("--qdrant-path", type=Path,
                   help="folder for qdrant-client's local mode, no server, one process (with --backend qdrant)")
    p.add_argument("--qdrant-collection", help="alias the replicas answer from (default: quotebot)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Answer questions about a folder of Chinese news articles by quoting them, with citations.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("corpus", help="list the documents read from the seeds folder")
    p.add_argument("--seeds", type=Path, help="folder of seed documents (default: seeds/)")
    p.add_argument("--verbose", "-v", action="store_true", help="show every line dropped as boilerplate")
    p.add_argument("--json", action="store_true",
                   help="one JSON object per document (a line each): path, shape, title, date, url, source, author, "
                        "paragraphs [{text, section}], dropped [{rule, text}], warnings")
    p.set_defaults(run=cmd_corpus)

    p = sub.add_parser("index", help="build or update the search index (only what changed is redone)")
    add_corpus_args(p)
    p.add_argument("--force", action="store_true", help="rebuild everything, reusing nothing")
    p.add_argument("--watch", action="store_true", help="keep watching the seeds folder and reindex after changes settle")
    p.add_argument("--json", action="store_true",
                   help="print each build's report as one JSON object: files added/changed/removed, passages "
                        "embedded/reused/resumed, seconds and seconds per phase (read, cut, embed, write, publish)")
    p.set_defaults(run=cmd_index)

    p = sub.add_parser("ask", help="answer a question by quoting the seeds (indexes them first if they changed)")
    p.add_argument("question", nargs="?", help="the question, in simplified or traditional Chinese")
    add_corpus_args(p)
    p.add_argument("--json", action="store_true", help="print one JSON object per question")
    p.add_argument("--batch", type=Path, help="file with one question per line (prints one JSON object per line)")
    p.add_argument("--outlet", action="append", help="quote only this outlet (as citations name it); repeatable")
    p.add_argument("--since", help="quote only articles dated on or after this day (YYYY-MM-DD)")
    p.add_argument("--until", help="quote only articles dated on or before this day (YYYY-MM-DD)")
    p.set_defaults(run=cmd_ask)

    p = sub.add_parser("serve", help="run the Telegram bot (long polling, or a webhook with --webhook-url)")
    add_corpus_args(p)
    p.add_argument("--webhook-url", help="public https URL Telegram posts updates to (webhook mode; default: polling)")
    p.add_argument("--listen", default="127.0.0.1", help="address the webhook server binds (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8443, help="port the webhook server binds (default 8443)")
    p.set_defaults(run=cmd_serve)

    p = sub.add_parser("eval", help="measure quoting and abstention on a SQuAD-format set or reader-question sets")
    p.add_argument("file", type=Path, nargs="+",
                   help="e.g. ../shared/datasets/drcd_dev.json, or benchmarks/reader/*.json (measured together)")
    p.add_argument("--limit", type=int, help="questions from each half (indexed / held out); default all")
    p.add_argument("--encoder", help="'use' (default), 'st:MODEL_NAME_OR_PATH' or 'hash:DIM'")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(run=cmd_eval)
    return parser


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.engine import Engine

    if args.batch is None and not args.question:
        raise ConfigError("give a question, or --batch FILE with one question per line")
    if args.batch is not None and not args.batch.is_file():
        raise ConfigError(f"batch file not found: {args.batch}")
    if not settings.seeds_dir.is_dir():
        raise ConfigError(f"seeds folder not found: {settings.seeds_dir}")
    filters = ask_filters(args)
    with Engine(settings) as engine:
        return _ask_all(engine, args, settings, filters)


def _ask_all(engine, args: argparse.Namespace, settings: Settings, filters) -> int:
    from bot.engine import QuestionError
    from bot.render import answer_json, answer_text, message

    report = engine.ensure_index()
    if report is not None:
        print(f"indexed {settings.seeds_dir}: {report.summary()}", file=sys.stderr)
    if args.batch is not None:
        questions = [q.strip() for q in args.batch.read_text(encoding="utf-8", errors="replace").splitlines()]
        questions = [q for q in questions if q]
    else:
        questions = [args.question]
    as_json = args.json or args.batch is not None
    status = 0
    for q in questions:
        try:
            answer = engine.ask(q, filters)
        except QuestionError as exc:
            status = 1
            if as_json:
                print(json.dumps({"question": q, "abstained": True, "confidence": 0.0, "answer": [], "sources": [],
                                  "error": exc.kind}, ensure_ascii=False), flush=True)
            else:
                print(message(exc.kind, q, limit=settings.max_question_chars))
            continue
        if as_json:
            print(json.dumps(answer_json(answer, settings.seeds_dir), ensure_ascii=False), flush=True)
        else:
            print(answer_text(answer))
    return status if len(questions) == 1 else 0


def ask_filters(args: argparse.Namespace):
    from embeddings.backend import Filters

    for name in ("since", "until"):
        value = getattr(args, name)
        if value is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ConfigError(f"--{name} must be a day as YYYY-MM-DD, not {value!r}")
    filters = Filters(tuple(args.outlet or ()), args.since, args.until)
    return filters or None


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.telegram import check_bot_api, serve

    check_bot_api(settings)  # before the slow part: a bad token or no network fails at once, in one line
    if not settings.seeds_dir.is_dir():
        raise ConfigError(f"seeds folder not found: {settings.seeds_dir}")
    if args.webhook_url and not args.webhook_url.startswith(("https://", "http://")):
        raise ConfigError(f"--webhook-url must be an http(s) URL, not {args.webhook_url!r}")
    from bot.engine import Engine

    with Engine(settings) as engine:
        report = engine.ensure_index()
        if report is not None:
            print(f"indexed {settings.seeds_dir}: {report.summary()}", file=sys.stderr, flush=True)
        engine.start_warming()
        serve(settings, engine, webhook_url=args.webhook_url, listen=args.listen, port=args.port,
              webhook_secret=settings.webhook_secret)
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from bot.datasets import DatasetError
    from bot.evaluate import run_eval, summarise
    from bot.readerset import is_reader_set

    for f in args.file:
        if not f.is_file():
            raise ConfigError(f"dataset not found: {f}")
    try:
        if all(is_reader_set(f) for f in args.file):
            from bot.reader_eval import run_reader_eval, summarise_reader

            sets, records, build_s, passages = run_reader_eval(args.file, settings, limit=args.limit,
                                                               progress=sys.stderr.isatty())
            summary = summarise_reader(records)
            summary.update({"dataset": "+".join(s.name for s in sets), "index build s": round(build_s, 2),
                            "passages": passages})
        elif len(args.file) == 1:
            ds, records, build_s, passages = run_eval(args.file[0], settings, limit=args.limit,
                                                      progress=sys.stderr.isatty())
            summary = summarise(records)
            summary.update({"dataset": ds.name, "index build s": round(build_s, 2), "passages": passages})
        else:
            raise ConfigError("several files are measured together only when all are reader-question sets")
    except DatasetError as exc:
        raise ConfigError(str(exc)) from None
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=1))
    else:
        for key, value in summary.items():
            if key == "per kind":
                for kind, row in value.items():
                    print(f"{kind:>24}: {row['n']:3d} answerable, right {row['right']:.3f}, peer {row['peer']:.3f},"
                          f" abstained {row['abstained']:.3f}")
            elif key == "per style":
                for style, row in value.items():
                    print(f"{style:>24}: {row['n']:3d} answerable, right {row['right']:.3f}, peer {row['peer']:.3f};"
                          f" {row['unanswerable']} unanswerable, abstained {row['abstained']:.3f}")
            else:
                print(f"{key:>24}: {value:.3f}" if isinstance(value, float) else f"{key:>24}: {value}")
    return 0


def run_index(settings: Settings, force: bool = False, engine=None):
    """Build the index; with Qdrant, through `engine` (one client for the whole command), then publish it."""
    from bot.engine import step_hook
    from embeddings.index import build_index
    from embeddings.pool import EncoderPool

    if not settings.seeds_dir.is_dir():
        raise ConfigError(f"seeds folder not found: {settings.seeds_dir}")
    if engine is not None:
        report = engine.reindex(force=force, progress=sys.stderr.isatty())
        print(f"published to Qdrant: {engine.loaded.index.generation} as {settings.qdrant_collection}", file=sys.stderr)
        return report
    with EncoderPool(settings.encoder, settings.build_threads) as encoder:
        return build_index(settings.seeds_dir, settings.index_dir, encoder, max_bytes=settings.max_file_bytes,
                           progress=sys.stderr.isatty(), on_step=step_hook(settings), force=force,
                           passage_vectors=settings.passage_vectors)


def report_json(report) -> dict:
    return {"generation": report.generation, "added": list(report.added), "changed": list(report.changed),
            "removed": list(report.removed), "unchanged": report.unchanged, "documents": report.documents,
            "passages": report.passages, "embedded": report.embedded, "reused": report.reused,
            "resumed": report.resumed, "seconds": round(report.seconds, 3),
            "phases": {k: round(v, 3) for k, v in report.phases.items()},
            "warnings": [{"path": w.path, "reason": w.reason} for w in report.warnings]}


def print_report(report, as_json: bool = False) -> None:
    if as_json:
        print(json.dumps(report_json(report), ensure_ascii=False), flush=True)
        return
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
    engine = None
    if settings.backend == "qdrant":
        from bot.engine import Engine

        engine = Engine(settings)
    try:
        return _index(args, settings, engine)
    finally:
        if engine is not None:
            engine.close()


def _index(args: argparse.Namespace, settings: Settings, engine) -> int:
    print_report(run_index(settings, force=args.force, engine=engine), args.json)
    if not args.watch:
        return 0
    from watchfiles import watch

    from embeddings.index import seeds_changed

    def outdated() -> bool:
        return (engine.seeds_changed() if engine is not None
                else seeds_changed(settings.seeds_dir, settings.index_dir, settings.passage_vectors))

    # watchfiles batches events until the folder has been quiet for `debounce` ms. The watcher
    # only exists from the first yield on, so a change made before that is caught by comparing
    # content hashes once it is up.
    announced = False
    for changes in watch(settings.seeds_dir, debounce=1500, step=200, yield_on_timeout=True, rust_timeout=1000):
        if not announced:
            if outdated():
                print_report(run_index(settings, engine=engine), args.json)
            print(f"watching {settings.seeds_dir} (Ctrl-C to stop)", flush=True)
            announced = True
        elif changes:
            print_report(run_index(settings, engine=engine), args.json)
    return 0


def document_json(doc, repeats: frozenset[str], warnings) -> dict:
    """What the bot may quote of one document, and what it left out, as the `corpus --json` contract."""
    kept = [p for p in doc.paragraphs if repeat_key(p.text) not in repeats]
    return {"path": doc.path, "id": doc.id, "shape": doc.shape, "title": doc.title, "date": doc.date, "url": doc.url,
            "source": doc.source, "author": doc.author,
            "paragraphs": [{"text": p.text, "section": p.section} for p in kept],
            "dropped": [{"rule": d.rule, "text": d.text} for d in doc.dropped]
                       + [{"rule": "repeated", "text": p.text} for p in doc.paragraphs if p not in kept],
            "warnings": [w.reason for w in warnings if w.path == doc.path]}


def cmd_corpus(args: argparse.Namespace, settings: Settings) -> int:
    from embeddings.documents import load_corpus, repeated_paragraphs

    seeds = settings.seeds_dir
    if not seeds.is_dir():
        raise ConfigError(f"seeds folder not found: {seeds}")
    corpus = load_corpus(seeds, max_bytes=settings.max_file_bytes)
    out = sys.stdout
    # Lines repeated across the corpus are left out of the index; they are shown as dropped here too.
    repeats = repeated_paragraphs(corpus.documents)
    if args.json:
        for doc in corpus.documents:
            print(json.dumps(document_json(doc, repeats, corpus.warnings), ensure_ascii=False), file=out)
        for w in corpus.warnings:
            if not any(d.path == w.path for d in corpus.documents):
                print(f"warning: {w}", file=sys.stderr)
        return 0 if corpus.documents else 1
    for doc in corpus.documents:
        print(f"{doc.path}  [{doc.shape}]", file=out)
        print(f"  title:      {doc.title}", file=out)
        print(f"  date:       {doc.date or 'unknown'}", file=out)
        print(f"  url:        {doc.url or '-'}", file=out)
        if doc.author or doc.source:
            print(f"  author:     {doc.author or '-'}    source: {doc.source or '-'}", file=out)
        repeated = [p for p in doc.paragraphs if repeat_key(p.text) in repeats]
        rules = Counter([d.rule for d in doc.dropped] + ["repeated"] * len(repeated))
        dropped = ", ".join(f"{rule} {n}" for rule, n in sorted(rules.items())) or "none"
        print(f"  paragraphs: {len(doc.paragraphs) - len(repeated)}    sentences: {doc.sentence_count}", file=out)
        print(f"  dropped:    {len(doc.dropped) + len(repeated)} ({dropped})", file=out)
        if args.verbose:
            for d in doc.dropped:
                print(f"    - [{d.rule}] {d.text}", file=out)
            for p in repeated:
                print(f"    - [repeated] {p.text}", file=out)
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
                 "encoder": getattr(args, "encoder", None), "backend": getattr(args, "backend", None),
                 "qdrant_url": getattr(args, "qdrant_url", None), "qdrant_path": getattr(args, "qdrant_path", None),
                 "qdrant_collection": getattr(args, "qdrant_collection", None)}
        settings = Settings.from_env(**flags)
        return args.run(args, settings)
    except (ConfigError, IndexFailure, EncoderError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head`: not an error worth a traceback
        sys.stderr.close()
        return 0
