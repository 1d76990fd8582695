"""Telegram HTML: escaping, links, and messages packed to Telegram's length limit.

Every string that comes from a document or a user goes through esc(); only the tags written here are markup.
Blocks are self-contained (tags balanced) so a message can be split between them.
"""

from __future__ import annotations

import html
import re

TELEGRAM_LIMIT = 4096


def esc(text: str | None) -> str:
    return html.escape(text or "", quote=True)


def link(title: str, url: str | None) -> str:
    if url and re.match(r"https?://", url):
        return f'<a href="{esc(url)}">{esc(title)}</a>'
    return esc(title)


def excerpt(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


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
