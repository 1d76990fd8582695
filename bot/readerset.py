"""Reader-question sets: questions as readers ask them, over the seeds and real news pages, with what a right answer must show."""

from __future__ import annotations

import html
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from bot.datasets import DatasetError
from embeddings.documents import UnreadableFile, decode, parse_date, split_title_suffix, strip_html
from embeddings.textnorm import normalize

FORMAT = "quotebot-reader/1"
KINDS = ("fact", "why", "how", "status", "timeline", "compare", "list", "said", "event")
# How the question is typed: as the article would word it, or a pinyin typo, a synonym or colloquial word,
# bare keywords, English.
STYLES = ("plain", "typo", "synonym", "keyword", "english")
CORPORA = ("seeds", "web-extraction")
_END = "。！？!?；;…”」』）)：:"


@dataclass(frozen=True)
class ReaderQuestion:
    id: str
    text: str
    kind: str
    answerable: bool
    must: tuple[tuple[str, ...], ...]  # every group must be shown; any one string of a group will do
    docs: tuple[str, ...] = ()  # where the answer is (file names in the corpus folder)
    style: str = "plain"  # one of STYLES


@dataclass(frozen=True)
class ReaderSet:
    name: str
    corpora: tuple[str, ...]
    questions: tuple[ReaderQuestion, ...]


def is_reader_set(path: Path) -> bool:
    try:
        head = Path(path).read_text(encoding="utf-8")[:200]
    except (OSError, UnicodeDecodeError):
        return False
    return FORMAT in head


def load_reader_set(path: Path) -> ReaderSet:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise DatasetError(f"{path} is not a reader-question set (format {FORMAT!r})")
    corpora = tuple(data.get("corpus") or CORPORA)
    unknown = [c for c in corpora if c not in CORPORA]
    if unknown:
        raise DatasetError(f"{path}: unknown corpus {unknown[0]!r} (known: {', '.join(CORPORA)})")
    questions = []
    for i, q in enumerate(data.get("questions") or []):
        where = f"{path}: question {i} ({q.get('id', '?')})"
        text, kind = str(q.get("question", "")).strip(), q.get("kind")
        if not text or kind not in KINDS:
            raise DatasetError(f"{where}: needs a question and a kind among {', '.join(KINDS)}")
        must = tuple(tuple(str(s) for s in (g if isinstance(g, list) else [g]) if str(s).strip())
                     for g in q.get("must") or [])
        answerable = bool(q.get("answerable", True))
        style = q.get("style", "plain")
        if style not in STYLES:
            raise DatasetError(f"{where}: style {style!r} is not one of {', '.join(STYLES)}")
        if answerable and (not must or not all(must)):
            raise DatasetError(f"{where}: an answerable question lists the strings its answer must show")
        questions.append(ReaderQuestion(str(q.get("id", i)), text, kind, answerable, must, tuple(q.get("docs") or ()),
                                        style))
    return ReaderSet(Path(path).stem, corpora, tuple(questions))


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", normalize(text))


def shows(texts: list[str] | tuple[str, ...], must: tuple[tuple[str, ...], ...]) -> bool:
    """Every group of `must` has one of its strings in the shown quotes (folded, spaces ignored)."""
    shown = "\n".join(_squash(t) for t in texts)
    return all(any(_squash(s) in shown for s in group) for group in must)


def web_paragraphs(text: str) -> list[str]:
    """The hand-copied body of a page as paragraphs: lines hard-wrapped mid-sentence are joined."""
    out: list[str] = []
    for line in (ln.strip() for ln in text.replace("\r", "").split("\n")):
        if not line:
            continue
        if out and not out[-1].endswith(tuple(_END)) and len(out[-1]) >= 20:
            out[-1] += line
        else:
            out.append(line)
    return out


def _page_text(data: bytes) -> str:
    try:
        return decode(data)
    except UnreadableFile:  # a page the detector cannot place; the Chinese web's widest charset
        return data.decode("gb18030", errors="replace")


