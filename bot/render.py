"""Answers → JSON (the `ask --json` contract), plain text and Telegram HTML; the bot's wording in both scripts."""

from __future__ import annotations

import html
import re
from pathlib import Path

from bot.answer import Answer, Source
from bot.query.english import is_english
from embeddings.textnorm import to_simplified

# The bot's own sentences, in the script of the question. Quotes are never converted.
MESSAGES = {
    "abstain": ("资料中没有能回答这个问题的内容。", "資料中沒有能回答這個問題的內容。"),
    "related": ("可能相关（不是答案）：", "可能相關（不是答案）："),
    "sources": ("来源：", "來源："),
    "direct": ("直接回答", "直接回答"),
    "partial": ("部分相关", "部分相關"),
    "searched_for": ("已按「{terms}」搜索。", "已按「{terms}」搜尋。"),
    "note_hedge": ("资料没有直接说明；最相关的是：", "資料沒有直接說明；最相關的是："),
    "note_changed": ("报道随时间有变化：最新的在前，较早的报道标明了日期。", "報導隨時間有變化：最新的在前，較早的報導標明了日期。"),
    "note_sequence": ("按事件发生的时间排列：", "按事件發生的時間排列："),
    "note_overview": ("资料中关于「{topic}」的报道，最新的在前：", "資料中關於「{topic}」的報導，最新的在前："),
    "note_not_found": ("资料中没有提到「{topic}」。", "資料中沒有提到「{topic}」。"),
    "note_not_answered": ("资料中没有直接回答「{topic}」的{what}。", "資料中沒有直接回答「{topic}」的{what}。"),
    "earlier": ("较早", "較早"),
    "date_unknown": ("日期不详", "日期不詳"),
    "empty": ("请输入一个问题。", "請輸入一個問題。"),
    "too_long": ("问题太长了，请缩短到 {limit} 个字以内。", "問題太長了，請縮短到 {limit} 個字以內。"),
    "error": ("抱歉，出了点问题，请稍后再试。", "抱歉，出了點問題，請稍後再試。"),
    "rate_limited": ("提问太频繁了，请 {seconds} 秒后再试。", "提問太頻繁了，請 {seconds} 秒後再試。"),
    "not_admin": ("抱歉，只有管理员可以这样做。", "抱歉，只有管理員可以這樣做。"),
    "also_reported": ("另见：", "另見："),
    "help": (
        "我只用资料原文回答：每个回答都是带出处（标题、日期、链接）的原文引用；资料里没有答案时，我会直说。\n\n"
        "目前收录 {documents} 篇文章（{passages} 个段落），日期从 {first} 到 {last}。\n"
        "私聊时直接发问题即可；在群组里请用 /ask 问题、@我，或回复我的消息。",
        "我只用資料原文回答：每個回答都是帶出處（標題、日期、連結）的原文引用；資料裡沒有答案時，我會直說。\n\n"
        "目前收錄 {documents} 篇文章（{passages} 個段落），日期從 {first} 到 {last}。\n"
        "私聊時直接發問題即可；在群組裡請用 /ask 問題、@我，或回覆我的訊息。",
    ),
    "examples": ("可以这样问：", "可以這樣問："),
    "commands": (
        "/sources 列出全部文章 · /help 说明\n管理员：/reindex 重新索引 · /stats 统计",
        "/sources 列出全部文章 · /help 說明\n管理員：/reindex 重新索引 · /stats 統計",
    ),
    "sources_title": ("资料（{n} 篇，新的在前）：", "資料（{n} 篇，新的在前）："),
    "show_source": ("原文 [{n}]", "原文 [{n}]"),
    "show_related": ("可能相关 {n}", "可能相關 {n}"),
    "paragraph_gone": ("这段原文已不在当前资料中（资料已更新），请重新提问。", "這段原文已不在目前資料中（資料已更新），請重新提問。"),
    "reindexing": ("正在重新索引…", "正在重新索引…"),
    "reindex_busy": ("已经在重新索引了，请稍候。", "已經在重新索引了，請稍候。"),
    "reindexed": (
        "索引已更新：新增 {added}，修改 {changed}，删除 {removed}，未变 {unchanged}；共 {documents} 篇、{passages} 个段落（{seconds:.1f} 秒）。",
        "索引已更新：新增 {added}，修改 {changed}，刪除 {removed}，未變 {unchanged}；共 {documents} 篇、{passages} 個段落（{seconds:.1f} 秒）。",
    ),
    "reindex_nothing": ("资料没有变化，索引保持不变。", "資料沒有變化，索引保持不變。"),
    "reindex_failed": ("重新索引失败，继续使用原来的索引：{reason}", "重新索引失敗，繼續使用原來的索引：{reason}"),
    "skipped_files": ("跳过的文件：", "跳過的檔案："),
    "stats": (
        "文章 {documents} 篇，段落 {passages} 个\n启动以来：回答 {questions} 个问题，其中未找到答案 {abstained} 个（{rate:.0%}）\n"
        "延迟 p50 {p50} · p95 {p95}（其中计算 p50 {cp50} · p95 {cp95}）\n限流 {rate_limited} 次，出错 {errors} 次",
        "文章 {documents} 篇，段落 {passages} 個\n啟動以來：回答 {questions} 個問題，其中未找到答案 {abstained} 個（{rate:.0%}）\n"
        "延遲 p50 {p50} · p95 {p95}（其中計算 p50 {cp50} · p95 {cp95}）\n限流 {rate_limited} 次，出錯 {errors} 次",
    ),
    "text_only": ("我只读文字问题，请把问题用文字发给我。", "我只讀文字問題，請把問題用文字發給我。"),
    "unknown_command": ("不认识这个命令。发 /help 看看我能做什么。", "不認識這個命令。發 /help 看看我能做什麼。"),
}

