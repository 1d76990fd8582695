"""Question analysis: what kind of answer a question asks for, about what, and when."""

from __future__ import annotations

import re
from dataclasses import dataclass

from embeddings.textnorm import normalize, to_simplified

_QTYPES = [
    ("reason", re.compile(r"为什么|为何|什么原因|原因是|因何|怎么会")),
    ("date", re.compile(r"何时|哪天|哪一天|什么时候|哪年|哪一年|几月|几号|何年|什么时间|哪个时候|日期|哪个月|几年")),
    ("number", re.compile(r"多少|几[个名人次年天倍种项家位条座只枚颗件届所]|几|多大|多高|多长|多重|多久|多远|多深|多宽|百分之|比例|价格|售价|单价|金额|人数|数量")),
    ("person", re.compile(r"谁|何人|哪位|哪个人|哪些人|什么人|哪名")),
    ("place", re.compile(r"哪里|哪儿|何处|何地|什么地方|哪个国家|哪国|哪座|哪个城市|哪一地区|哪个地区|在哪|哪个省")),
]

_WH = re.compile(r"多少|几|什么|啥|哪|谁|何|怎么|怎样|如何|为什么|为何|是否|吗|呢|多大|多高|多长|多久|多远")


def focus_words(question: str, tokenize) -> set[str]:
    """The content words right around the question word: what the answer sentence must talk about.

    '紫堇属植物的花序有什么类型' → {'花序', '类型'}; '广三铁路在哪年建成' → {'铁路', '建成'}.
    """
    q = normalize(question)
    m = _WH.search(q)
    if not m:
        return set()
    before = [t for t in tokenize(q[: m.start()]) if not t.startswith("#")]
    after = [t for t in tokenize(q[m.end():]) if not t.startswith("#")]
    return set(before[-2:] + after[:1])


def question_type(question: str) -> str:
    q = normalize(question)
    for name, pattern in _QTYPES:
        if pattern.search(q):
            return name
    return "other"


# --- the kind of answer a question asks for ------------------------------------------------------

KINDS = ("fact", "why", "how", "status", "timeline", "compare", "list", "said", "event", "overview")

_DATE_MENTION = re.compile(r"(?:\d{2,4}年)?\d{1,2}月\d{1,2}[日号]|\d{4}年\d{1,2}月(?!\d)|(?:\d{2,4}年)?[一二三四五六七八九十]{1,3}月[一二三四五六七八九十]{1,3}[日号]")
# Checked in this order: the first that fits names the kind.
_KIND_PATTERNS = [
    ("timeline", re.compile(r"时间线|时间表|经过|历程|经历|演变|来龙去脉|始末|怎么变|如何变|变化|怎样变|前后|先后|一步步|过程|按时间|几次|之前发生|中间发生|从.{1,20}到.{1,20}(?:发生|经历|怎么|如何)")),
    ("event", re.compile(rf"(?:{_DATE_MENTION.pattern}|那天|当天|这天)[^，,。？?]{{0,8}}(?:发生了?什么|有什么事|怎么了|出了什么事|什么事)")),
    ("compare", re.compile(r"区别|差别|差异|不同|不一样|差在哪|异同|相比|比较|对比|哪个(?:更|比较)|谁的.{0,10}更|比.{1,12}(?:快|慢|强|弱|高|低|多|少|大|小|好|差|贵|便宜)|一样吗|相同吗")),
    ("said", re.compile(r"(?:怎么|如何|怎样)(?:指责|批评|回应|解释|开导|劝|评论|表态)|说了?什么|说(?!的).{1,20}是什么|怎么说(?!服)|如何说(?!服)|说法|表示了?什么|怎么回应|如何回应|回应了?什么|有何回应|怎么回答|答复|怎么评价|如何评价|怎么看|如何看|看法|态度|评论|立场|声明了?什么|谈到|说过")),
    ("why", re.compile(r"为什么|为何|为啥|什么原因|原因|因何|怎么会|何故|动机|目的是|出于什么|凭什么|理由|怎么来的|由来|从何而来")),
    ("list", re.compile(r"哪些|哪几|有什么.{0,6}(?:条件|措施|公司|企业|产品|国家|人|要求|限制|规定|内容|条款|特点|好处|优点|缺点|问题|方法|建议|作用|影响|风险|理念)|包括什么|包含什么|分别|几类|几种|几项|列举|名单|清单")),
    ("how", re.compile(r"怎么|如何|怎样|咋|通过什么|用什么方式|以什么方式|什么办法|什么手段|方法")),
    ("status", re.compile(r"还.{0,8}吗|还.{0,8}没有|现在|目前|如今|眼下|最新|最近|最后|现状|进展|了吗|了没|了没有|还能|还可以|还在|还是|是否已|有没有被|被禁|禁止了?吗|允许.{0,10}吗|批准.{0,10}吗|能不能|能否|可以.{0,12}吗|能.{0,12}吗|会不会|会.{0,12}吗|放行")),
]
_LOOKUP = re.compile(r"多少|几[个名人次年天倍种项家位条座只枚颗件届所岁]|哪[个家里位座所款天年]|谁|什么时候|何时")
_ERA = re.compile(r"\d{2,4}年|[一二三四五六七八九十]{1,3}年|年代|世纪")
_LATEST = re.compile(r"现在|目前|如今|眼下|最新|最近|最后|现状|进展|了吗|了没|还能|还可以|还在|是否已")
# Words that say when the reader wants the news, not what it is about: left out of the search terms.
SCOPE_WORDS = frozenset({"现在", "目前", "如今", "眼下", "最新", "现状", "进展", "时间线", "时间表", "经过", "历程", "始末"})
# What a state question is about whatever the topic: searched for beside the question's names.
STATE_WORDS = "批准 允许 禁止 放行 叫停 进口 出口 许可 禁令"
_SPEECH_Q = re.compile(r"说了?什么|怎么说|如何说|表示|回应|回答|答复|评价|怎么看|如何看|看法|态度|评论|立场|声明|谈到|说过")
_SIDES = re.compile(r"和|与|跟|同|及|对比|相比|比起|比")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9.\-]*[0-9A-Za-z]|[0-9]+[A-Za-z][A-Za-z0-9]*")


