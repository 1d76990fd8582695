"""The composer: retrieved hits → scored candidate quotes → an answer or an abstention."""

from __future__ import annotations

import math
import re
import threading
from dataclasses import replace
from typing import Sequence

import numpy as np
from cachetools import FIFOCache

from bot.answer.calibration import calibrated, load_calibration, thresholds
from bot.answer.candidates import DEFAULT_SCORER, EXPLAIN_QUOTE_CHARS, EXPLAINING, Candidate, Candidates
from bot.answer.dates import event_date
from bot.answer.evidence import CACHE_LIMIT, Evidence, FOCUS_LIMIT, TEXT_CACHE_LIMIT
from bot.answer.features import (MAX_QUOTE_CHARS, asked_attribute, attribute_named, attribute_near, names_attribute,
                                 weighted_coverage)
from bot.answer.forms import MAX_FORM_QUOTES, decisive, form_bonus, restated
from bot.answer.marks import marks
from bot.answer.model import Answer, Corroboration, Note, Quote, Source
from bot.answer.question import Question, analyse, as_written, holds_names, stands_in
from bot.answer.spans import Spans
from embeddings.index import Index
from embeddings.search import Hit
from embeddings.textnorm import normalize


MAX_QUOTES = 3
SYNONYM_CREDIT = 0.5  # of a question word, for a sentence that holds its synonym instead
ON_POINT_MARGIN = 2.0  # logits behind the top a lookup's on-point quote may be and still go first
DECISIVE_THRESHOLD = 0.3
# A story's dated events: the question names the story, its events rarely repeat the question's words.
SEQUENCE_THRESHOLD = 0.1  # the confidence a decisive quote (forms.decisive) needs