# The bot's words for a reader who asks in English (the quotes stay in the articles' Chinese).
ENGLISH = {
    "abstain": "The articles hold nothing that answers this question.",
    "related": "Possibly related (not an answer):",
    "sources": "Sources:",
    "direct": "direct answer",
    "partial": "partly related",
    "searched_for": "Searched for 「{terms}」.",
    "note_hedge": "The articles do not say so directly; the closest is:",
    "note_changed": "The reports changed over time: the newest comes first, earlier reports are dated.",
    "note_sequence": "In the order the events happened:",
    "note_overview": "What the articles say about 「{topic}」, newest first:",
    "note_not_found": "The articles do not mention 「{topic}」.",
    "note_not_answered": "The articles do not directly answer the {what} of 「{topic}」.",
    "earlier": "earlier",
    "date_unknown": "date unknown",
    "also_reported": "Also reported by: ",
}
ASKED_ENGLISH = {"why": "reason", "how": "way", "status": "latest state", "timeline": "course", "compare": "comparison",
                 "list": "list", "said": "words", "event": "events", "date": "date", "number": "figure",
                 "person": "person", "place": "place", "reason": "reason"}

TELEGRAM_LIMIT = 4096
# What a refusal says was asked, by question kind or fact slot.
ASKED = {"why": ("原因", "原因"), "how": ("做法", "做法"), "status": ("最新情况", "最新情況"), "timeline": ("经过", "經過"),
         "compare": ("比较", "比較"), "list": ("清单", "清單"), "said": ("说法", "說法"), "event": ("事件", "事件"),
         "date": ("时间", "時間"), "number": ("数字", "數字"), "person": ("人物", "人物"), "place": ("地点", "地點"),
         "reason": ("原因", "原因")}


def is_traditional(text: str) -> bool:
    """True if converting to simplified would change the text: the user writes traditional."""
    return to_simplified(text) != text


def message(key: str, question: str = "", traditional: bool | None = None, english: bool | None = None,
            **kwargs) -> str:
    """The bot's own wording, in the reader's language and script: English for a question in English, else the
    script of `question` (or as `traditional` and `english` say)."""
    if english is None:
        english = bool(question) and is_english(question)
    if english and key in ENGLISH:
        return ENGLISH[key].format(**kwargs)
    simplified, trad = MESSAGES[key]
    if traditional is None:
        traditional = is_traditional(question)
    return (trad if traditional else simplified).format(**kwargs)


