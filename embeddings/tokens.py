"""Lexical matching: folded text → alias-canonical jieba search-mode tokens without stop words."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import marshal
import re
import tempfile
import threading
from collections import Counter
from pathlib import Path
from typing import Iterable

from embeddings.textnorm import normalize

ALIAS_TABLE = Path(__file__).with_name("aliases.tsv")


def load_aliases(path: Path = ALIAS_TABLE) -> dict[str, tuple[str, ...]]:
    """canonical → its variants, from the table (tab-separated, '#' starts a comment). Applied to passages and
    queries alike, so 輝達 H200 and 英伟达 H200 match the same passages."""
    out: dict[str, tuple[str, ...]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        words = [w.strip() for w in line.split("#", 1)[0].split("\t") if w.strip()]
        if len(words) >= 2:
            out[words[0]] = tuple(words[1:])
    return out


ALIASES: dict[str, tuple[str, ...]] = load_aliases()

STOP_WORDS = frozenset(
    """
    的 了 是 在 和 与 及 或 等 也 都 就 而 被 把 对 为 于 以 之 其 这 那 个 们 吗 呢 吧 啊 呀 嘛 么
    着 过 将 会 要 能 可 可以 已 已经 还 又 并 但 却 则 如 若 因 因为 所以 由 由于 从 向 到 给 让 使
    一个 一些 这个 那个 这些 那些 什么 怎么 怎样 如何 多少 几 哪 哪里 哪儿 哪些 哪个 谁 何 何时 为何 为什么
    是否 有没有 是不是 吗 请问 请 问 一下 有 没有 不 没 很 最 更 非常 十分 之一 以及 并且 而且 其中
    我 你 他 她 它 我们 你们 他们 她们 它们 自己 该 此 本 各 每 某 such the a an of to in on for and or is are was
    were be been by with as at from that this it its what which who when where why how did does do
    呢 哦 嗯 吗 么 时候 什么时候 哪天 哪一天 哪年 几月 几号
    """.split()
)

_PUNCT = re.compile(r"^[\W_]+$", re.UNICODE)
_CODE = re.compile(r"(?<![a-z0-9])[a-z]{1,4}\d{1,4}[a-z]{0,2}(?![a-z0-9])|(?<![a-z0-9])\d{2,4}[a-z]{1,2}(?![a-z0-9])")
_NAMED = re.compile(r"《([^《》]{2,12})》|「([^「」]{2,8})」|“([^“”]{2,8})”")
_DOT_NAME = re.compile(r"[\u4e00-\u9fff]{1,6}·[\u4e00-\u9fff]{1,8}")

TOKENIZER_VERSION = 3
_JIEBA_LOCK = threading.Lock()
log = logging.getLogger(__name__)


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _alias_pattern(aliases: dict[str, tuple[str, ...]]) -> tuple[re.Pattern, dict[str, str]]:
    table = {normalize(v): normalize(k) for k, vs in aliases.items() for v in vs}
    # Single-character aliases ("华") would rewrite inside words; only allow them as whole tokens.
    multi = sorted((v for v in table if len(v) > 1), key=len, reverse=True)
    latin = [v for v in multi if re.fullmatch(r"[a-z0-9 .]+", v)]
    cjk = [v for v in multi if v not in latin]
    # Every alternative starts with a literal character, so re can skip to candidate positions by
    # that character set (40x faster on news text than trying each alternative at every position);
    # the word-boundary check for Latin aliases therefore comes right after their first character.
    parts = [re.escape(v) for v in cjk] + [rf"{re.escape(v[0])}(?<![a-z0-9].){re.escape(v[1:])}(?![a-z0-9])"
                                           for v in latin]
    return re.compile("|".join(parts)), table


def discover_user_words(texts: Iterable[str]) -> list[str]:
    """Words jieba's dictionary lacks that news keeps using: chip codes, titled works, named people."""
    counts: Counter[str] = Counter()
    for text in texts:
        t = normalize(text)
        counts.update(m.group(0) for m in _CODE.finditer(t))
        counts.update(next(g for g in m.groups() if g) for m in _NAMED.finditer(t))
        counts.update(m.group(0) for m in _DOT_NAME.finditer(t))
    return sorted(w for w, n in counts.items() if n >= 1 and len(w) <= 16 and not _PUNCT.match(w))


