"""The seeds read into clean, dated paragraphs; hostile files skipped with a warning naming them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from embeddings.documents import load_corpus, parse_date, read_document, UnreadableFile
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def corpus(seeds_dir):
    return load_corpus(seeds_dir)


def doc(corpus, prefix):
    (d,) = [d for d in corpus.documents if d.path.startswith(prefix)]
    return d


def texts(d):
    return [p.text for p in d.paragraphs]


def all_text(d):
    return "\n".join(texts(d))


def test_all_five_seeds_are_read(corpus):
    assert len(corpus.documents) == 5
    assert [w for w in corpus.warnings if "skipped" in w.reason] == []


def test_json_article_metadata_and_body(corpus):
    d = doc(corpus, "000_")
    assert d.title == "消息人士：中国海关不允许英伟达H200芯片入境"
    assert d.date == "2026-01-14"
    assert d.url == "https://p.dw.com/p/56no9"
    assert d.author == "德正"
    assert any("单价27000美元" in t for t in texts(d))
    # Headings become sections, never paragraphs.
    assert "北京动机不明" not in texts(d)
    assert {p.section for p in d.paragraphs} >= {"北京动机不明", "谈判筹码？"}
    body = all_text(d)
    assert "版权声明" not in body and "著作权" not in body
    assert "Instagram" not in body
    assert "<a" not in body and "<strong>" not in body and "<em>" not in body
    assert "H200芯片对华出口" in body  # link text is kept when the tag goes
    assert any(x.rule == "media" for x in d.dropped)


def test_markdown_front_matter_and_tables(corpus):
    d = doc(corpus, "001_")
    assert d.title == "英伟达H200芯片对华出口政策分析：有限松动下的科技博弈"
    assert d.date == "2025-12-15"
    assert d.url == "https://www.fuyaonews.com/technology/nvidia-h200-china-export-policy"
    assert d.author == "扶摇AI"
    assert "H200" in d.tags
    rows = [p for p in d.paragraphs if p.kind == "table_row"]
    moore = [p.text for p in rows if p.text.startswith("摩尔线程：")]
    assert moore and moore[0].startswith("摩尔线程：主要应用领域 AI计算、图形渲染")
    assert "{#" not in all_text(d) and "**" not in all_text(d) and "<br" not in all_text(d)
    sections = {p.section for p in d.paragraphs}
    assert "政策的具体内容与背景" in sections
    assert not any(s and "{#" in s for s in sections)


def test_plain_text_mixed_scripts(corpus):
    d = doc(corpus, "002_")
    assert d.title == "中國批准進口輝達晶片:技術需求與自主戰略的平衡術"
    assert d.date == "2026-01-29"
    assert d.url is None
    assert texts(d)[0].startswith("1月23日,北京方面批准了首批NVIDIA H200")
    assert "29/01/2026" not in all_text(d)


def test_scraped_portal_page(corpus):
    d = doc(corpus, "003_")
    assert d.title.startswith("黄仁勋曾赴白宫力劝特朗普")
    assert d.date == "2025-07-19"
    assert d.author == "创始人"
    body = all_text(d)
    for junk in ["兆驰股份", "金价", "热门资讯", "相关内容", "图源", "本期编辑", "2025-11-07"]:
        assert junk not in body, junk
    assert texts(d)[0].startswith("据央视新闻报道")
    assert any("商务部部长王文涛会见美国英伟达公司总裁" in t for t in texts(d))
    assert not any(t.strip() == "0" for t in texts(d))


def test_scraped_magazine_page_traditional(corpus):
    d = doc(corpus, "004_")
    assert d.title == "英偉達解禁售華H20芯片後即遭中方約談，《人民日報》評論問「讓我怎麼相信你」"
    assert d.source == "Whatsnew"
    # The only dates on the page are photo-caption dates: the date is unknown, not wrong.
    assert d.date is None
    assert d.paragraphs[0].kind == "subtitle"
    assert d.paragraphs[0].text.startswith("H20晶片售華或添變數")
    body = all_text(d)
    assert any("上癮" in t for t in texts(d))
    for junk in ["走進編輯室", "會員", "Getty Images", "Reuters/", "2025 7 16", "2025 7 20"]:
        assert junk not in body, junk
    assert "NVIDIA" not in texts(d)


@pytest.mark.parametrize("prefix", ["002_", "003_", "004_"])
def test_text_paragraphs_are_verbatim_and_nothing_is_silently_lost(corpus, seeds_dir, prefix):
    d = doc(corpus, prefix)
    raw = (seeds_dir / d.path).read_text(encoding="utf-8")
    for p in d.paragraphs:
        assert p.text in raw
    accounted = set(texts(d)) | {p.section for p in d.paragraphs} | {x.text for x in d.dropped}
    accounted.add(d.title)
    for line in raw.splitlines():
        line = line.strip()
        if line and line not in accounted:
            assert line.split(" | ")[0] == d.title, f"line lost: {line!r}"


def test_sentences_are_verbatim_slices_with_balanced_quotes(corpus):
    pairs = {"“": "”", "「": "」", "『": "』", "（": "）", "《": "》"}
    for d in corpus.documents:
        for p in d.paragraphs:
            assert p.sentences, p.text
            for a, b in p.sentences:
                s = p.text[a:b]
                assert s == s.strip() and s
                for o, c in pairs.items():
                    assert s.count(o) == s.count(c), s


def test_every_news_line_of_the_json_body_is_kept(corpus, seeds_dir):
    from embeddings.documents import strip_html

    d = doc(corpus, "000_")
    data = json.loads((seeds_dir / d.path).read_text(encoding="utf-8"))
    kept = set(texts(d))
    for block in data["body"]:
        c = block["content"]
        if c.get("type") != "Paragraph":
            continue
        text = strip_html(c["text"])
        if "<strong>" in c["text"] or "<em>" in c["text"] or text == "（据路透社）":
            continue
        assert text in kept, text


def test_date_forms():
    assert parse_date("29/01/2026") == "2026-01-29"
    assert parse_date("2025-07-19 00:09:16") == "2025-07-19"
    assert parse_date("2025年7月19日") == "2025-07-19"
    assert parse_date("2026-01-14T11:36:59.004Z") == "2026-01-14"
    assert parse_date("2025 7 16") is None
    assert parse_date("31/02/2026") is None


# --- hostile files written by the tests ---------------------------------------------------

GB_TEXT = "国产芯片取得新进展\n2025-03-02\n据报道，国产人工智能芯片厂商今年的出货量同比增长了三倍，市场份额进一步扩大。\n分析人士认为，这一趋势将在明年继续。\n"
BIG5_TEXT = "台積電擴大先進封裝產能\n2025年4月5日\n台積電宣布將在明年把先進封裝產能提高一倍，以滿足人工智慧晶片的強勁需求。\n法人認為，相關供應鏈可望同步受惠。\n"


def write_hostile(folder: Path) -> None:
    (folder / "gbk.txt").write_bytes(GB_TEXT.encode("gbk"))
    (folder / "big5.txt").write_bytes(BIG5_TEXT.encode("big5"))
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 64)
    (folder / "broken.json").write_text('{"name": "x", "body": [', encoding="utf-8")
    (folder / "nofm.md").write_text(
        "# 無前言的文章標題\n\n這是一篇沒有前言的 Markdown 文章，內容仍然應該被讀取出來。\n\n## 小節\n\n第二段也在這裡。\n",
        encoding="utf-8",
    )
    with open(folder / "huge.txt", "wb") as f:
        f.write(("巨大的文件。" * 1200 + "\n").encode("utf-8") * 1000)  # ~21.6 MB


def test_hostile_files_warn_and_the_rest_are_read(seeds_copy):
    write_hostile(seeds_copy)
    corpus = load_corpus(seeds_copy)
    by_path = {d.path: d for d in corpus.documents}
    warned = {w.path: w.reason for w in corpus.warnings}
    # The seeds are all still there.
    assert sum(p.startswith("00") for p in by_path) == 5
    # Legacy encodings are detected, not assumed.
    assert by_path["gbk.txt"].title == "国产芯片取得新进展"
    assert by_path["gbk.txt"].date == "2025-03-02"
    assert "出货量同比增长了三倍" in by_path["gbk.txt"].paragraphs[0].text
    assert by_path["big5.txt"].title == "台積電擴大先進封裝產能"
    assert by_path["big5.txt"].date == "2025-04-05"
    assert "先進封裝產能提高一倍" in by_path["big5.txt"].paragraphs[0].text
    # Each bad file: skipped, with a warning that names it and says why.
    assert "empty" in warned["empty.txt"]
    assert "binary" in warned["binary.txt"]
    assert "invalid JSON" in warned["broken.json"]
    assert "too large" in warned["huge.txt"]
    for name in ["empty.txt", "binary.txt", "broken.json", "huge.txt"]:
        assert name not in by_path
    # Markdown without front matter is read, with a warning that its metadata is missing.
    nofm = by_path["nofm.md"]
    assert nofm.title == "無前言的文章標題" and nofm.date is None
    assert "no front matter" in warned["nofm.md"]
    assert any("第二段也在這裡" in p.text for p in nofm.paragraphs)


def test_unreadable_raises_specific_error():
    with pytest.raises(UnreadableFile):
        read_document(b"   \n  ", "blank.txt")
    with pytest.raises(UnreadableFile, match="JSON"):
        read_document(b"[" * 100000, "deep.json")


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_corpus_command_lists_documents_and_warns_for_bad_files(seeds_copy):
    write_hostile(seeds_copy)
    r = run_cli("corpus", "--seeds", str(seeds_copy), "--verbose")
    assert r.returncode == 0, r.stderr
    assert "消息人士：中国海关不允许英伟达H200芯片入境" in r.stdout
    assert "date:       unknown" in r.stdout
    assert "[link_list] 热门资讯" in r.stdout
    for name in ["empty.txt", "binary.txt", "broken.json", "huge.txt"]:
        assert re.search(rf"warning: {re.escape(name)}: skipped", r.stderr), name
    assert "Traceback" not in r.stderr


def test_corpus_command_missing_folder_is_one_line():
    r = run_cli("corpus", "--seeds", "/nonexistent/seeds")
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "not found" in r.stderr


def test_a_gbk_page_cut_inside_a_character_is_read_not_called_binary():
    from embeddings.documents import decode

    body = ("<p>" + "据报道，国产人工智能芯片厂商今年的出货量同比增长了三倍。" * 30 + "</p>").encode("gbk")
    data = b"<html><head><title>" + "国产芯片".encode("gbk") + b"</title></head><body>" + body[:400] + b"\xb0 " + body[400:] + b"</body></html>"
    text = decode(data)
    assert "出货量同比增长了三倍" in text and text.count("\ufffd") <= 1
    with pytest.raises(UnreadableFile):
        decode(bytes(range(128, 256)) * 64)  # no encoding fits bytes that are not text


def test_a_page_is_read_in_the_encoding_it_declares_despite_a_broken_byte():
    from embeddings.documents import decode

    head = b'<text id="http://bbs.example/1.shtml" encoding="gb2312"><html><head><title>'
    body = ("【2005年度中国革命历史巨作】【太行山上】" + "《太行山上》主要讲述八路军总司令朱德率领八路军东渡黄河。" * 40).encode("gb2312")
    text = decode(head + body[:900] + b"\xff" + body[900:] + b"</title></head></html>")
    assert "八路军总司令朱德" in text and text.count("\ufffd") == 1


def test_crawler_records_are_articles_whatever_their_field_names():
    records = [
        {"src": "央视新闻", "title": "全市夏粮喜获丰收", "url": "http://news.example.com/2017/06/20/a.shtml",
         "time": "2017年06月20日20:28\t\t",
         "content": "<p>\u3000\u3000今年全市夏粮总产量达到一百二十万吨。<br>比上年增长百分之三，再创历史新高。</p>"},
        {"publisher": {"name": "示例日报"}, "headline": "地铁五号线年底开通", "publish_time": "2017-06-21 08:00",
         "text": "市交通部门表示，地铁五号线将于年底开通运营。\n全线设站二十二座。"},
    ]
    docs, _ = read_document(json.dumps(records, ensure_ascii=False).encode("utf-8"), "records.json")
    assert [d.title for d in docs] == ["全市夏粮喜获丰收", "地铁五号线年底开通"]
    assert [d.date for d in docs] == ["2017-06-20", "2017-06-21"]
    assert [d.source for d in docs] == ["央视新闻", "示例日报"]
    assert [p.text for p in docs[0].paragraphs] == ["今年全市夏粮总产量达到一百二十万吨。", "比上年增长百分之三，再创历史新高。"]
    assert [p.text for p in docs[1].paragraphs] == ["市交通部门表示，地铁五号线将于年底开通运营。", "全线设站二十二座。"]


def test_corpus_json_gives_each_document_what_may_be_quoted_and_what_was_left_out(seeds_copy):
    write_hostile(seeds_copy)
    footer = "主办单位：本市日报社，地址：建国路88号，电话：12345678。"
    for i, title in enumerate(["本市新建二十所中小学", "地铁五号线年底开通", "全市夏粮喜获丰收"]):
        (seeds_copy / f"site{i}.txt").write_text(
            f"{title}\n2024-05-0{i + 1}\n{title}，这是一条足够长的新闻正文段落，用来说明这篇报道的主要内容和来龙去脉。\n{footer}\n",
            encoding="utf-8")
    r = run_cli("corpus", "--json", "--seeds", str(seeds_copy))
    assert r.returncode == 0, r.stderr
    docs = [json.loads(line) for line in r.stdout.splitlines()]
    assert {"path", "shape", "title", "date", "url", "source", "author", "paragraphs", "dropped", "warnings"} <= set(docs[0])
    by_path = {d["path"]: d for d in docs}
    site = by_path["site0.txt"]
    assert site["title"] == "本市新建二十所中小学" and site["date"] == "2024-05-01"
    assert all(set(p) == {"text", "section"} for p in site["paragraphs"])
    assert footer not in [p["text"] for p in site["paragraphs"]]
    assert {"rule": "repeated", "text": footer} in site["dropped"]  # on three sites' pages: furniture
    assert any(d["rule"] == "dateline" for d in site["dropped"])
    assert "binary.txt" not in by_path and "warning: binary.txt" in r.stderr