def prefers_traditional(text: str, language_code: str | None) -> bool:
    """Traditional if the text is, or, for a bare command, if the user's Telegram language says so."""
    if text and is_traditional(text):
        return True
    code = (language_code or "").lower()
    return code in {"zh-hant", "zh-tw", "zh-hk", "zh-mo"} or code.startswith("zh-hant")


def note_text(answer: Answer, traditional: bool | None = None) -> str | None:
    """The answer's note in the bot's words, in the reader's script (None when it has none)."""
    note = answer.note
    if note is None:
        return None
    trad = answer.script == "traditional" if traditional is None else traditional
    en = answer.script == "english"
    what = ASKED_ENGLISH.get(note.what, "content") if en else ASKED.get(note.what, ("内容", "內容"))[1 if trad else 0]
    return message(f"note_{note.key}", traditional=trad, english=en, topic=note.topic, what=what)


def searched_text(answer: Answer, traditional: bool | None = None) -> str | None:
    """What was searched for in place of the reader's words, in the bot's words (None when nothing was)."""
    if not answer.searched_for:
        return None
    trad = answer.script == "traditional" if traditional is None else traditional
    return message("searched_for", traditional=trad, english=answer.script == "english",
                   terms="」「".join(answer.searched_for))


def quote_label(answer: Answer, quote) -> str:
    """What leads a quote: the date of what it reports in dated forms (status, timeline, event), the
    article's date when the quotes come from several articles, and 'earlier' for older reports."""
    parts = []
    if quote.role == "earlier":
        parts.append(message("earlier", traditional=answer.script == "traditional", english=answer.script == "english"))
    if answer.kind in ("status", "timeline", "event") and quote.date:
        parts.append(quote.date)
    elif len({q.passage.doc_id for q in answer.quotes}) > 1:
        date = answer.sources[answer.source_number(quote) - 1].date
        if date:
            parts.append(date)
    return " ".join(parts)


def source_json(n: int, s: Source, seeds_dir: Path) -> dict:
    return {
        "id": n,
        "doc_id": s.doc_id,
        "path": str(Path(seeds_dir) / s.path),
        "title": s.title,
        "date": s.date,
        "url": s.url,
        "section": s.section,
        "passage": s.passage,
        "score": s.score,
        "source": s.source_name,
        "corroborating": list(s.corroborating),
    }


def answer_json(answer: Answer, seeds_dir: Path) -> dict:
    """The `ask --json` object: every quote is a verbatim slice of its source's `passage`."""
    out = {
        "question": answer.question,
        "abstained": answer.abstained,
        "confidence": answer.confidence,
        "kind": answer.kind,
        "note": note_text(answer),
        "searched_for": list(answer.searched_for),
        "answer": [
            {"quote": q.text, "source": answer.source_number(q), "start": q.start, "end": q.end,
             "date": q.date, "role": q.role}
            for q in answer.quotes
        ],
        "sources": [source_json(i, s, seeds_dir) for i, s in enumerate(answer.sources, 1)],
    }
    if answer.abstained:
        out["related"] = [source_json(i, s, seeds_dir) for i, s in enumerate(answer.related, 1)]
    return out


def citation(s: Source, question: str) -> str:
    """Outlet, title, date and link of a quoted source, for a terminal."""
    parts = [*([s.source_name] if s.source_name else []), s.title, s.date or message("date_unknown", question)]
    if s.url:
        parts.append(s.url)
    return " — ".join(parts)