@functools.lru_cache(maxsize=1)
def _dictionary() -> tuple[dict[str, int], int]:
    """jieba's parsed dictionary (word → frequency, total), read once per process.

    jieba caches the parse in a file; keeping that in one stable place saves every process after
    the first ~1 s more. jieba unmarshals the cache from the open file, which reads it in small
    pieces (1.2 s); read whole first, it takes 0.3 s: the largest part of a bot's start. Copying the
    dictionary takes ~30 ms, so a reindex in the running bot, which needs a tokenizer with new user
    words, does not pay the read again.
    """
    import jieba

    jieba.setLogLevel(logging.WARNING)
    base = jieba.Tokenizer()
    base.tmp_dir = str(Path(tempfile.gettempdir()))
    if base.dictionary == jieba.DEFAULT_DICT:  # jieba's cache of its own dictionary, always valid for it
        try:
            freq, total = marshal.loads((Path(base.tmp_dir) / "jieba.cache").read_bytes())
            if isinstance(freq, dict) and isinstance(total, int) and freq:
                return freq, total
        except (OSError, ValueError, EOFError, TypeError):
            pass  # none yet, or damaged: jieba parses the dictionary and writes it again
    with _JIEBA_LOCK:
        base.initialize()
    return base.FREQ, base.total


NAME_TAGS = frozenset({"nr", "nrt", "nrfg", "ns", "nt", "nz"})  # jieba's tags for people, places, bodies, brands


@functools.lru_cache(maxsize=1)
def _dictionary_tags() -> dict[str, str]:
    """jieba's dictionary words → their part of speech, read once per process (~0.3 s) and shared by every
    tokenizer (jieba's POSTokenizer would read the file again for each)."""
    import jieba

    out = {}
    with jieba.get_dict_file() as f:
        for raw in f:
            parts = raw.decode("utf-8").split() if isinstance(raw, bytes) else raw.split()
            if len(parts) == 3:
                out[parts[0]] = parts[2]
    return out


def prepare_tagging() -> None:
    """Read jieba's part-of-speech tables and model now (~0.7 s, once per process), not in a first question."""
    import importlib

    importlib.import_module("jieba.posseg")  # its HMM tables are Python modules: importing them is the cost
    _dictionary_tags()


@functools.lru_cache(maxsize=1)
def _dictionary_names() -> frozenset[str]:
    """The words jieba's dictionary tags as names (吴宗宪, 西吉县, 寒武纪)."""
    return frozenset(w for w, tag in _dictionary_tags().items() if tag in NAME_TAGS)