class Composer(Evidence, Candidates, Spans):
    """Turns retrieved hits into an Answer. Holds the index (idf weights, paragraphs) and the encoder."""

    def __init__(self, index: Index, calibration: dict | None = None, encoder=None):
        self.index = index
        self.encoder = encoder
        self.tokenizer = index.tokenizer
        self.calibration = calibration if calibration is not None else load_calibration()
        self.scorer = self.calibration.get("scorer", DEFAULT_SCORER)
        # The same news sentences come back question after question, so the composer keeps what it derived
        # from them, in caches bounded by entries (oldest out first; reads do not reorder them, which costs
        # nothing on the hot path) and shared by the bot's answering threads under one lock.
        self._lock = threading.Lock()
        self._token_cache: FIFOCache = FIFOCache(CACHE_LIMIT)  # clause windows → their tokens
        # Candidates' tokens are handled as term keys (the vocabulary id, or the term itself where the
        # vocabulary lacks it), so the token ids stored per sentence need no decoding to strings.
        self._sentence_keys: FIFOCache = FIFOCache(CACHE_LIMIT)
        self._pair_keys: FIFOCache = FIFOCache(CACHE_LIMIT)
        self._text_keys: FIFOCache = FIFOCache(CACHE_LIMIT)
        self._canonical: FIFOCache = FIFOCache(TEXT_CACHE_LIMIT)
        self._paragraphs: FIFOCache = FIFOCache(CACHE_LIMIT)
        self._matches: FIFOCache = FIFOCache(TEXT_CACHE_LIMIT)  # folded text → qtype → typed answers
        self._focus: FIFOCache = FIFOCache(FOCUS_LIMIT)

    def compose(self, question: str, hits: Sequence[Hit], query_vector: np.ndarray | None = None,
                asked: Question | None = None, synonyms: dict[str, tuple[str, ...]] | None = None) -> Answer:
        asked = asked or analyse(question)
        terms = self.question_terms(question)
        qtype, q_words, _ = terms
        limit = EXPLAIN_QUOTE_CHARS if asked.kind in EXPLAINING else MAX_QUOTE_CHARS
        credits, evidence_words = self.with_synonyms(q_words, synonyms or {})
        swapped = [w for w in q_words if w not in evidence_words and w in credits]
        if swapped:  # pieces of a word the articles word otherwise ('绿灯', '#绿灯' of '开绿灯'): not asked for
            q_words = {w: v for w, v in q_words.items() if w in evidence_words or w in credits}
            bigrams = {b: v for b, v in terms[2].items() if not any(b[1:] in w for w in swapped)}
            terms = (qtype, q_words, bigrams)
        cands = self.candidates(question, hits, query_vector, terms, limit, credits)
        if not cands:
            return self._abstain(asked, hits, 0.0, qtype, {"reason": "no hits or no content words"}, q_words)
        cands = self.reranked(asked, cands)
        on_point = True
        if asked.kind == "fact" and qtype in ("number", "date"):
            cands, on_point = self.on_point(asked, qtype, cands)
        best = cands[0]
        features = {
            "coverage": best.features["coverage"],
            "bigram_coverage": best.features["bigram_coverage"],
            "typed": best.features["typed"],
            "fused": best.hit.score,
            "lexical": best.hit.lexical,
            "dense": best.hit.dense,
            "dense_sentence": best.features["dense_sentence"],
            "bm25": best.hit.bm25,
            "missing_idf": self._missing_mass(evidence_words),
            "qtype_known": 0.0 if qtype == "other" else 1.0,
            **self._paragraph_evidence(evidence_words, best.hit),
            "scorer": 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, best.score - best.bonus)))),
            "form_bonus": best.bonus,
        }
        alternatives: list[str] = []
        taken: list[tuple[str, int, int, int]] = []
        for c in cands:
            key = c.key
            if any(k[:2] == key[:2] and k[2] < c.end and c.start < k[3] for k in taken):
                continue  # overlaps a better candidate of the same paragraph
            taken.append(key)
            alternatives.append(self.index.paragraph(c.hit.passage).text[c.start:c.end])
            if len(alternatives) == 3:
                break
        # Kept for evaluation: what would be quoted, even when the answer is withheld.
        features["alternatives"] = alternatives
        confidence = calibrated(features, self.calibration)
        threshold, hedge = thresholds(self.calibration, asked.kind)
        if asked.kind in ("status", "timeline", "compare") and asked.entities and not self.named(asked, cands[:40]):
            on_point = False  # no article names what the question is about
        features["on_point"] = float(on_point)
        if not on_point:  # a number or date about the topic, but not the one asked for
            return self._abstain(asked, hits, confidence, qtype, features, q_words)
        if asked.kind == "overview":
            about = [c for c in cands if self.about(asked, c)]
            if not about:  # no sentence names every keyword: the articles do not cover it
                return self._abstain(asked, hits, confidence, qtype, features, q_words)
            chosen, note = self._form(asked, about)
            return self._answer(asked, chosen, confidence, qtype, features, note, hits)
        if asked.kind == "fact" and asked.scope != "latest":
            chosen, note = self._choose(best, cands), None
        else:
            chosen, note = self._form(asked, cands)
        best_norm = self.canonical(self.index.paragraph(best.hit.passage).text[best.start:best.end])
        # A quote with what the kind is defined by, or a timeline of two or more dated events of the story,
        # answers even when few of the question's words recur in it.
        if decisive(asked, best_norm):
            threshold = hedge = min(threshold, self.calibration.get("decisive", DECISIVE_THRESHOLD))
        elif note is not None and note.key == "sequence":
            # two or more dated events that all name the question's names are the story asked for
            floor = 0.0 if asked.entities else self.calibration.get("sequence", SEQUENCE_THRESHOLD)
            threshold = hedge = min(threshold, floor)
        if confidence < hedge:
            return self._abstain(asked, hits, confidence, qtype, features, q_words)
        if confidence < threshold:
            chosen, note = [best], Note("hedge")
        return self._answer(asked, chosen, confidence, qtype, features, note, hits)

    def about(self, asked: Question, c: Candidate) -> bool:
        """The candidate names every word of a keyword query (its names as whole words)."""
        norm = self.canonical(self.index.paragraph(c.hit.passage).text[c.start:c.end])
        if not holds_names(asked, norm):
            return False
        words = self.remember(self._focus, ("keywords", asked.keywords), lambda: tuple(dict.fromkeys(
            self.canonical(w) for k in asked.keywords for w in self.tokenizer.words(k)
            if len(w) >= 2 and w not in self.tokenizer.stop_words and not re.fullmatch(r"[a-z0-9.\-]+", w))))
        return all(w in norm for w in words)

    def named(self, asked: Question, cands: list[Candidate]) -> bool:
        """Some candidate's paragraph names everything the question names; for a comparison, each compared
        name is named by some paragraph (the things compared are often told apart in different rows)."""
        paras = {c.key[:2]: self.canonical(self.index.paragraph(c.hit.passage).text) for c in cands}
        if asked.kind == "compare" and len(asked.entities) >= 2:
            return all(any(stands_in(normalize(e), p) for p in paras.values()) for e in asked.entities)
        return any(holds_names(asked, p) for p in paras.values())

    def on_point(self, asked: Question, qtype: str, cands: list[Candidate]) -> tuple[list[Candidate], bool]:
        """For a number or date lookup: the best candidate close behind the top (ON_POINT_MARGIN) with a typed
        answer the question does not give, of the asked attribute, whose paragraph names the question's names,
        goes first; False when none is (the articles hold numbers about the topic, not the one asked)."""
        q_norm = self.tokenizer.canonical(asked.text)
        attribute = asked_attribute(q_norm)
        named = qtype == "number" and attribute_named(q_norm)  # a date's attribute is often an event's verb
        for i, c in enumerate(cands):
            if c.score < cands[0].score - ON_POINT_MARGIN:
                break
            norm = self.canonical(self.index.paragraph(c.hit.passage).text[c.start:c.end])
            para = self.canonical(self.index.paragraph(c.hit.passage).text)
            # a value the question does not already give ('4月访华是哪一天' is not answered by its own '4月')
            fresh = tuple((at, text) for at, text in self.typed_answers(qtype, norm) if text not in q_norm)
            if not fresh or not (attribute_near(attribute, norm, fresh, named=named) or names_attribute(attribute, para)):
                continue
            if asked.entities and not holds_names(asked, para):
                continue
            return ([c, *cands[:i], *cands[i + 1:]] if i else cands), True
        return cands, False

    def merged(self, question: str, parts: Sequence[Answer]) -> Answer:
        """One answer to a question asked in parts: the answered parts' quotes in order (each once), their
        sources, the lowest confidence among them, and what a refused part lacks as the note. Refused
        whole only when every part is."""
        asked = analyse(question)
        answered = [a for a in parts if not a.abstained]
        if not answered:
            first = parts[0]
            return replace(first, question=question, kind=asked.kind, script=asked.script)
        quotes: list[Quote] = []
        sources: list[Source] = []
        for a in answered:
            for q in a.quotes:
                if any(q.passage.doc_id == x.passage.doc_id and q.start == x.start and q.end == x.end
                       and q.passage.paragraph == x.passage.paragraph for x in quotes):
                    continue
                if len(quotes) == MAX_FORM_QUOTES:
                    break
                quotes.append(q)
                src = a.sources[a.source_number(q) - 1]
                if not any(x.doc_id == src.doc_id and x.paragraph == src.paragraph for x in sources):
                    sources.append(src)
        refused = [a for a in parts if a.abstained]
        note = refused[0].note if refused else next((a.note for a in answered if a.note is not None), None)
        return Answer(question, False, min(a.confidence for a in answered), tuple(quotes), tuple(sources), (),
                      answered[0].qtype, answered[0].features, asked.kind, note, asked.script,
                      tuple(h for a in parts for h in a.hits))

    def reranked(self, asked: Question, cands: list[Candidate]) -> list[Candidate]:
        """The candidates with the bonus their wording earns for the question's kind, best first."""
        out = []
        for c in cands:
            norm = self.canonical(self.index.paragraph(c.hit.passage).text[c.start:c.end])
            bonus = form_bonus(asked, norm, c.hit.passage.kind == "table_row")
            if asked.kind in ("why", "how"):
                bonus += restated(asked, norm, c.features["novelty"])
            out.append(replace(c, score=c.score + bonus, bonus=bonus) if bonus else c)
        out.sort(key=lambda c: (-c.score, c.hit_rank, c.start, c.end))
        return out

    def with_synonyms(self, q_words: dict[str, float], synonyms: dict[str, tuple[str, ...]]
                      ) -> tuple[dict[str, tuple[tuple[str, float], ...]], dict[str, float]]:
        """The synonyms' credits, and the question's words as the evidence features weigh them. A word the
        articles never use ('被禁') is worded as they word it ('禁止'): its synonyms count in full, and its most
        used synonym stands for it where a missing word would make the answer look unfounded; a word they use
        keeps its weight and its synonyms count for SYNONYM_CREDIT."""
        if not synonyms:
            return {}, q_words
        df = self._dfs(list(q_words))
        credits = {w: tuple((x, 1.0 if not df[w] else SYNONYM_CREDIT) for x in syns) for w, syns in synonyms.items()}
        swap = {w: syns[0] for w, syns in synonyms.items() if w in q_words and not df[w]}
        # the pieces search mode cut from a swapped word ('绿灯' of '开绿灯') go with it
        pieces = {p for p in q_words for w in swap if p != w and p in w}
        return credits, {swap.get(w, w): v for w, v in q_words.items() if w not in pieces}

    def _paragraph_evidence(self, q_words: dict[str, float], hit: Hit) -> dict:
        """How much of the question the quoted paragraph covers, and the rarest word it lacks.

        A question about something the corpus does not hold usually names it (a person, a
        place, a product): that name's high idf, missing from the paragraph, gives it away.
        """
        para_keys = self.paragraph_keys(hit.passage)
        title_tokens = self.token_set(self.index.document(hit.passage).title)
        q_words_k = dict(zip(self.keys(q_words), q_words.values()))
        top = max(q_words.values(), default=0.0)
        missing = [w for t, w in q_words_k.items() if t not in para_keys]
        return {
            "paragraph_coverage": weighted_coverage(q_words_k, para_keys),
            "rarest_missing": (max(missing) / top) if missing and top > 0 else 0.0,
            # Questions usually name what the article is about, and the title names it too.
            "title_coverage": weighted_coverage(q_words, title_tokens),
        }

    def _missing_mass(self, q_words: dict[str, float]) -> float:
        """Share of the question's idf mass made of words the whole index never uses."""
        total = sum(q_words.values())
        if total <= 0:
            return 0.0
        df = self._dfs(list(q_words))
        return sum(w for t, w in q_words.items() if not df[t]) / total

    def _choose(self, best: Candidate, cands: list[Candidate]) -> list[Candidate]:
        """The best quote, plus up to two from other documents that answer about as well."""
        chosen = [best]
        docs = {best.hit.passage.doc_id}
        for c in cands[1:]:
            if len(chosen) >= MAX_QUOTES:
                break
            if c.hit.passage.doc_id in docs:
                continue
            # A close second from another outlet (scores are logits of the learned scorer).
            if c.score >= best.score - 1.5 and c.coverage >= 0.6 * best.coverage and c.typed >= best.typed:
                chosen.append(c)
                docs.add(c.hit.passage.doc_id)
        if len(chosen) > 1:
            # Several sources: show how the story moved, newest first (undated last).
            chosen.sort(key=lambda c: (self.index.document(c.hit.passage).date or "", c.score), reverse=True)
        return chosen

    def _source(self, hit: Hit) -> Source:
        doc = self.index.document(hit.passage)
        para = self.index.paragraph(hit.passage)
        others = [self.index.document(p) for p in hit.corroborating]
        return Source(doc.id, doc.path, doc.title, doc.date, doc.url, para.section, para.text, round(hit.score, 4),
                      hit.passage.paragraph, doc.source,
                      tuple(dict.fromkeys(Corroboration(d.title, d.source, d.date, d.url) for d in others)))

    def _answer(self, asked: Question, chosen: list[Candidate], confidence: float, qtype: str, features: dict,
                note: Note | None, hits: Sequence[Hit]) -> Answer:
        sources: list[Source] = []
        quotes = []
        role = "context" if note is not None and note.key == "hedge" else None
        q_norm, (_, q_words, _) = normalize(asked.text), self.question_terms(asked.text)
        for c in chosen:
            para = self.index.paragraph(c.hit.passage)
            text = para.text[c.start:c.end]
            date = c.event or event_date(text, self.index.document(c.hit.passage).date) or self.index.document(c.hit.passage).date
            quotes.append(Quote(text, c.hit.passage, c.start, c.end, round(c.score, 4), c.coverage, date, role or c.role,
                                marks(text, qtype, q_norm, q_words)))
            if not any(s.doc_id == c.hit.passage.doc_id and s.paragraph == c.hit.passage.paragraph for s in sources):
                sources.append(self._source(c.hit))
        return Answer(asked.text, False, round(confidence, 4), tuple(quotes), tuple(sources), (), qtype, features,
                      asked.kind, note, asked.script, tuple(hits))

    def _abstain(self, asked: Question, hits: Sequence[Hit], confidence: float, qtype: str, features: dict,
                 q_words: dict[str, float]) -> Answer:
        related = tuple(self._source(h) for h in hits[:2] if h.score > 0)
        return Answer(asked.text, True, round(confidence, 4), (), (), related, qtype, features, asked.kind,
                      self._not_found(asked, hits, q_words), asked.script, tuple(hits))

    def _not_found(self, asked: Question, hits: Sequence[Hit], q_words: dict[str, float]) -> Note:
        """What the articles lack, in the question's own words: its rarest word none of the hits holds,
        else its topic (a name, or its rarest word) and what was asked of it."""
        held = frozenset().union(*[self.paragraph_keys(h.passage) for h in hits[:3]]) if hits else frozenset()
        ranked = sorted(q_words, key=lambda t: (-q_words[t], t))
        keys = dict(zip(ranked, self.keys(ranked)))
        absent = [t for t in ranked if keys[t] not in held and len(t) > 1]
        if absent:
            return Note("not_found", topic=as_written(asked.text, absent[0]))
        topic = asked.entities[0] if asked.entities else as_written(asked.text, ranked[0]) if ranked else ""
        return Note("not_answered", topic=topic, what=asked.kind if asked.kind != "fact" else asked.slot)

