"""Answer forms: which quotes, in which order and role, a question of each kind gets (pure functions)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from bot.answer.question import Question, date_pattern, holds_names, stands_in
from embeddings.textnorm import normalize

MAX_FORM_QUOTES = 5
EXPLAIN_QUOTES = 3
LIST_QUOTES = 4  # a list's items are often spread over sentences and table rows
LIST_MARGIN = 4.0
EXPLAIN_MARGIN = 2.5  # logits behind the best that a further quote may be
STATUS_MARGIN = 8.0  # a report of a state of the named thing counts whatever verb the reader used
EVENT_MARGIN = 6.0  # the asked date picks the event; the reader's other words need not recur
TIMELINE_MARGIN = 5.0  # a story's events share few of the question's words: a wide margin, within the story
STORY_DOCS = 3  # the articles of the best quotes are the story's
NAMED_TIMELINE_MARGIN = 7.0  # the names keep a story's events apart from the rest: a wider margin
STORY_MARGIN = 2.0  # without names to follow, the story is the articles whose best quote is this close to the best
EVENT_DATED = 1.0  # what a sentence dates itself is an event of the story more often than a remark is
NEAR_TOPIC = 1.0  # a cue sentence in or next to the best quote's paragraph
RESTATED = -1.0  # what a restatement of a why or how question loses
RESTATED_NOVELTY = 0.4  # under 0.4 × 8 words beyond the question's: a restatement
OVERVIEW_QUOTES = 3
OVERVIEW_MARGIN = 6.0
COMPARE_MARGIN = 6.0  # each compared thing's own quote may be this far behind the best
CORROBORATION_MARGIN = 1.5  # another article's quote this close needs no cue (as for lookups)

# What a sentence must carry to answer each kind (matched on folded text).
REASON_CUES = re.compile(r"因为|由于|为了|是为|旨在|担心|担忧|动机|原因|因此|所以|以免|以便|出于|鉴于|为遏制|为维护|为符合|目的|导致|源于|在于|驱动")
MEANS_CUES = re.compile(r"通过|借助|利用|采取|采用|依据|依照|按照|以.{1,8}方式|方式|办法|手段|措施|途径|渠道")
SPEECH_CUES = re.compile(r"表示|称|说|指出|认为|强调|回应|透露|警告|声明|坦言|直言|提到|指|写道|呼吁|质疑|批评|宣布")
COMPARE_CUES = re.compile(r"倍|比|高于|低于|多于|少于|相当|差距|相比|超过|超越|不如|领先|落后|快|慢|区别|差异|不同|对标|代差|鸿沟")
STATE_CUES = re.compile(r"批准|允许|禁止|不允许|放行|叫停|获准|许可|禁令|解禁|禁运|限制|管制|恢复|取消|暂停|入境|进口|出口|不得|准入")
REFERS_BACK = re.compile(r"^(?:这|这也|这就|正因|因此|所以|由此)[^，。]{0,30}(?:原因|缘故|缘由|理由|道理|之所以|所以)")
ADDRESSED = re.compile(r"致函|致信|写信给|问|向")
QUOTED = re.compile(r"^\s*[“「\"]|[”」\"]\s*$")  # a sentence of quoted speech
ASKED_BACK = re.compile(r"请问|记者问|有记者问|[？?]\s*$|[”」][？?]")
ANNOUNCES = re.compile(r"[：:]\s*$|如下|以下几|包括以下|以下[^，。]{0,6}[：:]")
COUNTED = re.compile(r"[两二三四五六七八九十几多数]+[项条点个家类种方面]")
ENUMERATION = re.compile(r"、.+、|；.+；|[：:].+[、；,，].+")


@dataclass(frozen=True)
class Option:
    """A candidate quote as the forms see it: where it is, what it says, when, and how good it is."""

    key: tuple[str, int, int, int]  # (doc id, paragraph, start, end)
    text: str
    norm: str  # folded text
    score: float  # the lookup scorer's logit plus the form's bonus
    published: str | None  # the article's date
    event: str | None  # the date the sentence gives for what it reports
    role: str = "answer"
    ends_paragraph: bool = False

    @property
    def doc(self) -> str:
        return self.key[0]

    @property
    def date(self) -> str | None:
        return self.event or self.published


def form_bonus(question: Question, norm: str, table_row: bool = False) -> float:
    """What a sentence's wording adds for the question's kind: a lookup scorer cannot see that 'why' wants a
    cause and 'what did X say' the speaker's own words. A sentence that asks a question answers none."""
    if ASKED_BACK.search(norm):
        return -3.0
    bonus = 0.0
    kind = question.kind
    if kind == "why" and REASON_CUES.search(norm):
        bonus += 1.0
    elif kind == "how" and MEANS_CUES.search(norm):
        bonus += 0.6
    elif kind == "said":
        if SPEECH_CUES.search(norm) or "“" in norm or "「" in norm:
            bonus += 0.8
        if question.speaker and speaks(question.speaker, norm):
            bonus += 2.5
    elif kind == "compare":
        if question.sides and all(s in norm for s in question.sides):
            bonus += 1.0
        elif question.sides and not any(s in norm for s in question.sides):
            bonus -= 2.0  # a comparison of other things ('…和婚姻还有什么区别')
        if COMPARE_CUES.search(norm):
            bonus += 0.6
    elif kind == "list":
        if ENUMERATION.search(norm) or table_row:
            bonus += 2.0  # the items themselves, not the sentence that says there are some
        if ANNOUNCES.search(norm) or COUNTED.search(norm):
            bonus += 0.5
    elif kind == "event" and question.date:
        if _mentions(norm, question.date):
            bonus += 2.5
    elif kind in ("status", "timeline"):
        if STATE_CUES.search(norm):
            bonus += 0.5
    return bonus


