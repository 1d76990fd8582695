"""From a candidate quote to the spans around it an answer form needs: the next sentence, a list's items, a
story's dated sentences."""

from __future__ import annotations

import re
from dataclasses import replace

from bot.answer.candidates import Candidate, EXPLAINING, EXPLAIN_QUOTE_CHARS
from bot.answer.dates import event_date
from bot.answer.features import MAX_QUOTE_CHARS, coverage_over
from bot.answer.forms import (ANNOUNCES, EXPLAIN_MARGIN, LIST_MARGIN, MAX_FORM_QUOTES, Option, STORY_DOCS,
                              TIMELINE_MARGIN, choose)
from bot.answer.model import Note
from bot.answer.question import Question, holds_names


STORY_ROWS = 300  # passages of the story's article read for its dated events
FORM_OPTIONS = 200  # candidates an answer form chooses among
LIST_REACH = 12  # paragraphs after a list's announcer read for its items
LIST_ITEM = re.compile(r"\s*(?:\d{1,2}|[一二三四五六七八九十]{1,3})\s*[、.．]|\s*[（(]\s*(?:\d{1,2}|[一二三四五六七八九十]{1,3})\s*[）)]")


class Spans:
    """Reading around candidate quotes for the answer forms (a Composer's part)."""

    def _form(self, asked: Question, cands: list[Candidate]) -> tuple[list[Candidate], Note | None]:
        """The quotes of the question's answer form (status, timeline, event, list), in their order and roles."""
        by_key: dict[tuple, Candidate] = {}
        options: list[Option] = []

        def offer(c: Candidate) -> None:
            if c.key not in by_key:
                by_key[c.key] = c
                options.append(self._option(c))

        for c in cands[:FORM_OPTIONS]:
            offer(c)
        if asked.kind in EXPLAINING + ("list",) and cands:
            # What follows the best quote may be the answer it announces ('狄奥根尼回答说：'), even when the
            # retrieved passages stop before it.
            nxt = self._after(cands[0])
            if nxt is not None:
                offer(replace(nxt, score=cands[0].score - EXPLAIN_MARGIN))
        if asked.kind == "timeline" and cands:
            # The story's articles tell its events in order: their sentences that date themselves are candidates
            # too, at the bottom of the form's margin, a little higher the more of the question's words they hold.
            floor = cands[0].score - TIMELINE_MARGIN
            weights = self.question_terms(asked.text)[1]
            share = coverage_over(weights)
            story: list[Candidate] = []
            for c in cands:
                if c.hit.passage.doc_id not in {x.hit.passage.doc_id for x in story}:
                    story.append(c)
                if len(story) == STORY_DOCS:
                    break
            for c in (x for best in story for x in self._dated_sentences(best)):
                if c.key in by_key:
                    continue
                text = self.index.paragraph(c.hit.passage).text[c.start:c.end]
                if asked.entities and not holds_names(asked, self.canonical(text)):
                    continue
                offer(replace(c, score=floor + share(self.token_set(text)), bonus=0.0))
        if asked.kind == "list" and asked.scope != "latest" and options:
            # a sentence that announces items ('几家核心企业的定位如下：') at its paragraph's end: the rows follow
            announcer = next((o for o in options if o.score >= options[0].score - LIST_MARGIN
                              and o.ends_paragraph and ANNOUNCES.search(o.norm)), None)
            if announcer is not None:
                return self._list(asked, by_key[announcer.key]), None
        picked, note = choose(asked, options)
        chosen = [replace(by_key[o.key], role=o.role, event=o.event or o.published) for o in picked]
        topic = asked.text.strip(" ?？。.!！") if note == "overview" else ""
        return chosen, (Note(note, topic=topic) if note else None)

    def _option(self, c: Candidate) -> Option:
        """A candidate as the forms see it: its text, folded text, dates and place in its paragraph."""
        para = self.index.paragraph(c.hit.passage)
        text = para.text[c.start:c.end]
        published = self.index.document(c.hit.passage).date
        return Option(c.key, text, self.canonical(text), c.score, published, event_date(text, published),
                      ends_paragraph=not para.text[c.end:].strip())

    def _list(self, asked: Question, best: Candidate) -> list[Candidate]:
        """A sentence announcing a list ('如下：'), then its items: the first sentence of each paragraph that
        follows (numbered ones while they go on, else the next few), the ones holding the most of the
        question's words where there are more than fit."""
        doc = self.index.document(best.hit.passage)
        items: list[Candidate] = []
        numbered = None
        for para in doc.paragraphs[best.hit.passage.paragraph + 1:best.hit.passage.paragraph + 1 + LIST_REACH]:
            a, b = para.sentences[0] if para.sentences else (0, len(para.text))
            passage = self._following(best.hit.passage, para.index, a) if para.text.strip() else None
            if passage is None:
                continue  # boilerplate left out of the index (a repeated headline) interrupts no list
            if numbered is None:
                numbered = bool(LIST_ITEM.match(para.text))
            elif numbered != bool(LIST_ITEM.match(para.text)) or not numbered and len(items) == MAX_FORM_QUOTES - 1:
                break
            if b - a > MAX_QUOTE_CHARS:
                b = a + len(para.text[a:a + MAX_QUOTE_CHARS].rsplit("；", 1)[0]) if "；" in para.text[a:a + MAX_QUOTE_CHARS] else a + MAX_QUOTE_CHARS
            items.append(replace(best.moved(passage, a, b), role="answer"))
        if len(items) > MAX_FORM_QUOTES - 1:
            share = coverage_over(self.question_terms(asked.text)[1])
            ranked = sorted(range(len(items)), key=lambda i: (-share(self.token_set(self._text(items[i]))), i))
            items = [items[i] for i in sorted(ranked[:MAX_FORM_QUOTES - 1])]
        return [best, *items]

    def _text(self, c: Candidate) -> str:
        return self.index.paragraph(c.hit.passage).text[c.start:c.end]

    def _after(self, best: Candidate) -> Candidate | None:
        """The sentence right after `best`: the next one of its paragraph, else the first of the next paragraph."""
        para = self.index.paragraph(best.hit.passage)
        for a, b in para.sentences:
            if best.end <= a <= best.end + 2:
                passage = best.hit.passage if a < best.hit.passage.end else self._following(best.hit.passage, para.index, a)
                return None if passage is None else replace(best.moved(passage, a, min(b, a + EXPLAIN_QUOTE_CHARS)),
                                                            bonus=0.0)
        if para.text[best.end:].strip():
            return None
        doc = self.index.document(best.hit.passage)
        if para.index + 1 >= len(doc.paragraphs):
            return None
        nxt = doc.paragraphs[para.index + 1]
        a, b = nxt.sentences[0] if nxt.sentences else (0, len(nxt.text))
        passage = self._following(best.hit.passage, nxt.index, a)
        return None if passage is None else replace(best.moved(passage, a, min(b, a + EXPLAIN_QUOTE_CHARS)), bonus=0.0)

    def _dated_sentences(self, best: Candidate, reach: int = STORY_ROWS) -> list[Candidate]:
        """The sentences of `best`'s article (its passages are adjacent rows) that state a date of their own,
        in the article's order, as candidates shaped like `best`."""
        doc_id, row = best.hit.passage.doc_id, best.hit.passage.row
        rows = []
        for step in (-1, 1):
            r = row if step == 1 else row - 1
            while abs(r - row) <= reach and self.index.is_live(r):
                if self.index.passage(r).doc_id != doc_id:
                    break
                rows.append(r)
                r += step
        published = self.index.document(best.hit.passage).date
        out, seen = [], set()
        for r in sorted(rows):
            p = self.index.passage(r)
            text = self.index.paragraph(p).text
            for a, b in p.sentences:
                a, b = p.start + a, p.start + b
                if (p.paragraph, a) in seen or b - a > EXPLAIN_QUOTE_CHARS:
                    continue
                seen.add((p.paragraph, a))
                sentence = text[a:b]
                if event_date(sentence, published) is not None:
                    out.append(best.moved(p, a, b))
        return out

    def _following(self, passage, paragraph: int, offset: int):
        """The live passage of the same document holding `offset` of a later paragraph (passages of one
        document are adjacent rows, in order), or None."""
        for row in range(passage.row + 1, min(self.index.rows, passage.row + 40)):
            if not self.index.is_live(row):
                return None
            p = self.index.passage(row)
            if p.doc_id != passage.doc_id or p.paragraph > paragraph:
                return None
            if p.paragraph == paragraph and p.start <= offset < p.end:
                return p
        return None

