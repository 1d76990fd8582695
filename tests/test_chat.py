"""Chat policy and Telegram HTML rendering, without a network: limits, addressing, buttons, escaping, splitting."""

from __future__ import annotations

import html
import re

import pytest

from bot.answer import Answer, Quote, Source
from bot.chat import ParagraphRef, RateLimiter, Stats, addressed_question, example_questions
from bot.render import TELEGRAM_LIMIT, answer_html, pack, paragraph_html, sources_html, text_chunks, units
from embeddings.documents import load_corpus
from embeddings.passages import Passage
from tests.conftest import SEEDS

HOSTILE = '<b>x</b> & <a href="javascript:alert(1)">y</a> &amp; <script>'
ALLOWED_TAGS = {"b", "/b", "i", "/i", "a", "/a", "code", "/code", "blockquote", "/blockquote"}


def tags(html_text: str) -> set[str]:
    return {m.split()[0] for m in re.findall(r"<([^>]+)>", html_text)}


def test_rate_limiter_is_a_sliding_window_per_user():
    rl = RateLimiter(5, 10.0)
    assert [rl.check(1, t) for t in (0, 1, 2, 3, 4)] == [0.0] * 5
    assert rl.check(1, 5) == pytest.approx(5.0)  # the oldest (t=0) frees up at t=10
    assert rl.check(2, 5) == 0.0  # another user is not affected
    assert rl.check(1, 10.0) == 0.0


def test_stats_percentiles():
    s = Stats()
    for i in range(1, 101):
        s.record(i / 1000, abstained=i % 4 == 0)
    summary = s.summary()
    assert summary["questions"] == 100 and summary["abstention_rate"] == 0.25
    assert summary["p50_ms"] == pytest.approx(50.5) and summary["p95_ms"] == pytest.approx(95)


@pytest.mark.parametrize("text, private, reply, expected", [
    ("问题", True, False, "问题"),
    ("问题", False, False, None),
    ("@TestNameBot 问题", False, False, "问题"),
    ("问题 @testnamebot", False, False, "问题"),
    ("问题", False, True, "问题"),
    ("@OtherBot 问题", False, False, None),
])
def test_group_messages_are_questions_only_when_addressed(text, private, reply, expected):
    assert addressed_question(text, private=private, username="TestNameBot", reply_to_bot=reply) == expected


def test_paragraph_ref_round_trips_within_64_bytes_and_detects_changes():
    docs = {d.id: d for d in load_corpus(SEEDS).documents}
    doc = next(iter(docs.values()))
    text = doc.paragraphs[3].text
    ref = ParagraphRef.make(doc.id, 3, text, 2, 9)
    data = ref.encode()
    assert len(data.encode()) <= 64
    assert ParagraphRef.decode(data) == ref
    assert ParagraphRef.decode(data).resolve(docs) == (doc, text)
    assert ParagraphRef.make(doc.id, 3, text + "改").resolve(docs) is None  # the paragraph changed since
    for bad in ("", "p|x", "p|a|b|c|d|e", "q|1|2|3|4|5", "p|" + "9" * 500):
        assert ParagraphRef.decode(bad) is None or ParagraphRef.decode(bad).resolve(docs) is None


def make_answer(question: str, paragraph: str, start: int, end: int, title: str, url: str | None) -> Answer:
    passage = Passage("pid", "doc", 0, 0, len(paragraph), paragraph, None, ((0, len(paragraph)),), "text")
    quote = Quote(paragraph[start:end], passage, start, end, 1.0, 1.0)
    source = Source("doc", "doc.txt", title, "2026-01-14", url, None, paragraph, 0.9, 0)
    return Answer(question, False, 0.9, (quote,), (source,))


def test_answer_html_escapes_every_document_string():
    para = f"他说{HOSTILE}然后离开。"
    answer = make_answer("他说了什么？", para, 0, len(para), HOSTILE, 'https://x.org/?a=1&b="2"')
    out = "\n\n".join(answer_html(answer))
    assert tags(out) <= ALLOWED_TAGS
    assert "javascript" not in re.findall(r'href="([^"]*)"', out)[0]
    assert html.unescape(re.sub(r"<[^>]+>", "", out)).count(HOSTILE) == 2  # in the quote and the title


def test_non_http_links_are_not_linked():
    answer = make_answer("问？", "甲乙丙。", 0, 4, "标题", "javascript:alert(1)")
    out = "\n\n".join(answer_html(answer))
    assert "<a " not in out


def test_paragraph_view_highlights_the_quote_and_splits_long_paragraphs():
    para = ("甲乙丙丁&戊。" * 1500) + "目标句子。" + ("己庚辛<壬>。" * 200)
    start = para.index("目标句子")
    blocks = paragraph_html(HOSTILE, None, None, para, (start, start + 5), traditional=False)
    messages = pack(blocks)
    assert len(messages) > 1 and all(units(m) <= TELEGRAM_LIMIT for m in messages)
    joined = "".join(html.unescape(re.sub(r"<[^>]+>", "", b)) for b in blocks[1:])
    assert joined == para
    assert any("<b>目标句子。</b>" in b for b in blocks)
    assert all(tags(m) <= ALLOWED_TAGS for m in messages)