def restated(question: Question, norm: str, novelty: float) -> float:
    """What a sentence that only restates a why or how question loses: it carries no cause or means, and
    few words beyond the question's."""
    return RESTATED if novelty < RESTATED_NOVELTY and not carries(question, norm) else 0.0


def report_pattern(question: Question) -> re.Pattern:
    """Folded text that reports a state of everything the question names: its names as whole words and a
    word of permission or ban, anywhere in the text."""
    names = "".join(rf"(?=.*(?<![a-z0-9]){re.escape(normalize(e))}(?![a-z0-9]))" for e in question.entities)
    return re.compile(rf"^{names}(?=.*(?:{STATE_CUES.pattern}))", re.S)


def speaks(speaker: str, norm: str) -> bool:
    """The speaker is the subject of a speech verb: '商务部新闻发言人表示', not '美国商务部已批准'."""
    for m in re.finditer(re.escape(speaker), norm):
        if ADDRESSED.search(norm[max(0, m.start() - 8):m.start()]):
            continue  # a letter or a question put to the speaker is not the speaker's word
        after = re.sub(r"^[（(][^）)]{0,40}[）)]", "", norm[m.end():m.end() + 50])
        if SPEECH_CUES.search(after[:10]):
            return True
    return False


def decisive(question: Question, norm: str) -> bool:
    """The sentence carries what the question's kind is defined by: the asked date, the speaker speaking,
    both compared things. Such a quote answers even when few of the question's words recur in it."""
    if question.kind == "event" and question.date:
        return _mentions(norm, question.date)
    if question.kind == "said" and question.speaker:
        return speaks(question.speaker, norm)
    if question.kind == "compare" and len(question.sides) == 2:
        return all(s in norm for s in question.sides) and bool(COMPARE_CUES.search(norm))
    return False


def _previous_sentence(best: Option, options: list[Option]) -> Option | None:
    """The option that ends right where `best` starts, in the same paragraph (the shortest such)."""
    before = [o for o in options if o.key[:2] == best.key[:2] and 0 <= best.key[2] - o.key[3] <= 2]
    return max(before, key=lambda o: o.key[2]) if before else None


def _next_sentence(best: Option, options: list[Option], question: Question | None = None) -> Option | None:
    """The option that starts right where `best` ends: in the same paragraph, or at the start of the next
    one when `best` ends its paragraph (the shortest such)."""
    after = [o for o in options if o.key[:2] == best.key[:2] and 0 <= o.key[2] - best.key[3] <= 2]
    if not after and best.ends_paragraph:
        after = [o for o in options if o.key[0] == best.key[0] and o.key[1] == best.key[1] + 1 and o.key[2] <= 2]
    carrying = [o for o in after if question is not None and carries(question, o.norm)]
    return min(carrying or after, key=lambda o: o.key[3]) if after else None


