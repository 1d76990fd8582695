"""Answers → JSON (the `ask --json` contract) and plain text; the bot's own wording in both scripts."""

from __future__ import annotations

from pathlib import Path

from bot.answer import Answer, Source
from embeddings.textnorm import to_simplified

# The bot's own sentences, in the script of the question. Quotes are never converted.
MESSAGES = {
    "abstain": ("资料中没有能回答这个问题的内容。", "資料中沒有能回答這個問題的內容。"),
    "related": ("可能相关（不是答案）：", "可能相關（不是答案）："),
    "sources": ("来源：", "來源："),
    "confidence": ("可信度", "可信度"),
    "date_unknown": ("日期不详", "日期不詳"),
    "empty": ("请输入一个问题。", "請輸入一個問題。"),
    "too_long": ("问题太长了，请缩短到 {limit} 个字以内。", "問題太長了，請縮短到 {limit} 個字以內。"),
    "error": ("抱歉，出了点问题，请稍后再试。", "抱歉，出了點問題，請稍後再試。"),
    "rate_limited": ("提问太频繁了，请 {seconds} 秒后再试。", "提問太頻繁了，請 {seconds} 秒後再試。"),
    "not_admin": ("抱歉，只有管理员可以这样做。", "抱歉，只有管理員可以這樣做。"),
    "also_reported": ("另见：", "另見："),
}


def is_traditional(text: str) -> bool:
    """True if converting to simplified would change the text: the user writes traditional."""
    return to_simplified(text) != text


def message(key: str, question: str = "", **kwargs) -> str:
    simplified, traditional = MESSAGES[key]
    return (traditional if is_traditional(question) else simplified).format(**kwargs)


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
        "answer": [
            {"quote": q.text, "source": answer.source_number(q), "start": q.start, "end": q.end}
            for q in answer.quotes
        ],
        "sources": [source_json(i, s, seeds_dir) for i, s in enumerate(answer.sources, 1)],
    }
    if answer.abstained:
        out["related"] = [source_json(i, s, seeds_dir) for i, s in enumerate(answer.related, 1)]
    return out


def citation(s: Source, question: str) -> str:
    parts = [s.title, s.date or message("date_unknown", question)]
    if s.url:
        parts.append(s.url)
    return " — ".join(parts)


def answer_text(answer: Answer) -> str:
    """Plain text for a terminal."""
    q = answer.question
    lines = []
    if answer.abstained:
        lines.append(message("abstain", q))
        if answer.related:
            lines += ["", message("related", q)]
            for s in answer.related:
                excerpt = s.passage if len(s.passage) <= 80 else s.passage[:80] + "…"
                lines.append(f"  · {excerpt}")
                lines.append(f"    {citation(s, q)}")
        return "\n".join(lines)
    for quote in answer.quotes:
        n = answer.source_number(quote)
        date = answer.sources[n - 1].date
        prefix = f"{date}  " if len(answer.quotes) > 1 and date else ""
        lines.append(f"{prefix}「{quote.text}」[{n}]")
    lines += ["", message("sources", q)]
    for i, s in enumerate(answer.sources, 1):
        lines.append(f"  [{i}] {citation(s, q)}")
        if s.corroborating:
            lines.append(f"      {message('also_reported', q)}{'；'.join(s.corroborating)}")
    lines.append(f"({message('confidence', q)} {answer.confidence:.2f})")
    return "\n".join(lines)
