"""Answer forms as pure choices over made-up options: which quotes a timeline keeps, what a restatement loses."""

from __future__ import annotations

import json
import shutil

import pytest

from bot.answer.forms import RESTATED, Option, choose, report_pattern, restated
from bot.answer.question import analyse
from embeddings.textnorm import normalize
from tests.conftest import DATASETS, SEEDS


def option(doc: str, at: int, text: str, score: float, event: str | None, published: str = "2005-05-07") -> Option:
    return Option((doc, at, 0, len(text)), text, normalize(text), score, published, event)


def test_a_timeline_keeps_its_most_relevant_event_though_the_sentence_gives_no_date():
    q = analyse("莫莉花从去北京到被判刑，经过是怎样的？")
    options = [
        option("court", 5, "被告人莫莉花犯反革命宣传煽动罪，判处有期徒刑三年。", 9.0, None),
        option("court", 1, "被告人莫莉花于1989年5月26日离邵到北京。", 8.4, "1989-05-26"),
        option("court", 3, "被告人莫莉花于6月4日晚发表演说。", 6.5, "1989-06-04"),
        option("court", 4, "后来我在监狱里认识了一位姑娘，4月23日她路过现场。", 4.9, "2005-04-23"),
        option("court", 6, "五月十三日北京学生绝食。", 4.8, "1989-05-13"),
        option("court", 7, "五月二十日北京宣布戒严。", 4.7, "1989-05-20"),
        option("court", 8, "六月一日下午，我又上了街。", 4.6, "1989-06-01"),
    ]
    picked, note = choose(q, options)
    assert note == "sequence"
    texts = [o.text for o in picked]
    assert options[0].text in texts  # the verdict, dated by its article
    assert texts.index(options[1].text) < texts.index(options[2].text)  # in the order of the events


def test_a_timeline_without_names_stays_in_the_articles_close_to_the_best():
    q = analyse("莫莉花从去北京到被判刑，经过是怎样的？")
    options = [
        option("court", 1, "被告人莫莉花于1989年5月26日离邵到北京。", 8.4, "1989-05-26"),
        option("olympics", 1, "普京去北京参加冬奥会，和中国领导人签署了联合声明。", 6.1, "2022-02-04", "2022-02-06"),
        option("court", 3, "被告人莫莉花于6月4日晚发表演说。", 6.5, "1989-06-04"),
    ]
    picked, _ = choose(q, options)
    assert {o.doc for o in picked} == {"court"}


def test_a_sentence_that_restates_a_why_question_loses_and_a_reason_does_not():
    q = analyse("为什么中国海关不让H200入境？")
    assert restated(q, normalize("中国海关曾一度告知代理商H200芯片不得入境。"), novelty=0.25) == RESTATED < 0
    assert restated(q, normalize("这究竟是为了保护本国芯片产业。"), novelty=0.25) == 0.0
    assert restated(q, normalize("海关告知代理商，芯片须等待北京与华盛顿的谈判结果后再议。"), novelty=0.9) == 0.0


def test_a_report_of_a_state_names_everything_asked_as_whole_words():
    pattern = report_pattern(analyse("H200現在的最新情況是什麼？"))
    assert pattern.search(normalize("1月23日,北京方面批准了首批NVIDIA H200人工智能芯片的进口许可。"))
    assert pattern.search(normalize("海关告知：\nH200芯片不允许入境。"))  # across lines
    assert not pattern.search(normalize("H200的性能约为H20的六倍。"))  # no state
    assert not pattern.search(normalize("北京批准了H2000型号的进口。"))  # another name


def test_a_long_numbered_list_shows_the_items_the_question_asks_about(tmp_path):
    """A real page (web-extraction, 2021-01-29): '饮食调理注意：', a repeated headline the index leaves out,
    then six numbered items; what to eat less of is the sixth."""
    from bot.engine import Engine
    from bot.readerset import web_documents
    from bot.settings import Settings

    if not (DATASETS / "web-extraction").is_dir():
        pytest.skip(f"web-extraction pages not found at {DATASETS}")
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)  # other articles, so the question's words have their usual weights
    for name, article in web_documents(DATASETS / "web-extraction"):
        if "脂溢性脱发" in article["name"]:
            (seeds / name).write_text(json.dumps(article, ensure_ascii=False), encoding="utf-8")
    engine = Engine(Settings(seeds_dir=seeds, index_dir=tmp_path / "index"))
    engine.ensure_index()
    question = "脂溢性脱发的人要少吃哪些东西？"
    composer, index = engine.loaded.composer, engine.loaded.index
    hits = [h for h in engine.loaded.searcher.search("脂溢性脱发的饮食调理注意", k=10)
            if h.passage.text == "脂溢性脱发的饮食调理注意："]
    announcer = composer.candidates(question, hits)[0]
    texts = [index.paragraph(c.hit.passage).text[c.start:c.end] for c in composer._list(analyse(question), announcer)]
    assert texts[0] == "脂溢性脱发的饮食调理注意：" and len(texts) == 5
    assert any("少食全脂牛奶、奶油及其制品、油炸食品" in t for t in texts[1:])
    assert [t[0] for t in texts[1:]] == sorted(t[0] for t in texts[1:])  # the items in the article's order


def test_a_comparison_of_things_told_apart_in_different_rows_quotes_each_side():
    q = analyse("H200、H20和Blackwell对华出口状态有什么不同？")
    rows = [option("table", 1, "H200：核心架构 Hopper；对华出口状态 有条件批准。", 12.5, None),
            option("table", 3, "B100/Blackwell系列：核心架构 Blackwell；对华出口状态 禁止出口。", 11.7, None),
            option("news", 2, "H200芯片的性能则大约是H20的六倍，因此颇具吸引力。", 11.2, None),
            option("table", 2, "H20：核心架构 Hopper；对华出口状态 曾受限，后获口头放行。", 11.1, None)]
    picked, _ = choose(q, rows)
    assert [o.text for o in picked] == [rows[0].text, rows[3].text, rows[1].text]  # in the question's order


def test_what_someone_said_includes_the_words_quoted_right_before_the_attribution():
    q = analyse("泰州市委书记朱立凡在教育大会上说了什么？")
    assert q.speaker == "泰州市委书记朱立凡"  # where they spoke is not who spoke
    quoted = "“一定要赓续历史文脉，努力把教育办成老百姓想要的样子。”"
    said = "泰州市委书记朱立凡说，以最好的资源、最强的改革、最大的关爱支持教育。"
    options = [Option(("p", 3, len(quoted), len(quoted) + len(said)), said, normalize(said), 14.7, None, None),
               Option(("p", 3, 0, len(quoted)), quoted, normalize(quoted), 8.9, None, None)]
    picked, _ = choose(q, options)
    assert [o.text for o in picked][:2] == [quoted, said]


def test_a_timeline_tells_each_date_once_and_reaches_further_back_for_named_events():
    q = analyse("H200对华出口经过了哪些变化？")
    weekly = [option("dw", i, f"本周美国正式批准H200芯片对华出口，消息{i}。", 12.5 - i / 10, None, "2026-01-14")
              for i in range(3)]
    approval = option("ft", 1, "1月23日,北京方面批准了首批NVIDIA H200人工智能芯片的进口许可。", 7.0, "2026-01-23", "2026-01-29")
    table = option("report", 1, "H200：对华出口状态 有条件批准。", 13.8, None, "2025-12-15")
    picked, note = choose(q, [table, *weekly, approval])
    assert note == "sequence"
    assert [o.date for o in picked] == ["2025-12-15", "2026-01-14", "2026-01-23"]
