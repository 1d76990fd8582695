"""Bytes → text: the encoding detected (UTF-8, GB18030/GBK, Big5, UTF-16 …), binary files refused."""

from __future__ import annotations

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
    text = strip_controls(text.replace("\r\n", "\n").replace("\r", "\n"))
    if not text.strip():
        raise UnreadableFile("no text after decoding")
    printable = sum(1 for c in text if c.isprintable() or c in "\n\t")
    if printable / len(text) < 0.9:
        raise UnreadableFile("not text: mostly unprintable characters (binary file?)")
    return text


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
    return text if broken <= max(3, len(data) // 2000) and cjk_ratio(text) > 0.2 else None
