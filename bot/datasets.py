"""SQuAD-format reading-comprehension sets (CMRC 2018, DRCD) as seed documents and questions."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

from embeddings.textnorm import clean_spaces


class DatasetError(Exception):
    pass


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    answers: tuple[str, ...]
    article: int  # position of the article in the file
    paragraph: str  # the gold paragraph's text, whitespace collapsed


@dataclass(frozen=True)
class Dataset:
    name: str
    articles: tuple[dict, ...]  # {"title", "paragraphs": [context, ...]}
    questions: tuple[Question, ...]


def load_squad(path: Path) -> Dataset:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise DatasetError(f"{path} is not a SQuAD-format file (no 'data' list)")
    articles, questions = [], []
    for a_i, art in enumerate(data["data"]):
        paras = []
        for para in art.get("paragraphs", []):
            context = para.get("context", "")
            paras.append(context)
            for qa in para.get("qas", []):
                answers = tuple(dict.fromkeys(a["text"].strip() for a in qa.get("answers", []) if a.get("text", "").strip()))
                if qa.get("question", "").strip() and answers:
                    questions.append(Question(str(qa.get("id", len(questions))), qa["question"].strip(), answers, a_i,
                                              clean_spaces(context)))
        articles.append({"title": art.get("title") or f"article {a_i}", "paragraphs": paras})
    return Dataset(Path(path).stem, tuple(articles), tuple(questions))


def write_articles(dataset: Dataset, folder: Path, which: str = "even") -> list[int]:
    """Write articles as JSON news-API documents; `which` is 'even', 'odd' or 'all' positions."""
    folder.mkdir(parents=True, exist_ok=True)
    chosen = [i for i in range(len(dataset.articles))
              if which == "all" or (which == "even") == (i % 2 == 0)]
    for i in chosen:
        art = dataset.articles[i]
        doc = {"name": art["title"], "body": [{"content": {"type": "Paragraph", "text": html.escape(p, quote=False)}} for p in art["paragraphs"]]}
        (folder / f"{dataset.name}_{i:05d}.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return chosen
