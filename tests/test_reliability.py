"""Faults and hostile input below the chat: killed reindexes, full disks, arbitrary files and questions."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engine import Engine
from bot.settings import Settings
from embeddings.documents import UnreadableFile, read_document, read_file
from embeddings.encoders import HashingEncoder
from embeddings.index import Index, IndexWriteFailed, build_index, current_generation
from embeddings.index.new_segment import passage_tokens
from embeddings.index.manifest import Manifest
from embeddings.textnorm import normalize, split_sentences, to_simplified
from tests.conftest import ROOT, SEEDS

ENC = HashingEncoder(256)
QUESTIONS = ["H200芯片的单价是多少？", "國家網信辦在哪一天約談了英偉達？", "輝達的H200晶片被中國海關擋下了嗎？"]

# Every point of a build where a crash could land: before the writes, in the middle of a file,
# between files, after the manifest, between writing CURRENT.tmp and the rename, after the switch.
STEPS = ["documents-read", "tokenised", "embedded", "created-generation", "wrote-documents", "writing-passages",
         "wrote-passages", "writing-vectors", "wrote-vectors", "wrote-bm25", "wrote-faiss", "wrote-manifest",
         "synced", "publishing", "published", "cleaned"]
WRITE_STEPS = STEPS[3:14]


def answers(index_dir: Path) -> list[str]:
    """The first quote for each seed question, from whatever generation is current."""
    engine = Engine(Settings(seeds_dir=index_dir, index_dir=index_dir, encoder=ENC.id), encoder=ENC)
    engine.ensure_index(build=False)  # loads the current generation, builds nothing
    out = []
    for q in QUESTIONS:
        a = engine.answer(q)
        out.append(a.quotes[0].text if a.quotes else "")
    return out


def generations(index_dir: Path) -> set[str]:
    return {p.name for p in index_dir.glob("gen-*")}


@pytest.fixture
def built(tmp_path):
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    index_dir = tmp_path / "index"
    report = build_index(seeds, index_dir, ENC)
    return seeds, index_dir, report


def add_article(seeds: Path, name: str = "zz_new.txt") -> None:
    (seeds / name).write_text("新文章\n2026-02-01\n這是一篇在重新索引途中出事的新文章，它的段落只有在新一代索引發布後才可見。\n",
                              encoding="utf-8")


def kill_at(step: str, seeds: Path, index_dir: Path) -> bool:
    """Run `python -m bot index`, SIGKILL it while it pauses after `step`; True if it got there."""
    env = dict(os.environ, QUOTEBOT_DEBUG_PAUSE="0.2", QUOTEBOT_ENCODER=ENC.id)
    proc = subprocess.Popen([sys.executable, "-m", "bot", "index", "--seeds", str(seeds), "--index", str(index_dir)],
                            cwd=ROOT, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    reached = False
    try:
        for line in proc.stderr:
            if line.strip() == f"step: {step}":
                reached = True
                break
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    return reached


@pytest.mark.e2e
def test_sigkill_at_every_point_of_a_reindex_leaves_the_old_or_the_new_index(built, reliability):
    seeds, index_dir, first = built
    before = answers(index_dir)
    add_article(seeds)
    for step in STEPS:
        assert kill_at(step, seeds, index_dir), f"the build never reached {step}"
        index = Index.load(index_dir, ENC.id)  # never a crash, never a half-written generation
        has_new = any(p.doc_id == "zz_new.txt" for p in index.passages)
        assert has_new == (STEPS.index(step) >= STEPS.index("published")), step
        assert Manifest.from_json(json.loads((index.path / "manifest.json").read_text())).counts.passages == len(index)
        assert answers(index_dir) == before, step
        if has_new:  # the old index is current again for the next round
            (seeds / "zz_new.txt").unlink()
            build_index(seeds, index_dir, ENC)
            add_article(seeds)
    report = build_index(seeds, index_dir, ENC)  # after all the carnage, an ordinary run finishes the job
    assert report.passages == first.passages + 1
    reliability("SIGKILL of `index` at each build point (before, mid-file, between files, manifest, "
                "CURRENT.tmp, after the switch)", len(STEPS),
                "old or new index loaded every time, never mixed; same answers to the seed questions")


@pytest.mark.parametrize("step", WRITE_STEPS)
def test_disk_full_at_any_write_keeps_the_old_index_serving(built, step, reliability):
    seeds, index_dir, _ = built
    before, gens, current = answers(index_dir), generations(index_dir), current_generation(index_dir)
    add_article(seeds)

    def fail(name):
        if name == step:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(IndexWriteFailed, match="No space left on device.*previous index is still in use"):
        build_index(seeds, index_dir, ENC, on_step=fail)
    assert current_generation(index_dir) == current and generations(index_dir) == gens  # no debris left
    assert answers(index_dir) == before
    build_index(seeds, index_dir, ENC)  # once there is room again, the next run succeeds
    assert any(p.doc_id == "zz_new.txt" for p in Index.load(index_dir, ENC.id).passages)
    reliability("disk full (ENOSPC raised) at each write of a reindex", 1,
                "IndexWriteFailed, one-line reason; old generation current and answering; partial one removed")


def test_sqlite_reporting_a_full_disk_is_a_write_failure_like_any_other(built):
    import sqlite3

    seeds, index_dir, _ = built
    before, current = answers(index_dir), current_generation(index_dir)
    add_article(seeds)

    def full(name):  # SQLite says so in its own words, not as an OSError
        if name == "wrote-documents":
            raise sqlite3.OperationalError("database or disk is full")

    with pytest.raises(IndexWriteFailed, match="No space left on device.*previous index is still in use"):
        build_index(seeds, index_dir, ENC, on_step=full)
    assert current_generation(index_dir) == current and answers(index_dir) == before


def mount_tmpfs(path: Path, size_kb: int) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    path.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(path)], capture_output=True)
    return r.returncode == 0


@pytest.mark.e2e
def test_reindex_on_a_really_full_disk_reports_and_keeps_serving(tmp_path, reliability):
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    probe = tmp_path / "probe"
    build_index(seeds, probe, ENC)
    size_kb = sum(f.stat().st_size for f in probe.rglob("*") if f.is_file()) // 1024
    mnt = tmp_path / "small-disk"
    # Room for the index and for what a build keeps beside it until it ends (the read files, the journal).
    if not mount_tmpfs(mnt, int(size_kb * 3) + 64):
        pytest.skip("cannot mount a small tmpfs here (needs root); ENOSPC is still injected by the test above")
    try:
        index_dir = mnt / "index"
        build_index(seeds, index_dir, ENC)
        before = answers(index_dir)
        add_article(seeds)
        # A reindex of one new file writes only a small segment: leave less room than that.
        with open(mnt / "filler", "wb") as f:
            f.write(b"\0" * max(0, shutil.disk_usage(mnt).free - 16 * 1024))
        env = dict(os.environ, QUOTEBOT_ENCODER=ENC.id)
        r = subprocess.run([sys.executable, "-m", "bot", "index", "--seeds", str(seeds), "--index", str(index_dir)],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert r.returncode == 2
        assert "No space left on device" in r.stderr and "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
        assert answers(index_dir) == before and len(generations(index_dir)) == 1
        reliability("reindex onto a really full disk (tmpfs, 16 KB left)", 1,
                    "exit 2, one line: 'No space left on device … previous index is still in use'; old index answers")
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_a_busy_index_is_refused_not_corrupted(built):
    import fcntl

    seeds, index_dir, _ = built
    before = answers(index_dir)
    add_article(seeds)
    with open(index_dir / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        engine = Engine(Settings(seeds_dir=seeds, index_dir=index_dir, encoder=ENC.id), encoder=ENC)
        engine.ensure_index(build=False)
        from embeddings.index import IndexBusy

        with pytest.raises(IndexBusy):
            engine.reindex()
        assert [engine.ask(q).quotes[0].text if engine.ask(q).quotes else "" for q in QUESTIONS] == before


# --- arbitrary files: read or skipped with a warning, never an exception past the loader ------------

SUFFIXES = st.sampled_from([".txt", ".md", ".json", ".html", ".TXT", ""])
NASTY = st.text(alphabet=st.one_of(st.characters(), st.sampled_from(["\ud800", "\udfff", "\x00", "\u202e", "\ufeff"])),
                max_size=400)  # any code point, lone surrogates and NUL included
SCRIPTS = st.text(alphabet=st.sampled_from(list("中國华语‮‏؀ab1 \n\t\r\x00\x1b😀🇨🇳「」《》#-*:{}[]\"<>&")), max_size=400)


def check_read(data: bytes, suffix: str, tmp_path: Path) -> None:
    try:
        docs, notes = read_document(data, f"f{suffix}")
    except UnreadableFile:
        docs = []
    for d in docs:  # what is read is clean enough to quote: no control characters, no NUL
        for p in d.paragraphs:
            assert p.text and "\x00" not in p.text
            assert all(p.text[a:b] for a, b in p.sentences)
    name = f"bad-{uuid.uuid4().hex[:8]}{suffix}"
    (tmp_path / name).write_bytes(data)
    docs2, warnings = read_file(tmp_path, name)
    assert docs2 or any(w.path == name for w in warnings)
    assert not any("unexpected" in w.reason for w in warnings), warnings


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=3000), suffix=SUFFIXES)
def test_arbitrary_bytes_are_read_or_skipped_with_a_warning(tmp_path, data, suffix, reliability):
    check_read(data, suffix, tmp_path)
    reliability("arbitrary bytes as a seed file (hypothesis)", 1, "read, or skipped with a warning naming the file")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(NASTY, SCRIPTS), suffix=SUFFIXES, shape=st.sampled_from(["raw", "json", "front", "broken"]))
def test_arbitrary_unicode_in_any_shape_is_read_or_skipped(tmp_path, text, suffix, shape, reliability):
    if shape == "json":
        body = json.dumps({"title": text[:40], "date": text[:12], "body": text, "url": text[:20]}, ensure_ascii=False)
    elif shape == "front":
        body = f"---\ntitle: {text[:40]}\ndate: {text[:10]}\n---\n{text}"
    elif shape == "broken":
        body = f"---\ntitle: [unclosed\n{text}"
    else:
        body = text
    check_read(body.encode("utf-8", "surrogatepass"), suffix, tmp_path)
    reliability("arbitrary Unicode (mixed scripts, emoji, RTL, controls, lone surrogates, NUL) as raw text, JSON, "
                "front matter, broken front matter (hypothesis)", 1, "read, or skipped with a warning naming the file")


@pytest.mark.parametrize("data", [
    b"[" * 200_000,
    b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    json.dumps({"title": "大", "body": "长" * 3_000_000}, ensure_ascii=False).encode(),
    json.dumps([{"title": f"标题{i}", "body": "正文。" * 3} for i in range(20_000)], ensure_ascii=False).encode(),
    b"---\n" + b"key: [" * 10_000,
    b"---\ntitle: x\n",
    "---\ntitle: 標題\ndate: not-a-date\n---\n正文。".encode("big5", "replace"),
], ids=["deep-array", "deep-object", "huge-string", "20k-articles", "yaml-bomb-ish", "front-only", "big5-bad-date"])
def test_hostile_structures_do_not_escape_the_loader(tmp_path, data, reliability):
    check_read(data, ".json", tmp_path)
    reliability("deeply nested / huge JSON, 20k-article JSON, broken YAML, Big5 with a bad date", 1,
                "read, or skipped with a warning; nothing raised past the loader")



@settings(max_examples=200, deadline=None)
@given(text=st.one_of(NASTY, SCRIPTS))
def test_text_layer_never_raises_and_sentences_cover_the_text(text):
    normalize(text)
    to_simplified(text)
    spans = split_sentences(text)
    assert all(0 <= a < b <= len(text) for a, b in spans)


# --- every quote for arbitrary questions is a verbatim slice of its source --------------------------


@pytest.fixture(scope="module")
def seed_engine(tmp_path_factory):
    work = tmp_path_factory.mktemp("engine")
    engine = Engine(Settings(seeds_dir=SEEDS, index_dir=work / "index", encoder=ENC.id), encoder=ENC)
    engine.ensure_index()
    return engine


SEED_WORDS = st.sampled_from(["H200", "芯片", "英伟达", "輝達", "海关", "單價", "多少", "哪一天", "谁", "为什么", "美元",
                              "商务部", "黄仁勋", "？", "吗", "的", "是"])
QUESTION = st.one_of(NASTY, SCRIPTS, st.lists(SEED_WORDS, min_size=1, max_size=12).map("".join))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(question=QUESTION)
def test_every_quote_for_any_question_is_verbatim(seed_engine, question, reliability):
    from bot.engine import QuestionError

    try:
        answer = seed_engine.ask(question)
    except QuestionError:
        reliability("arbitrary questions (hypothesis: random Unicode, seed-vocabulary mixes)", 1,
                    "every quote a verbatim slice of its source paragraph; at most three; none when abstaining")
        return
    index = seed_engine.loaded.index
    for q in answer.quotes:
        assert index.paragraph(q.passage).text[q.start:q.end] == q.text
        assert q.text in answer.sources[answer.source_number(q) - 1].passage
    assert len(answer.quotes) <= 5 and (not answer.abstained or not answer.quotes)
    reliability("arbitrary questions (hypothesis: random Unicode, seed-vocabulary mixes)", 1,
                "every quote a verbatim slice of its source paragraph; at most three; none when abstaining")



def test_a_build_killed_while_embedding_resumes_without_embedding_again(tmp_path, monkeypatch):
    """SIGKILL after the 2nd of 5 embedded batches; the next build takes those vectors and every cut back
    from the journal, embeds only the rest, cuts nothing, and ends with the index an uninterrupted build makes."""
    import embeddings.index.new_segment as new_segment
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for f in range(30):  # 1,500 passages of two sentences: 3 batches of 1,024 sentences, then 2 of passages
        body = "".join(f"第{f}号文件的第{i}段说，编号{f * 100 + i}的仓库今年存货{i * 7 + f}吨。"
                       f"仓库{f * 100 + i}明年将扩建{i + f}座库房。\n\n" for i in range(50))
        (seeds / f"{f:03d}.md").write_text(f"---\ntitle: 仓库{f}\ndate: 2026-01-01\n---\n\n{body}", encoding="utf-8")
    index_dir = tmp_path / "index"
    env = dict(os.environ, QUOTEBOT_DEBUG_PAUSE="0.02", QUOTEBOT_ENCODER=ENC.id)
    proc = subprocess.Popen([sys.executable, "-m", "bot", "index", "--seeds", str(seeds), "--index", str(index_dir)],
                            cwd=ROOT, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    batches = 0
    try:
        for line in proc.stderr:
            batches += line.strip() == "step: embedded-batch"
            if batches == 2:
                break
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert batches == 2 and current_generation(index_dir) is None
    assert list(index_dir.glob("spill-*"))  # what the killed build held on disk, left behind by SIGKILL
    cuts = []
    monkeypatch.setattr(new_segment, "passage_tokens", lambda tokenizer, p: cuts.append(p) or passage_tokens(tokenizer, p))
    resumed = build_index(seeds, index_dir, ENC)
    assert cuts == []  # all 1,500 were cut, and committed, before the kill
    assert resumed.resumed == 2 * 1024 and resumed.passages == 1500
    assert "2048 vectors from the interrupted build" in resumed.summary()
    assert not (index_dir / "embedding-journal.sqlite").exists()  # published: its vectors are in the index now
    assert not list(index_dir.glob("spill-*"))  # the killed build's read files and sentence vectors are gone too
    whole = build_index(seeds, tmp_path / "whole", ENC)
    a, b = Index.load(index_dir, ENC.id), Index.load(tmp_path / "whole", ENC.id)
    rows = list(range(a.rows))
    assert whole.resumed == 0 and np.array_equal(a.vectors(rows), b.vectors(rows))
    assert len(cuts) == 1500  # the uninterrupted build
    for row in (0, 777, 1499):
        assert [t.tolist() for t in a.sentences_token_ids(row)] == [t.tolist() for t in b.sentences_token_ids(row)]