def _apart(chosen: list[Option], o: Option) -> bool:
    """Not overlapping any chosen quote of the same paragraph."""
    return not any(c.key[:2] == o.key[:2] and c.key[2] < o.key[3] and o.key[2] < c.key[3] for c in chosen)


def _pool(options: list[Option], margin: float) -> list[Option]:
    best = options[0].score
    out: list[Option] = []
    for o in options:
        if o.score >= best - margin and _apart(out, o):
            out.append(o)
    return out


def choose(question: Question, options: list[Option]) -> tuple[list[Option], str | None]:
    """The quotes for the question's kind, with their roles, and a note on how to read them (or None).

    `options` are best first. Lookups keep the best quote (and corroboration chosen elsewhere); status
    questions lead with the newest evidence and keep older reports dated; timelines put events in order."""
    if not options:
        return [], None
    if question.kind == "status" or question.kind == "fact" and question.scope == "latest":
        return _latest(question, options)
    if question.kind == "timeline":
        return _timeline(question, options)
    if question.kind == "event":
        same_day = [o for o in _pool(options, EVENT_MARGIN) if question.date and _mentions(o.norm, question.date)]
        if not same_day:
            return options[:1], None
        chosen = same_day[:1]
        follower = _next_sentence(same_day[0], options)
        if follower is not None:
            chosen.append(follower)  # what happened that day is often told in the sentences after the date
        return chosen + [o for o in same_day[1:] if o.doc != same_day[0].doc][:1], None
    if question.kind == "compare":
        return _compare(question, options), None
    if question.kind == "overview":
        return _overview(options), "overview"
    return _explain(question, options), None


def _overview(options: list[Option]) -> list[Option]:
    """What the articles say about a bare keyword query: the best quote of each of the best articles (within
    OVERVIEW_MARGIN of the best), then, while there is room, the next best of other paragraphs; newest
    first. `options` are those that name every keyword."""
    best = options[0].score
    pool = [o for o in options if o.score >= best - OVERVIEW_MARGIN]
    chosen: list[Option] = []
    for o in pool:
        if len(chosen) < OVERVIEW_QUOTES and all(o.doc != c.doc for c in chosen):
            chosen.append(o)
    for o in pool:  # one article on the topic: several of its paragraphs
        if len(chosen) < OVERVIEW_QUOTES and all(o.key[:2] != c.key[:2] for c in chosen):
            chosen.append(o)
    return sorted(chosen, key=lambda o: (o.date or "", o.score), reverse=True)


def side_keys(question: Question) -> list[str]:
    """What marks each compared thing in a sentence: the names it compares ('H200、H20和Blackwell'), else
    the question's two sides up to their first modifier ('郊区的初中生' → '郊区')."""
    if len(question.entities) >= 2:
        return [normalize(e) for e in question.entities]
    return [k for k in (re.split(r"[的，,在对]", normalize(s))[0] for s in question.sides) if k]


def _compare(question: Question, options: list[Option]) -> list[Option]:
    """A sentence that holds every compared thing with a comparison, as an explanation; failing that, the
    best quote about each compared thing, side by side, in the question's order."""
    keys = side_keys(question)
    best = options[0]
    if len(keys) < 2 or all(stands_in(k, best.norm) for k in keys) and COMPARE_CUES.search(best.norm):
        return _explain(question, options)
    pool = _pool(options, COMPARE_MARGIN)
    chosen: list[Option] = []
    for k in keys:
        free = [o for o in pool if stands_in(k, o.norm) and o not in chosen and _apart(chosen, o)]
        # a quote of this side alone before one that names the others too
        side = next((o for o in free if not any(stands_in(x, o.norm) for x in keys if x != k)), free[0] if free else None)
        if side is not None:
            chosen.append(side)
    return chosen if len(chosen) >= 2 else _explain(question, options)


def carries(question: Question, norm: str) -> bool:
    """The sentence carries what the kind asks for: a cause, a means, someone's words, a comparison, items."""
    cue = {"why": REASON_CUES, "how": MEANS_CUES, "said": SPEECH_CUES, "compare": COMPARE_CUES,
           "list": ENUMERATION}.get(question.kind)
    return bool(cue and cue.search(norm)) or decisive(question, norm)


