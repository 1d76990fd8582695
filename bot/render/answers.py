"""Answers → the `ask --json` object, plain text for a terminal, and Telegram HTML blocks."""

from __future__ import annotations

from pathlib import Path

from bot.answer import Answer, Source
from bot.render.messages import ASKED, ASKED_ENGLISH, is_traditional, message
from bot.render.html import esc, link


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
        "corroborating": [{"outlet": c.outlet, "title": c.title, "date": c.date, "url": c.url}
                          for c in s.corroborating],
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
             "date": q.date, "role": q.role, "marks": [list(m) for m in q.marks]}
            for q in answer.quotes
        ],
        "sources": [source_json(i, s, seeds_dir) for i, s in enumerate(answer.sources, 1)],
    }
    if answer.abstained:
        out["related"] = [source_json(i, s, seeds_dir) for i, s in enumerate(answer.related, 1)]
    return out


def citation(s: Source, question: str) -> str:
    """Outlet, date, title and link of a quoted source, for a terminal."""
    parts = [s.source_name or message("outlet_unknown", question), s.date or message("date_unknown", question), s.title]
    if s.url:
        parts.append(s.url)
    return " · ".join(parts)


def also_reported(s: Source, english: bool) -> str:
    """The other outlets that carried the quoted text (their titles when the outlet is not known), once each."""
    return (", " if english else "、").join(dict.fromkeys(c.outlet or c.title for c in s.corroborating))


def related_line(n: int, s: Source, question: str) -> str:
    return f"{n}. {s.title} · {s.date or message('date_unknown', question)}"


def answer_text(answer: Answer) -> str:
    """Plain text for a terminal, laid out as the chat shows it: each quote, then where it comes from."""
    q = answer.question
    lines = [searched_text(answer)] if answer.searched_for else []
    if answer.abstained:
        lines.append(note_text(answer) or message("abstain", q))
        if answer.related:
            lines.append(message("related", q))
            lines += [f"  {related_line(i, s, q)}" for i, s in enumerate(answer.related, 1)]
        return "\n".join(lines)
    if answer.note is not None:
        lines.append(note_text(answer))
    for quote in answer.quotes:
        n = answer.source_number(quote)
        s = answer.sources[n - 1]
        label = quote_label(answer, quote)
        lines += ["", *([label] if label else []), f"「{quote.text}」", f"    — {citation(s, q)} [{n}]"]
        if s.corroborating:
            lines.append(f"    {message('also_reported', q)}{also_reported(s, answer.script == 'english')}")
    return "\n".join(lines)


def source_line(n: int, s: Source, traditional: bool, english: bool = False) -> str:
    """outlet · date · title, the title linked to the article when it has a web address; [n] is its button."""
    date = s.date or message("date_unknown", traditional=traditional, english=english)
    outlet = s.source_name or message("outlet_unknown", traditional=traditional, english=english)
    return f"[{n}] {esc(outlet)} · {esc(date)} · {link(s.title, s.url)}"


def marked(text: str, spans: tuple[tuple[int, int], ...]) -> str:
    """The quote escaped, its marked spans in bold."""
    out, at = [], 0
    for a, b in spans:
        if at <= a < b <= len(text):
            out += [esc(text[at:a]), f"<b>{esc(text[a:b])}</b>"]
            at = b
    return "".join(out + [esc(text[at:])])


def answer_html(answer: Answer, understood: str | None = None) -> list[str]:
    """The answer as HTML blocks: each quote set apart, the words that answer in bold, and under it one citation
    line; a refusal is one line and at most two one-line related articles. `understood`: the question as a
    follow-up was read ('那H20呢？' → 'H20现在能进入中国吗？'), said first."""
    trad = is_traditional(answer.question)
    en = answer.script == "english"
    searched = [f"<i>{esc(message('understood', traditional=trad, english=en, asked=understood))}</i>"] \
        if understood else []
    searched += [f"<i>{esc(searched_text(answer, trad))}</i>"] if answer.searched_for else []
    if answer.abstained:
        blocks = searched + [esc(note_text(answer, trad) or message("abstain", traditional=trad, english=en))]
        if answer.related:
            blocks.append(f"<i>{esc(message('related', traditional=trad, english=en))}</i>\n" + "\n".join(
                esc(related_line(i, s, answer.question)) for i, s in enumerate(answer.related, 1)))
        return blocks
    blocks = searched + ([f"<i>{esc(note_text(answer, trad))}</i>"] if answer.note is not None else [])
    for quote in answer.quotes:
        n = answer.source_number(quote)
        s = answer.sources[n - 1]
        label = quote_label(answer, quote)
        lines = [f"<b>{esc(label)}</b>"] if label else []
        lines += [f"<blockquote>{marked(quote.text, quote.marks)}</blockquote>{source_line(n, s, trad, en)}"]
        if s.corroborating:
            lines.append(esc(message("also_reported", traditional=trad, english=en) + also_reported(s, en)))
        blocks.append("\n".join(lines))
    return blocks
