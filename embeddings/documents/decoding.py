"""Bytes → text: the encoding detected (UTF-8, GB18030/GBK, Big5, UTF-16 …), binary files refused."""

from __future__ import annotations

import codecs
import re

from embeddings.documents.model import UnreadableFile
from embeddings.textnorm import cjk_ratio, strip_controls


def decode(data: bytes) -> str:
    """Bytes → text, detecting the encoding (UTF-8, GB18030/GBK, Big5, UTF-16 …)."""
    import charset_normalizer

    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif not data.startswith((b"\xff\xfe", b"\xfe\xff")) and b"\x00" in data[:65536]:
        raise UnreadableFile("binary file (contains NUL bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = _declared(data)
    if text is None:
        best = charset_normalizer.from_bytes(data).best()
        text = str(best) if best is not None else _chinese_fallback(data)
        if text is None:
            raise UnreadableFile("not text: no encoding fits (binary file?)") from None
        # A Chinese news file decoded as a Western code page comes out as Latin mojibake;
        # prefer the Chinese encodings when one of them also fits.
        if cjk_ratio(text) < 0.05:
            cjk = charset_normalizer.from_bytes(
                data, cp_isolation=["gb18030", "big5", "big5hkscs", "utf_16", "euc_jp", "euc_kr"]
            ).best()
            if cjk is not None and cjk_ratio(str(cjk)) > 0.2:
                text = str(cjk)
            else:
                text = _chinese_fallback(data) or text
    text = strip_controls(text.replace("\r\n", "\n").replace("\r", "\n"))
    if not text.strip():
        raise UnreadableFile("no text after decoding")
    printable = sum(1 for c in text if c.isprintable() or c in "\n\t")
    if printable / len(text) < 0.9:
        raise UnreadableFile("not text: mostly unprintable characters (binary file?)")
    return text


_DECLARED = re.compile(rb"""(?:charset|encoding)\s*=\s*["']?\s*([A-Za-z0-9_\-]{3,20})""", re.I)
# A page that says GB2312 or GBK is written with the characters of their superset more often than not.
_WIDER = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "big5": "big5hkscs"}


def _declared(data: bytes) -> str | None:
    """The text in the encoding the file declares near its top (<meta charset>, <?xml encoding?>), when the
    bytes fit it but for a rare broken character; None when it declares none or they do not fit (the
    detector decides then)."""
    m = _DECLARED.search(data[:4096])
    if not m:
        return None
    name = m.group(1).decode("ascii").lower()
    try:
        codecs.lookup(name)
    except LookupError:
        return None
    if codecs.lookup(name).name in ("utf-8", "ascii"):
        return None  # already tried; a page that claims UTF-8 but is not is for the detector
    text = data.decode(_WIDER.get(name, name), errors="replace")
    return text if text.count("\ufffd") <= _rare(data) else None


def _chinese_fallback(data: bytes) -> str | None:
    """The Chinese encodings the detector may miss: GB18030 or Big5 that fit the bytes, else the one with the
    fewest broken characters when they are rare (a saved page cut inside a character here and there)."""
    tries = []
    for encoding in ("gb18030", "big5"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            text = data.decode(encoding, errors="replace")
            tries.append((text.count("\ufffd"), text))
    broken, text = min(tries, key=lambda t: t[0])
    return text if broken <= _rare(data) and cjk_ratio(text) > 0.2 else None


def _rare(data: bytes) -> int:
    """How many broken characters a saved file may have and still be text in that encoding."""
    return max(3, len(data) // 2000)