@dataclass(frozen=True)
class Question:
    """What a question asks for: its kind, the fact slot of a lookup, its topic, its time scope and script."""

    text: str
    kind: str  # one of KINDS
    slot: str  # the answer type of a lookup: date, number, person, place, reason, other
    entities: tuple[str, ...]  # names in it (H200, Blackwell): what the answer must be about
    scope: str  # "latest": the newest evidence first; "sequence": events in order; "any"
    script: str  # "traditional" or "simplified": the reader's own, for the bot's words
    date: str | None = None  # the date an event question asks about, as written ("1月23日")
    speaker: str | None = None  # whose words a what-said question asks for
    sides: tuple[str, ...] = ()  # the two things a comparison holds side by side
    keywords: tuple[str, ...] = ()  # what a bare keyword query ('H200', '网信办 英伟达') names


def analyse(text: str) -> Question:
    """The typed reading of a question (pure: patterns only, no corpus)."""
    q = normalize(text)
    kind = next((name for name, pattern in _KIND_PATTERNS if pattern.search(q)), "fact")
    slot = question_type(text)
    if kind in ("status", "list") and slot in ("number", "person", "place", "date") and _LOOKUP.search(q) \
            and "哪几" not in q and "哪些" not in q and "分别" not in q:
        kind = "fact"  # '现在有多少员工', '首批放行了多少颗', '有几家企业进了名单': a value, asked now
    date = _DATE_MENTION.search(q)
    if kind == "fact" and re.search(r"什么|怎么了|啥", q) and not re.search(r"谁|多少|哪", q) and (
            date or _ERA.search(q) and re.search(r"什么事|发生", q)):
        kind = "event"
    keywords = _keywords(q)
    if keywords:
        kind = "overview"  # no question at all: what the articles say about it, newest first
    scope = "sequence" if kind == "timeline" else "latest" if (kind in ("status", "overview") or _LATEST.search(q)) \
        else "any"
    return Question(
        text=text, kind=kind, slot=slot, entities=_names(text),
        scope=scope, script="traditional" if to_simplified(text) != text else "simplified",
        date=date.group(0) if date else None, speaker=_speaker(q) if kind == "said" else None,
        sides=_sides(q) if kind == "compare" else (), keywords=keywords)


_ASKING = re.compile(r"[？?吗呢么]|什么|怎么|怎样|如何|为什么|为何|多少|哪|谁|几|是否|有没有|能否|可否|会不会|是不是|"
                     r"发生|经过|区别|原因|情况|时候|how|why|what|when|where|who|which")
KEYWORD_CHARS = 20


def _keywords(q: str) -> tuple[str, ...]:
    """The words of a bare keyword query ('h200', 'h20 禁令', '网信办、英伟达'): a short question with no question
    word or mark at all; () for a question."""
    if len(q) > KEYWORD_CHARS or _ASKING.search(q):
        return ()
    words = [w for w in re.split(r"[\s,，、/;；]+", q.strip(" 。.!！")) if w]
    return tuple(words) if 1 <= len(words) <= 4 else ()