def answer_text(answer: Answer) -> str:
    """Plain text for a terminal."""
    q = answer.question
    lines = [searched_text(answer)] if answer.searched_for else []
    if answer.abstained:
        lines.append(note_text(answer) or message("abstain", q))
        if answer.related:
            lines += ["", message("related", q)]
            for s in answer.related:
                lines.append(f"  · {excerpt(s.passage)}")
                lines.append(f"    {citation(s, q)}")
        return "\n".join(lines)
    if answer.note is not None:
        lines.append(note_text(answer))
    for quote in answer.quotes:
        n = answer.source_number(quote)
        label = quote_label(answer, quote)
        lines.append(f"{label + '  ' if label else ''}「{quote.text}」[{n}]")
    lines += ["", message("sources", q)]
    for i, s in enumerate(answer.sources, 1):
        lines.append(f"  [{i}] {citation(s, q)}")
        if s.corroborating:
            lines.append(f"      {message('also_reported', q)}{'；'.join(s.corroborating)}")
    lines.append(f"({message('partial' if answer.hedged else 'direct', q)})")
    return "\n".join(lines)


# --- Telegram HTML --------------------------------------------------------------------------------
# Every string that comes from a document or a user goes through esc(); only the tags written
# here are markup. Blocks are self-contained (tags balanced) so a message can be split between them.


def esc(text: str | None) -> str:
    return html.escape(text or "", quote=True)


def link(title: str, url: str | None) -> str:
    if url and re.match(r"https?://", url):
        return f'<a href="{esc(url)}">{esc(title)}</a>'
    return esc(title)


def source_line(n: int, s: Source, traditional: bool, english: bool = False) -> str:
    date = s.date or message("date_unknown", traditional=traditional, english=english)
    outlet = f"{esc(s.source_name)} · " if s.source_name else ""
    return f"[{n}] {outlet}{link(s.title, s.url)} · {esc(date)}"


def answer_html(answer: Answer) -> list[str]:
    """The answer as HTML blocks: quotes with citation markers, then the source list."""
    trad = is_traditional(answer.question)
    en = answer.script == "english"
    searched = [f"<i>{esc(searched_text(answer, trad))}</i>"] if answer.searched_for else []
    if answer.abstained:
        blocks = searched + [esc(note_text(answer, trad) or message("abstain", traditional=trad, english=en))]
        if answer.related:
            lines = [f"<i>{esc(message('related', traditional=trad, english=en))}</i>"]
            for i, s in enumerate(answer.related, 1):
                lines.append(f"{i}. {esc(excerpt(s.passage))}\n    {source_line(i, s, trad, en)}")
            blocks.append("\n".join(lines))
        return blocks
    blocks = searched + ([f"<i>{esc(note_text(answer, trad))}</i>"] if answer.note is not None else [])
    for quote in answer.quotes:
        n = answer.source_number(quote)
        label = quote_label(answer, quote)
        prefix = f"<b>{esc(label)}</b>  " if label else ""
        blocks.append(f"{prefix}「{esc(quote.text)}」[{n}]")
    lines = [f"<b>{esc(message('sources', traditional=trad, english=en))}</b>"]
    for i, s in enumerate(answer.sources, 1):
        lines.append(source_line(i, s, trad, en))
        if s.corroborating:
            lines.append(f"    {esc(message('also_reported', traditional=trad, english=en))}{esc('；'.join(s.corroborating))}")
    blocks.append("\n".join(lines))
    blocks.append(f"<i>{esc(message('partial' if answer.hedged else 'direct', traditional=trad, english=en))}</i>")
    return blocks