def _explain(question: Question, options: list[Option]) -> list[Option]:
    """The best quote and up to two more, close behind it, that also carry what the kind asks for (a reason
    often has two parts; statements and list items are spread over sentences)."""
    listing = question.kind == "list"
    chosen = [options[0]]
    if question.kind == "why" and REFERS_BACK.search(options[0].norm):
        before = _previous_sentence(options[0], options)
        if before is not None:
            chosen.insert(0, before)  # '这也便是…的原因': the reason was the sentence before
    if question.kind == "said" and question.speaker and speaks(question.speaker, options[0].norm):
        before = _previous_sentence(options[0], options)
        if before is not None and QUOTED.search(before.norm):
            chosen.insert(0, before)  # '“…。”朱立凡说，…': the words quoted right before their attribution
    follower = _next_sentence(options[0], options, question)
    if follower is not None and (not carries(question, options[0].norm) or ANNOUNCES.search(options[0].norm)):
        chosen.append(follower)  # the best sentence names the topic, or announces ('回答说：'); what it promises comes next
    for o in _pool(options, LIST_MARGIN if listing else EXPLAIN_MARGIN)[1:]:
        if len(chosen) == (LIST_QUOTES if listing else EXPLAIN_QUOTES):
            break
        if ASKED_BACK.search(o.norm):
            continue  # a question put to someone answers nothing
        close = o.doc != options[0].doc and o.score >= options[0].score - CORROBORATION_MARGIN
        if (close or carries(question, o.norm)) and not any(o.text in c.text or c.text in o.text for c in chosen):
            chosen.append(o)
    return chosen


def _mentions(norm: str, date: str) -> bool:
    """The text gives the date ('1月23日', not inside '11月23日')."""
    return date_pattern(date).search(norm) is not None


def _latest(question: Question, options: list[Option]) -> tuple[list[Option], str | None]:
    """The newest strong evidence first; older reports from other articles follow, dated, as 'earlier'.
    Evidence about named things is any report of a state that names them all."""
    if question.entities:
        pool = [o for o in _pool(options, STATUS_MARGIN) if o.date and holds_names(question, o.norm)
                and STATE_CUES.search(o.norm)]
    else:
        pool = [o for o in _pool(options, 1.5) if o.date]
    if len({o.date[:10] for o in pool}) < 2:
        return [options[0]], None
    # The newest article's report; in it, an event the sentence dates itself before its general remarks.
    latest = max((o.published or o.date)[:10] for o in pool)
    newest = max((o for o in pool if (o.published or o.date)[:10] == latest), key=lambda o: (o.event is not None, o.score))
    pool.sort(key=lambda o: (o.date, o.score), reverse=True)
    chosen, docs = [newest], {newest.doc}
    for o in pool[1:]:
        if o.doc not in docs and (o.published or o.date) < latest and len(chosen) < 3:
            chosen.append(replace(o, role="earlier"))
            docs.add(o.doc)
    note = "changed" if len(chosen) > 1 else None
    return chosen, note


def _timeline(question: Question, options: list[Option]) -> tuple[list[Option], str | None]:
    """Up to five events of the story in the order they happened: naming the question's names, or where it
    names none, from the articles whose best quote is close to the best; the most relevant first, an event
    the sentence dates itself counting for a little more (EVENT_DATED), one quote a date; then in date
    order, and in the article's order where the date is the same."""
    best = options[0].score
    story: dict[str, float] = {}
    for o in options:
        story.setdefault(o.doc, o.score)
    close = {d for d, s in story.items() if s >= best - STORY_MARGIN}
    pool = [o for o in _pool(options, NAMED_TIMELINE_MARGIN if question.entities else TIMELINE_MARGIN) if o.date
            and (holds_names(question, o.norm) if question.entities else o.doc in close)]
    pool.sort(key=lambda o: (-(o.score + (EVENT_DATED if o.event else 0.0)), o.key))
    picked: list[Option] = []
    for o in pool:
        if any(o.date == p.date for p in picked):
            continue
        if not any(o.text in p.text or p.text in o.text for p in picked):
            picked.append(o)
        if len(picked) == MAX_FORM_QUOTES:
            break
    if len(picked) < 2:
        return [options[0]], None
    picked.sort(key=lambda o: (o.date, o.key[1], o.key[2]))
    return picked, "sequence"
