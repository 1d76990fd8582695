"""Text folding for matching (traditional→simplified, width, case) and sentence splitting."""

from __future__ import annotations

import functools
import re
import unicodedata

# Sentence-ending marks. The semicolon is deliberately absent: in Chinese news it joins clauses
# of one sentence, and quoting half a sentence would misrepresent the source.
_ENDS = frozenset("。！？!?…")
_OPENERS = {"“": "”", "‘": "’", "「": "」", "『": "』", "（": "）", "(": ")", "《": "》", "【": "】"}
_CLOSERS = frozenset(_OPENERS.values()) | {'"', "'"}
# A sentence inside an unclosed quote is split anyway once it gets this long: real quotes close
# well before, and a stray opening mark must not glue a whole paragraph into one "sentence".
_MAX_QUOTED = 240


@functools.lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional → simplified characters (OpenCC), for matching only; one character for one."""
    if not text:
        return text
    try:
        return _t2s().convert(text)
    except UnicodeEncodeError:  # lone surrogates (a hostile message) cannot go through OpenCC's UTF-8
        return _t2s().convert(without_surrogates(text))


@functools.lru_cache(maxsize=1)
def _s2t():
    import opencc

    return opencc.OpenCC("s2t")


def to_traditional(text: str) -> str:
    """Simplified → traditional characters (OpenCC), for the bot's own words to a reader who writes so."""
    return _s2t().convert(without_surrogates(text)) if text else text


def without_surrogates(text: str) -> str:
    """Lone surrogates → U+FFFD, so the text has the same length and can be encoded."""
    return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in text)


_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def fold_width(text: str) -> str:
    """Full-width ASCII and ideographic space to their half-width forms, one char for one."""
    return text.translate(_WIDTH)


def normalize(text: str) -> str:
    """The matching form of a text: simplified, half-width, lower case. Never shown to users."""
    return fold_width(to_simplified(text)).lower()


def is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or "\uf900" <= ch <= "\ufaff"


def cjk_ratio(text: str) -> float:
    letters = [c for c in text if not c.isspace()]
    if not letters:
        return 0.0
    return sum(1 for c in letters if is_cjk(c)) / len(letters)


def clean_spaces(text: str) -> str:
    """Collapse runs of whitespace (including NBSP) to one space and strip the ends."""
    return re.sub(r"[\s\u00a0\u200b\ufeff]+", " ", text).strip()


def strip_controls(text: str) -> str:
    """Remove control and unassigned/surrogate characters that would break rendering or JSON."""
    return "".join(
        ch
        for ch in text
        if ch in "\n\t" or unicodedata.category(ch) not in {"Cc", "Cs", "Co", "Cn"}
    )


def split_sentences(text: str) -> tuple[tuple[int, int], ...]:
    """Sentence spans (start, end) over `text`, splitting on Chinese and Latin sentence ends.

    Closing quotes and brackets stay with the sentence they close, and a sentence end inside a
    quotation does not split it, so every sentence has balanced quotes. Spans never include
    leading or trailing whitespace, and text[start:end] is always a verbatim slice.
    """
    spans: list[tuple[int, int]] = []
    n = len(text)
    start = 0
    stack: list[str] = []
    straight_open = False
    i = 0
    while i < n:
        ch = text[i]
        if ch in _OPENERS:
            stack.append(_OPENERS[ch])
        elif stack and ch == stack[-1]:
            stack.pop()
            # “……。” closes a quoted sentence: the sentence ends after the closing mark.
            if not stack and not straight_open and i > 0 and text[i - 1] in _ENDS:
                j = i + 1
                while j < n and text[j] in _CLOSERS and text[j] != '"' and text[j] not in _OPENERS:
                    j += 1
                _push(spans, text, start, j)
                start = j
                i = j
                continue
        elif ch == '"':
            straight_open = not straight_open
        elif ch == "\n":
            stack.clear()
            straight_open = False
            _push(spans, text, start, i)
            start = i + 1
            i += 1
            continue
        is_end = ch in _ENDS or (
            ch == "." and (i + 1 == n or text[i + 1].isspace()) and i > 0 and not text[i - 1].isdigit()
        )
        quoted = bool(stack) or straight_open
        if is_end and quoted and i - start > _MAX_QUOTED:
            stack.clear()
            straight_open = False
            quoted = False
        if is_end and not quoted:
            j = i + 1
            while j < n and (text[j] in _ENDS or text[j] == "."):
                j += 1
            while j < n and text[j] in _CLOSERS and text[j] not in _OPENERS:
                if text[j] == '"':
                    break
                j += 1
            _push(spans, text, start, j)
            start = j
            i = j
            continue
        i += 1
    _push(spans, text, start, n)
    return tuple(spans)


def _push(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))