def excerpt(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def paragraph_html(title: str, date: str | None, url: str | None, paragraph: str,
                   highlight: tuple[int, int] | None, traditional: bool,
                   limit: int = TELEGRAM_LIMIT) -> list[str]:
    """A source paragraph in full, the quoted span in bold; long paragraphs become several blocks."""
    date_text = date or message("date_unknown", traditional=traditional)
    blocks = [f"<b>{link(title, url)}</b> · {esc(date_text)}"]
    room = limit - 16  # room for the highlight's tags
    start, end = highlight if highlight else (0, 0)
    for a, b in text_chunks(paragraph, room):
        s, e = max(a, start), min(b, end)
        if s < e:
            blocks.append(esc(paragraph[a:s]) + "<b>" + esc(paragraph[s:e]) + "</b>" + esc(paragraph[e:b]))
        else:
            blocks.append(esc(paragraph[a:b]))
    return blocks


def text_chunks(text: str, budget: int) -> list[tuple[int, int]]:
    """(start, end) spans whose escaped form fits `budget` units, cut after a sentence end or line if possible."""
    spans, a = [], 0
    while a < len(text):
        cost, b = 0, a
        while b < len(text):
            c = units(esc(text[b]))
            if cost + c > budget:
                break
            cost += c
            b += 1
        if b < len(text):
            cut = max(text.rfind(ch, a, b) for ch in "\n。！？!?；;")
            if cut >= a + (b - a) // 3:
                b = cut + 1
        spans.append((a, b))
        a = b
    return spans


def sources_html(documents: list, traditional: bool) -> list[str]:
    docs = sorted(documents, key=lambda d: (d.date or "", d.id), reverse=True)
    blocks = [f"<b>{esc(message('sources_title', traditional=traditional, n=len(docs)))}</b>"]
    for i, d in enumerate(docs, 1):
        date = d.date or message("date_unknown", traditional=traditional)
        blocks.append(f"{i}. {link(d.title, d.url)} · {esc(date)}")
    return blocks


def help_html(facts, traditional: bool) -> list[str]:
    unknown = message("date_unknown", traditional=traditional)
    blocks = [esc(message("help", traditional=traditional, documents=facts.documents, passages=facts.passages,
                          first=facts.first_date or unknown, last=facts.last_date or unknown))]
    if facts.examples:
        blocks.append(f"<b>{esc(message('examples', traditional=traditional))}</b>\n"
                      + "\n".join(f"· <code>{esc(q)}</code>" for q in facts.examples))
    blocks.append(esc(message("commands", traditional=traditional)))
    return blocks


def stats_html(stats: dict, documents: int, passages: int, traditional: bool) -> list[str]:
    def ms(v):
        return "-" if v is None else f"{v:.0f} ms"

    return [esc(message("stats", traditional=traditional, documents=documents, passages=passages,
                        questions=stats["questions"], abstained=stats["abstained"],
                        rate=stats["abstention_rate"], p50=ms(stats["p50_ms"]), p95=ms(stats["p95_ms"]),
                        cp50=ms(stats["compute_p50_ms"]), cp95=ms(stats["compute_p95_ms"]),
                        rate_limited=stats["rate_limited"], errors=stats["errors"]))]


def reindex_html(report, traditional: bool) -> list[str]:
    if not report.changed_anything:
        blocks = [esc(message("reindex_nothing", traditional=traditional))]
    else:
        blocks = [esc(message("reindexed", traditional=traditional, added=len(report.added),
                              changed=len(report.changed), removed=len(report.removed),
                              unchanged=report.unchanged, documents=report.documents,
                              passages=report.passages, seconds=report.seconds))]
        names = [("+", report.added), ("~", report.changed), ("−", report.removed)]
        listed = [f"{sign} {esc(name)}" for sign, group in names for name in group]
        if listed:
            blocks.append("\n".join(listed[:30]) + ("\n…" if len(listed) > 30 else ""))
    if report.warnings:
        blocks.append(esc(message("skipped_files", traditional=traditional)) + "\n"
                      + "\n".join(f"· {esc(str(w))}" for w in report.warnings[:10]))
    return blocks


def units(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units: an emoji is two)."""
    return len(text.encode("utf-16-le")) // 2


def pack(blocks: list[str], limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Join blocks with blank lines into as few messages as fit; a message never splits a block."""
    messages, current = [], ""
    for block in blocks:
        if units(block) > limit:
            raise ValueError(f"a block of {units(block)} characters cannot fit a message of {limit}")
        joined = f"{current}\n\n{block}" if current else block
        if units(joined) <= limit:
            current = joined
        else:
            messages.append(current)
            current = block
    if current:
        messages.append(current)
    return messages