def state_query(asked: Question, words: list[str]) -> str | None:
    """For status and timeline questions about named things: the names and the question's own words with the
    vocabulary of permission and ban, so reports of each state are retrieved whichever verb the reader used."""
    if asked.kind not in ("status", "timeline") or not asked.entities:
        return None
    return " ".join([*asked.entities, *words, STATE_WORDS])


def _names(text: str) -> tuple[str, ...]:
    """Latin and digit names (H200, Blackwell, 910C); two letters alone ('AI') are a word, not a name."""
    return tuple(dict.fromkeys(n for n in _NAME.findall(text) if len(n) > 2 or any(c.isdigit() for c in n)))


def _speaker(q: str) -> str | None:
    """'卢特尼克说了什么' → '卢特尼克'; '商务部对美国批准h20销售怎么回应' → '商务部'."""
    m = _SPEECH_Q.search(q)
    head = q[: m.start()] if m else q
    head = re.split(r"对|就|关于|针对|在", head, maxsplit=1)[0]
    head = re.sub(r"[，,？?。！!\s]|是|怎么|如何|又|都|还|曾", "", head)
    return head or None


def _sides(q: str) -> tuple[str, ...]:
    """'h20和h200有什么区别' → ('h20', 'h200'): the two things compared, where the question names both."""
    body = re.split(r"有什么|有何|有哪些|的区别|的差别|的不同|相比|比较|哪个|一样|相同|之间|[？?]", q)[0]
    parts = [p.strip("的 ") for p in _SIDES.split(body, maxsplit=1)]
    if len(parts) == 2 and all(parts):
        right = re.split(r"快|慢|强|弱|高|低|多|少|大|小|好|差|贵|便宜", parts[1])[0] or parts[1]
        return parts[0], right
    return ()


def as_written(question: str, term: str) -> str:
    """The question's own spelling of a folded term (traditional stays traditional), else the term."""
    n = len(term)
    for i in range(len(question) - n + 1):
        if normalize(question[i:i + n]) == term:
            return question[i:i + n]
    return term


def date_pattern(date: str) -> re.Pattern:
    """The asked date in folded text, written with 日 or 号 ('1月23日', not inside '11月23日')."""
    d = normalize(date)
    return re.compile(r"(?<!\d)" + (re.escape(d[:-1]) + "[日号]" if d[-1:] in ("日", "号") else re.escape(d)))


def stands_in(word: str, norm: str) -> bool:
    """The folded word stands in the folded text; a Latin or digit name as a whole word ('h20' is not in 'h200')."""
    if re.fullmatch(r"[a-z0-9.\-]+", word):
        return re.search(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])", norm) is not None
    return word in norm


def holds_names(asked: Question, norm: str) -> bool:
    """Every name the question gives stands in the folded text as a whole word ('h20' is not in 'h200')."""
    return all(stands_in(normalize(e), norm) for e in asked.entities)


_PART_END = re.compile(r"[？?；;]|、(?=[^、]*(?:什么|多少|哪|谁|几|怎么|如何|为什么|吗))|，(?=[^，]*(?:什么|多少|哪|谁|几))")
_ASKS = re.compile(r"什么|多少|哪|谁|几|怎么|如何|为什么|为何|吗|多远|多久|多大|多高|多长")


def sub_questions(text: str) -> tuple[str, ...]:
    """A question that asks two or more things, each with its own question word, as separate questions,
    the later ones given the first's topic ('劳伦斯是哪天去世的？活了多少岁？' → …, '劳伦斯活了多少岁');
    any other question as itself."""
    folded = normalize(text)
    cuts = [0, *(m.end() for m in _PART_END.finditer(folded)), len(text)]
    parts = [(a, b) for a, b in zip(cuts, cuts[1:]) if folded[a:b].strip(" ？?；;、，,")]
    if len(parts) < 2 or not all(_ASKS.search(folded[a:b]) for a, b in parts):
        return (text,)
    first_a, first_b = parts[0]
    topic = text[first_a:first_a + _ASKS.search(folded[first_a:first_b]).start()]
    topic = re.sub(r"(是|在|于|的)$", "", topic.strip())
    out = [text[first_a:first_b].strip(" 、，,")]
    for a, b in parts[1:]:
        part = text[a:b].strip(" 、，,")
        out.append(part if topic and topic in part else topic + part)
    out = list(dict.fromkeys(out))  # the same question twice is asked once
    return tuple(out) if len({normalize(p).strip("？?") for p in out}) > 1 else (text,)
