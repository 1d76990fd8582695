"""Real pages collected from public repositories (tests/pages, origins in its README): title, date, body, furniture."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from embeddings.documents import read_document

PAGES = Path(__file__).parent / "pages"
MANIFEST = json.loads((PAGES / "manifest.json").read_text(encoding="utf-8"))["pages"]
# What the readers still get wrong on these pages, each with the reason; strict, so a fix is noticed.
KNOWN = {
    ("10_gne_hexun_jingjinji.html", "body"): "a one-paragraph story: trafilatura's far longer text (the page around it) wins",
    ("48_ayltai_oriental_cuhk.html", "body"): "readability leaves out one paragraph that trafilatura keeps",
    ("05_gne_ifeng_girl_eye.html", "dropped"): "a caption written as a sentence under its picture",
    ("11_gne_cjn_wuhan.html", "dropped"): "a caption written as a sentence under its picture",
    ("16_gne_cmse_space_station.html", "dropped"): "a caption in bold with no picture beside it in the kept block",
    ("33_cx_163_likeqiang_gbk.txt", "dropped"): "a headline, site and date run together on one line of plain text",
    ("35_twnews_appledaily_fall.html", "dropped"): "a helpline notice appended to the story",
}


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def read(entry: dict):
    docs, _ = read_document((PAGES / entry["file"]).read_bytes(), entry["file"])
    return docs[0]  # a crawler's array file: its first record is the one described


def cases(what: str) -> list:
    """One case a page, those in KNOWN expected to fail (strictly: a fix shows up as a failure to update KNOWN)."""
    return [pytest.param(e, id=e["file"], marks=[pytest.mark.xfail(reason=KNOWN[e["file"], what], strict=True)]
                         if (e["file"], what) in KNOWN else []) for e in MANIFEST]


@pytest.fixture(scope="module")
def documents():
    return {e["file"]: read(e) for e in MANIFEST}


def kept(document) -> str:
    return squash("\n".join(p.text for p in document.paragraphs))


@pytest.mark.parametrize("entry", cases("title"))
def test_the_title_is_the_headline_without_the_site(entry, documents):
    assert squash(documents[entry["file"]].title) == squash(entry["title"])


@pytest.mark.parametrize("entry", cases("date"))
def test_the_date_is_the_publication_date_or_unknown(entry, documents):
    assert documents[entry["file"]].date == entry["date"]


@pytest.mark.parametrize("entry", cases("body"))
def test_the_body_sentences_are_kept(entry, documents):
    assert all(squash(s) in kept(documents[entry["file"]]) for s in entry["body"])


@pytest.mark.parametrize("entry", cases("dropped"))
def test_the_page_furniture_is_dropped(entry, documents):
    assert not any(squash(s) in kept(documents[entry["file"]]) for s in entry["dropped"])


def test_the_collection_covers_what_the_readers_meet():
    assert len(MANIFEST) >= 40
    assert len({e["outlet"] for e in MANIFEST}) >= 12
    assert sum(e["script"] == "traditional" for e in MANIFEST) >= 8
    assert sum(e["encoding"] in ("gbk", "gb2312", "gb18030") for e in MANIFEST) >= 4
    assert {e["shape"] for e in MANIFEST} >= {"html", "text", "json"}
    assert sum("<br>" in e.get("notes", "") for e in MANIFEST) >= 2
