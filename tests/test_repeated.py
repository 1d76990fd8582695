"""Lines repeated across the corpus's documents (menus, footers, promos) are furniture, decided at index time."""

from __future__ import annotations

from embeddings.boilerplate import repeat_key, repeated
from embeddings.encoders import HashingEncoder
from embeddings.index import Index, build_index
from embeddings.search import Searcher

ENC = HashingEncoder(256)
FOOTER = "主办单位：本市日报社，地址：建国路88号，电话：12345678。"
PROGRAMME = ["8:30，开幕式；", "9:00，主题报告；", "10:30，分组讨论。"]


def story(title: str, body: str, extra: list[str]) -> str:
    return "\n".join([title, "2024-05-0" + str(len(title) % 9 + 1), body, *extra]) + "\n"


def test_a_line_on_every_site_page_stops_being_searched_and_a_reindex_decides_it(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    bodies = ["本市今年将新建二十所中小学，预计新增学位三万个，以缓解入学难问题，相关工程已经陆续开工建设。",
              "市交通部门表示，地铁五号线将于年底开通运营，全线设站二十二座，沿线居民出行将更加便利快捷。"]
    (seeds / "a.txt").write_text(story("本市新建二十所中小学", bodies[0], [FOOTER]), encoding="utf-8")
    (seeds / "b.txt").write_text(story("地铁五号线年底开通", bodies[1], [FOOTER]), encoding="utf-8")
    index_dir = tmp_path / "index"
    build_index(seeds, index_dir, ENC)
    found = Searcher(Index.load(index_dir, ENC.id), ENC).search("主办单位 日报社 建国路", k=5)
    assert any(FOOTER in h.passage.text for h in found)  # two pages are not yet a pattern
    # A third site page with the same footer, and a conference story syndicated twice with its programme.
    (seeds / "c.txt").write_text(story("全市夏粮喜获丰收", "今年全市夏粮总产量达到一百二十万吨，比上年增长百分之三，再创历史新高。", [FOOTER]),
                                 encoding="utf-8")
    for name in ("d.txt", "e.txt"):
        (seeds / name).write_text(story("经济学年会在南开大学举行", "第四届中国经济学年会昨日在南开大学开幕，来自全国的四百多名学者参会。",
                                        ["会议议程如下：", *PROGRAMME]), encoding="utf-8")
    build_index(seeds, index_dir, ENC)
    index = Index.load(index_dir, ENC.id)
    found = Searcher(index, ENC).search("主办单位 日报社 建国路", k=5)
    assert not any(FOOTER in h.passage.text for h in found)
    assert all(any(b in h.passage.text for h in Searcher(index, ENC).search(b[:12], k=3)) for b in bodies)
    programme = Searcher(index, ENC).search("开幕式 主题报告 分组讨论", k=10)
    assert any(PROGRAMME[0] in h.passage.text for h in programme)  # one story's copies count once
    assert index.manifest.repeated


def test_repeat_keys_skip_news_paragraphs_and_copies_count_once():
    assert repeat_key("今年全市夏粮总产量达到一百二十万吨，比上年增长百分之三，再创历史新高，农民增收明显。") is None
    k = repeat_key(FOOTER)
    assert k == repeat_key("主辦單位：本市日報社，地址：建國路88號，電話：12345678。")  # folded: one key in both scripts
    assert repeated([(k, "t1"), (k, "t2"), (k, "t3")]) == {k}
    assert repeated([(k, "t1"), (k, "t1"), (k, "t2")]) == frozenset()