def test_text_chunks_cover_the_text_and_respect_the_budget():
    text = "😀&<" * 3000 + "句子。" * 10
    spans = text_chunks(text, 1000)
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    assert all(a == prev_b for (a, _), (_, prev_b) in zip(spans[1:], spans))
    assert all(units(html.escape(text[a:b])) <= 1000 for a, b in spans)


def test_pack_keeps_blocks_whole_and_fits_the_limit():
    blocks = [f"<b>{i}</b>" + "字" * 900 for i in range(12)]
    messages = pack(blocks)
    assert all(units(m) <= TELEGRAM_LIMIT for m in messages)
    assert "\n\n".join(messages) == "\n\n".join(blocks)
    with pytest.raises(ValueError):
        pack(["字" * (TELEGRAM_LIMIT + 1)])


def test_sources_list_is_newest_first_and_escaped():
    docs = load_corpus(SEEDS).documents
    out = "\n\n".join(sources_html(list(docs), traditional=False))
    dates = re.findall(r"· (\d{4}-\d{2}-\d{2})", out)
    assert dates == sorted(dates, reverse=True) and len(dates) >= 4
    assert tags(out) <= ALLOWED_TAGS


def test_example_questions_ask_about_the_names_in_the_newest_titles():
    from embeddings.tokens import Tokenizer
    from bot.followup import topics_of

    docs = load_corpus(SEEDS).documents
    tokenizer = Tokenizer()
    examples = example_questions(list(docs), lambda title: topics_of(title, tokenizer.tagged, tokenizer.names.__contains__,
                                                                     tokenizer.in_dictionary))
    assert len(examples) >= 3 and all(q.endswith("？") for q in examples)
    assert len(set(examples)) == len(examples) and not any(q[:-1] in d.title for q in examples for d in docs)
    newest = max(docs, key=lambda d: (d.date or "", d.id))
    name = examples[0].split("最新")[0]
    assert name and name in newest.title  # a question about the newest article's subject, not its title


# --- `serve` fails in one line, without echoing the token ---------------------------------------


def run_serve(env_extra: dict, tmp_path):
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {k: v for k, v in os.environ.items() if k not in {"TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE_URL"}}
    env.update(env_extra, QUOTEBOT_ENCODER="hash:64")
    return subprocess.run([sys.executable, "-m", "bot", "serve", "--seeds", str(SEEDS), "--index", str(tmp_path / "i")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("token, expected", [
    (None, "TELEGRAM_BOT_TOKEN is not set"),
    ("not-a-token-s3cr3tvalue", "does not look like a bot token"),
    ("12345:short", "does not look like a bot token"),
])
def test_serve_with_a_missing_or_malformed_token_is_one_line(tmp_path, token, expected):
    r = run_serve({"TELEGRAM_BOT_TOKEN": token} if token else {}, tmp_path)
    assert r.returncode == 2 and expected in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    if token:
        assert token not in r.stderr + r.stdout


def test_serve_when_the_bot_api_is_unreachable_is_one_line_without_the_token(tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = "123456:AAE-unreachable_token_for_the_test_0001"
    r = run_serve({"TELEGRAM_BOT_TOKEN": token, "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{port}"}, tmp_path)
    assert r.returncode == 2
    assert "cannot reach the Telegram Bot API" in r.stderr and "Traceback" not in r.stderr
    assert token not in r.stderr + r.stdout and token.split(":")[1] not in r.stderr + r.stdout


def test_replicas_sharing_a_state_folder_share_each_users_limit(tmp_path):
    from bot.limits import SqliteLimiter

    first, second = (SqliteLimiter(tmp_path / "limits.sqlite", 3, 10.0) for _ in range(2))  # two processes' views
    assert [first.check(7, 100.0), second.check(7, 100.5), first.check(7, 101.0)] == [0.0, 0.0, 0.0]
    assert second.check(7, 101.5) == pytest.approx(8.5)  # the fourth within ten seconds waits for the first
    assert first.check(8, 101.5) == 0.0  # another user is not held up
    assert second.check(7, 110.0) == 0.0  # the first has left the window
    first.close()
    second.close()


def test_the_admin_sees_the_reindex_progress_while_it_runs(tmp_path, monkeypatch):
    """The reindex message is edited with the phase, count, rate and time left, at most every few seconds."""
    import asyncio
    import time as clock

    from bot.render import progress_text
    from bot.settings import Settings
    from bot.telegram import service as svc_module
    from embeddings.index.progress import Progress

    class SlowEngine:
        def reindex(self, progress: Progress, answering: bool):
            assert answering  # the chat answers meanwhile: the build must leave the answers their core
            progress.phase("embed", 40)
            for _ in range(40):
                clock.sleep(0.01)
                progress.advance()
            progress.finish()
            return "report"

    monkeypatch.setattr(svc_module, "PROGRESS_SECONDS", 0.05)
    service = svc_module.ChatService(Settings(index_dir=tmp_path), SlowEngine())
    seen = []

    async def show(now):
        seen.append(progress_text(now, traditional=False))

    assert asyncio.run(service.reindex(show)) == "report"
    service.shutdown()
    assert 2 <= len(seen) <= 10 and all(line.startswith("正在重新索引：计算向量 ") and "/40" in line for line in seen)
    assert "每秒" in seen[-1] and "约剩" in seen[-1]
    assert "計算向量" in progress_text(_one_done().snapshot(), traditional=True)


def _one_done():
    from embeddings.index.progress import Progress

    p = Progress()
    p.phase("embed", 10)
    p.advance()
    return p