class Tokenizer:
    """jieba (search mode) with the alias table and a user dictionary; one instance per index."""

    def __init__(self, user_words: Iterable[str] = (), aliases: dict[str, tuple[str, ...]] | None = None,
                 stop_words: frozenset[str] = STOP_WORDS):
        import jieba

        self.aliases = ALIASES if aliases is None else aliases
        self.stop_words = stop_words
        self.user_words = tuple(sorted(set(user_words)))
        self._alias_re, self._alias_table = _alias_pattern(self.aliases)
        self._recent: dict[str, tuple[str, ...]] = {}
        self._pos = None
        self._jieba = jieba.Tokenizer()
        freq, total = _dictionary()
        # A copy: the words added below belong to this tokenizer only.
        self._jieba.FREQ, self._jieba.total, self._jieba.initialized = dict(freq), total, True
        self._dictionary = freq
        for canonical in self.aliases:
            self._jieba.add_word(normalize(canonical), freq=50000)
        # The names this index taught jieba: canonical aliases and the words found in the articles.
        self.names = frozenset(self.user_words) | frozenset(normalize(k) for k in self.aliases)
        for word in self.user_words:
            self._jieba.add_word(word, freq=20000)

    def is_word(self, text: str) -> bool:
        """A word of jieba's dictionary (with this index's names) or a stop word: Chinese as it is written."""
        return bool(self._jieba.FREQ.get(text)) or text in self.stop_words

    def in_dictionary(self, text: str) -> bool:
        """A word of jieba's own dictionary, not one this index taught it."""
        return self.frequency(text) > 0

    def tagged(self, text: str) -> list[tuple[str, str]]:
        """jieba's words of the folded text with their part of speech ('nr' a person, 'ns' a place, 'eng' Latin,
        'x' a word this index taught it); its HMM finds names the dictionary lacks ('王文涛'). Loaded on first use."""
        with _JIEBA_LOCK:
            if self._pos is None:
                import jieba.posseg

                pos = jieba.posseg.POSTokenizer.__new__(jieba.posseg.POSTokenizer)
                pos.tokenizer, pos.word_tag_tab = self._jieba, _dictionary_tags()  # what its __init__ would read
                self._pos = pos
        return [(p.word, p.flag) for p in self._pos.cut(normalize(text)) if p.word.strip()]

    def is_name(self, word: str) -> bool:
        """A name this index knows (an alias, a word found in the articles) or one jieba's dictionary tags as a
        person, place, organisation or brand."""
        return word in self.names or word in _dictionary_names()

    def frequency(self, text: str) -> int:
        """How often jieba's own dictionary counts the word (0 when it lacks it)."""
        return self._dictionary.get(text) or 0

    def words(self, text: str) -> list[str]:
        """jieba's words of the folded text, every word kept (question words and particles too)."""
        return [w for w in self._jieba.cut(normalize(text), HMM=False) if w.strip()]

    @staticmethod
    def rules(aliases: dict[str, tuple[str, ...]] = ALIASES, stop_words: frozenset[str] = STOP_WORDS) -> dict:
        """What decides how text is cut, apart from user words (known without loading jieba)."""
        return {
            "version": TOKENIZER_VERSION,
            "mode": "jieba-search+han-bigrams+han-unigrams",
            "aliases_sha": hashlib.sha1(json.dumps(aliases, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:12],
            "stop_words_sha": hashlib.sha1(" ".join(sorted(stop_words)).encode()).hexdigest()[:12],
        }

    @property
    def settings(self) -> dict:
        return {**self.rules(self.aliases, self.stop_words), "user_words": list(self.user_words)}

    def canonical(self, text: str) -> str:
        """Folded text with every alias replaced by its canonical form."""
        folded = normalize(text)
        return self._alias_re.sub(lambda m: self._alias_table[m.group(0)], folded)

    def tokens(self, text: str) -> list[str]:
        """jieba words, then CJK character bigrams and characters of the same text.

        Words carry names and numbers precisely; the character n-grams catch what segmentation
        splits differently in question and passage (measured: +3 points R@1 on CMRC and DRCD).
        """
        canon = self.canonical(text)
        out = []
        for tok in self._jieba.cut_for_search(canon, HMM=True):
            tok = tok.strip()
            if not tok or tok in self.stop_words or _PUNCT.match(tok):
                continue
            out.append(self._alias_table.get(tok, tok))
        for i in range(len(canon) - 1):
            a, b = canon[i], canon[i + 1]
            if _is_han(a) and _is_han(b):
                gram = "#" + a + b  # marked so a bigram never collides with a two-character word
                if a + b not in self.stop_words:
                    out.append(gram)
        out.extend("#" + ch for ch in canon if _is_han(ch) and ch not in self.stop_words)
        return out

    def query_tokens(self, text: str) -> list[str]:
        """Tokens of a question; single-character aliases ("华") count only here, as whole tokens.

        Remembered for the last questions: search and the composer both cut the same question."""
        found = self._recent.get(text)
        if found is None:
            if len(self._recent) >= 256:
                self._recent.clear()
            found = self._recent[text] = tuple(self.tokens(text))
        return list(found)
