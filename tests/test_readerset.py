"""The reader-question dev set: its format, its size and mix, and that every must-string is in the corpus."""

from __future__ import annotations

import json
import shutil

import pytest

from bot.datasets import DatasetError
from bot.readerset import CORPORA, ReaderSet, check, load_reader_set, shows, web_paragraphs, write_corpus
from tests.conftest import DATASETS, ROOT, SEEDS

SETS = sorted((ROOT / "benchmarks" / "reader").glob("*.json"))


def test_the_dev_set_has_the_size_and_mix_the_issue_asks_for():
    questions = [q for p in SETS for q in load_reader_set(p).questions]
    assert len(questions) >= 200
    assert len({q.id for q in questions}) == len(questions)
    assert sum(not q.answerable for q in questions) >= 40
    assert sum(q.kind in ("status", "timeline") for q in questions) >= 30
    assert sum(q.kind in ("why", "how", "compare", "list", "said") for q in questions) >= 30


def test_seed_questions_must_strings_are_in_the_seeds(tmp_path):
    rs = load_reader_set(ROOT / "benchmarks" / "reader" / "seeds.json")
    write_corpus(ReaderSet("seeds", ("seeds",), ()), tmp_path, SEEDS, tmp_path / "absent")
    assert check(rs, tmp_path) == []


def test_web_questions_must_strings_are_in_the_pages(tmp_path):
    if not (DATASETS / "web-extraction").is_dir():
        pytest.skip(f"web-extraction pages not found at {DATASETS}")
    write_corpus(ReaderSet("all", CORPORA, ()), tmp_path, SEEDS, DATASETS)
    for path in SETS:
        assert check(load_reader_set(path), tmp_path) == [], path.name


def test_shows_needs_every_group():
    must = (("批准了首批",), ("不允许", "不得入境"))
    assert shows(["1月23日,北京方面批准了首批", "海关 不得 入境"], must)
    assert not shows(["1月23日,北京方面批准了首批"], must)


def test_hard_wrapped_lines_are_joined():
    text = "一九八九年四月，我在湖南张家界开一个全省教学研究\n\n会议。按照惯例。\n\n标题"
    assert web_paragraphs(text) == ["一九八九年四月，我在湖南张家界开一个全省教学研究会议。按照惯例。", "标题"]


@pytest.mark.parametrize("content", [
    "not json", json.dumps({"format": "other"}),
    json.dumps({"format": "quotebot-reader/1", "questions": [{"question": "x", "kind": "nope"}]}),
    json.dumps({"format": "quotebot-reader/1", "questions": [{"question": "x", "kind": "fact", "must": []}]}),
    json.dumps({"format": "quotebot-reader/1", "corpus": ["elsewhere"], "questions": []}),
])
def test_bad_sets_are_refused_with_a_reason(tmp_path, content):
    p = tmp_path / "bad.json"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(DatasetError):
        load_reader_set(p)


def test_missing_pages_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetError, match="web-extraction"):
        write_corpus(ReaderSet("all", CORPORA, ()), tmp_path / "c", SEEDS, tmp_path / "nowhere")
    shutil.rmtree(tmp_path / "c", ignore_errors=True)