def web_documents(folder: Path) -> list[tuple[str, dict]]:
    """The web-extraction pages as JSON news articles: hand-copied body, the page's title, the hand-made date."""
    docs = []
    for body_file in sorted((folder / "cleaned").glob("*.txt")):
        name = body_file.stem
        page = folder / "original" / f"{name}.html"
        title = None
        if page.exists():
            m = re.search(r"<title[^>]*>(.*?)</title>", _page_text(page.read_bytes()), re.S | re.I)
            if m:
                title = split_title_suffix(strip_html(m.group(1)).strip())[0] or None
        paras = web_paragraphs(body_file.read_text(encoding="utf-8", errors="replace"))
        if not paras:
            continue
        date_file = folder / "date" / f"{name}.txt"
        written = date_file.read_text(encoding="utf-8").strip() if date_file.exists() else ""
        date = parse_date(written)
        if date is None:  # '2005-5-7 21:23:57': single-digit month and day
            m = re.match(r"(\d{4})-(\d{1,2})-(\d{1,2})", written)
            date = parse_date(f"{m.group(1)}年{m.group(2)}月{m.group(3)}日") if m else None
        article = {"name": title or paras[0][:40], "datePublished": date, "source": "web-extraction",
                   "body": [{"content": {"type": "Paragraph", "text": html.escape(p, quote=False)}} for p in paras]}
        docs.append((f"web_{name}.json", article))
    return docs


def write_corpus(reader_set: ReaderSet, folder: Path, seeds_dir: Path, shared_dir: Path) -> list[str]:
    """Lay the set's corpora out as one seeds folder; returns the file names written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    if "seeds" in reader_set.corpora:
        for p in sorted(Path(seeds_dir).iterdir()):
            if p.is_file() and not p.name.startswith("."):
                shutil.copyfile(p, folder / p.name)
                written.append(p.name)
    if "web-extraction" in reader_set.corpora:
        web = Path(shared_dir) / "web-extraction"
        if not web.is_dir():
            raise DatasetError(f"{web} is missing: the reader set's web pages are read from there")
        for name, article in web_documents(web):
            (folder / name).write_text(json.dumps(article, ensure_ascii=False), encoding="utf-8")
            written.append(name)
    return written


def check(reader_set: ReaderSet, folder: Path) -> list[str]:
    """Problems with a set over a written corpus: a must-string no document holds, a named doc missing."""
    from embeddings.documents import load_corpus

    corpus = load_corpus(folder)
    by_file: dict[str, str] = {}
    for d in corpus.documents:
        by_file[d.path] = by_file.get(d.path, "") + "\n".join(_squash(p.text) for p in d.paragraphs) + "\n"
    everything = "\n".join(by_file.values())
    problems = []
    seen = set()
    for q in reader_set.questions:
        if q.id in seen:
            problems.append(f"{q.id}: duplicate id")
        seen.add(q.id)
        for d in q.docs:
            if d not in by_file:
                problems.append(f"{q.id}: no document {d!r}")
        scope = "\n".join(by_file.get(d, "") for d in q.docs) if q.docs else everything
        for group in q.must:
            if not any(_squash(s) in scope for s in group):
                problems.append(f"{q.id}: no document {'named ' if q.docs else ''}holds any of {list(group)}")
    return problems


def main(argv: list[str] | None = None) -> int:
    """`python -m bot.readerset check SET.json…` or `dump DIR`: validate sets, or write the corpus and print it."""
    import argparse
    import tempfile

    ap = argparse.ArgumentParser(prog="python -m bot.readerset")
    ap.add_argument("command", choices=["check", "dump"])
    ap.add_argument("paths", nargs="+", type=Path)
    ap.add_argument("--seeds", type=Path, default=Path("seeds"))
    ap.add_argument("--shared", type=Path, default=Path("../shared/datasets"))
    args = ap.parse_args(argv)
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        everything = ReaderSet("all", CORPORA, ())
        write_corpus(everything, Path(tmp), args.seeds, args.shared)
        if args.command == "dump":
            from embeddings.documents import load_corpus

            out = args.paths[0]
            out.mkdir(parents=True, exist_ok=True)
            for d in load_corpus(Path(tmp)).documents:
                lines = [f"# {d.path}", f"title: {d.title}", f"date: {d.date}", ""]
                lines += [f"[{p.index}] {p.text}" for p in d.paragraphs]
                (out / (Path(d.path).stem + ".txt")).write_text("\n".join(lines) + "\n", encoding="utf-8")
            print(f"wrote {len(list(out.glob('*.txt')))} documents to {out}")
            return 0
        for path in args.paths:
            rs = load_reader_set(path)
            problems = check(rs, Path(tmp))
            kinds = {k: sum(q.kind == k for q in rs.questions) for k in KINDS}
            print(f"{path}: {len(rs.questions)} questions, {sum(not q.answerable for q in rs.questions)} unanswerable; "
                  + ", ".join(f"{k} {n}" for k, n in kinds.items() if n))
            for p in problems:
                print("  " + p)
            bad += len(problems)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
