"""Fit the abstention model on the CMRC 2018 *trial* set and write bot/calibration.json.

    python benchmarks/calibrate.py [--file ../shared/datasets/cmrc2018_trial.json] [--passage-vectors mean] [--keep-scorer]

The dev sets are kept for measuring (`benchmarks/answers.py`): the weights and the threshold come
from a set the reported numbers are not measured on. Half the trial articles are indexed; a
logistic regression learns P(the question is answerable from the index) from the evidence features
of the best quote; the threshold maximises answer rate + abstention rate on the trial set.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from bot.answer import CALIBRATION, FEATURES, SCORER_FEATURES, load_calibration, never_abstaining
from bot.evaluate import run_eval, tradeoff
from bot.settings import PASSAGE_VECTORS, Settings

ROOT = Path(__file__).resolve().parent.parent


def fit_scorer(path: Path, settings: Settings, drop: list[str]) -> dict:
    """Pointwise logistic regression: does this candidate sentence (or pair) hold a gold answer?"""
    import tempfile
    from dataclasses import replace

    from bot.datasets import load_squad, write_articles
    from bot.engine import RETRIEVE_K, Engine
    from bot.evaluate import contains_answer

    ds = load_squad(path)
    groups = []
    with tempfile.TemporaryDirectory() as tmp:
        seeds = Path(tmp) / "seeds"
        indexed = set(write_articles(ds, seeds, which="even"))
        engine = Engine(replace(settings, seeds_dir=seeds, index_dir=Path(tmp) / "index"))
        engine.ensure_index()
        loaded = engine.loaded
        for q in ds.questions:
            if q.article not in indexed:
                continue
            qv = loaded.searcher.query_vector(q.text)
            cands = loaded.composer.candidates(q.text, loaded.searcher.search(q.text, k=RETRIEVE_K, query_vector=qv), qv)
            if not cands:
                continue
            X = np.array([[0.0 if k in drop else c.features[k] for k in SCORER_FEATURES] for c in cands])
            y = np.array([contains_answer(loaded.index.paragraph(c.hit.passage).text[c.start:c.end], q.answers)
                          for c in cands])
            if y.any():
                groups.append((X, y))
    w = fit_listwise(groups)
    return {"weights": {k: round(float(v), 4) for k, v in zip(SCORER_FEATURES, w)}, "bias": 0.0,
            "fitted_on": path.name, "questions": len(groups), "method": "listwise softmax"}


def fit_listwise(groups: list[tuple[np.ndarray, np.ndarray]], l2: float = 1e-3, lr: float = 0.5,
                 epochs: int = 600) -> np.ndarray:
    """Weights maximising, per question, the softmax probability of the candidates that hold the answer.

    This trains the ranking itself (which candidate comes first), not a yes/no per sentence.
    """
    X = np.concatenate([g[0] for g in groups])
    y = np.concatenate([g[1] for g in groups]).astype(float)
    starts = np.cumsum([0] + [len(g[1]) for g in groups[:-1]])
    sizes = np.array([len(g[1]) for g in groups])
    gid = np.repeat(np.arange(len(groups)), sizes)
    w = np.zeros(X.shape[1])
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for t in range(1, epochs + 1):
        s = X @ w
        s -= np.maximum.reduceat(s, starts)[gid]
        e = np.exp(s)
        p = e / np.add.reduceat(e, starts)[gid]
        pe = p * y
        q = pe / np.add.reduceat(pe, starts)[gid]
        grad = X.T @ (p - q) / len(groups) + l2 * w
        m = 0.9 * m + 0.1 * grad  # Adam: the features differ a lot in scale and frequency
        v = 0.999 * v + 0.001 * grad ** 2
        w -= lr * 0.1 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    return w


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", type=Path, default=ROOT.parent / "shared" / "datasets" / "cmrc2018_trial.json")
    ap.add_argument("--encoder", default="use")
    ap.add_argument("--passage-vectors", choices=PASSAGE_VECTORS, default=Settings().passage_vectors)
    ap.add_argument("--keep-scorer", action="store_true",
                    help="fit the abstention model only, keeping the shipped sentence scorer")
    ap.add_argument("--drop", nargs="*", default=[], help="scorer features to leave out (for ablations)")
    args = ap.parse_args()
    from sklearn.linear_model import LogisticRegression

    settings = Settings(encoder=args.encoder, passage_vectors=args.passage_vectors)
    scorer = load_calibration()["scorer"] if args.keep_scorer else fit_scorer(args.file, settings, args.drop)
    print("scorer:", json.dumps(scorer, ensure_ascii=False))
    _, records, _, _ = run_eval(args.file, settings, calibration=never_abstaining({"scorer": scorer}))
    X = np.array([[float(r.features.get(k, 0.0)) for k in FEATURES] for r in records])
    y = np.array([0 if r.held_out else 1 for r in records])
    model = LogisticRegression(C=1.0, max_iter=2000).fit(X, y)
    weights = {k: round(float(w), 4) for k, w in zip(FEATURES, model.coef_[0])}
    bias = round(float(model.intercept_[0]), 4)
    probs = model.predict_proba(X)[:, 1]
    best_t, best = 0.5, -1.0
    for t in np.arange(0.05, 0.96, 0.01):
        answered = probs[y == 1] >= t
        abstained = probs[y == 0] < t
        score = answered.mean() + abstained.mean()
        if score > best:
            best, best_t = score, float(round(t, 2))
    calib = {"weights": weights, "bias": bias, "threshold": best_t, "scorer": scorer,
             "fitted_on": args.file.name, "encoder": args.encoder, "passage_vectors": args.passage_vectors,
             "questions": int(len(y)),
             "trial_answer_rate": round(float((probs[y == 1] >= best_t).mean()), 4),
             "trial_abstention_rate": round(float((probs[y == 0] < best_t).mean()), 4)}
    CALIBRATION.write_text(json.dumps(calib, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(calib, ensure_ascii=False, indent=1))
    # the trade-off on the trial set itself, for the record
    recs = [r.__class__(**{**r.__dict__, "confidence": float(p)}) for r, p in zip(records, probs)]
    for row in tradeoff(recs):
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
