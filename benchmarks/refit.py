"""Re-fit the abstention model with the team's reader questions in its training data, measured by 2-fold cross-validation.

    python benchmarks/refit.py [--weights 0 2 5 10 20] [--thresholds 0.4 0.5 0.6 0.7] [--write]

Issue 17 asks whether abstention improves when typo, synonym, keyword and English questions (and their
near-miss unanswerables) join the CMRC 2018 trial set the model is fitted on. Every question is asked once with
abstention off, and the evidence features of its best quote are kept. The reader questions are split in two
by a hash of their id. Each half is scored by a logistic model fitted on the trial set plus the other half,
with each reader question weighted `w` times a trial question. The dev sets (600 + 600 questions each, the
same as benchmarks/answers.py) are scored by both models, and the figures are averaged. `w = 0` is the
shipped model's recipe. Nothing is written to bot/calibration.json: the table shows whether to.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from benchmarks.report import write_section
from bot.answer import FEATURES, load_calibration, never_abstaining
from bot.engine import Engine
from bot.evaluate import run_eval
from bot.readerset import CORPORA, STYLES, ReaderSet, load_reader_set, shows, write_corpus
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent

DATASETS = ROOT.parent / "shared" / "datasets"
SETS = sorted((ROOT / "benchmarks" / "reader").glob("*.json"))


@dataclass(frozen=True)
class Row:
    features: tuple[float, ...]
    answerable: bool  # reader: the articles hold the answer; dev/trial: the question's article is indexed
    right: bool  # reader: the best quote shows every must-group; dev: quote@1
    style: str = ""
    fold: int = 0


def vector(features: dict) -> tuple[float, ...]:
    return tuple(float(features.get(k, 0.0)) for k in FEATURES)


def reader_rows(settings: Settings) -> list[Row]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="quotebot-refit-") as tmp:
        seeds = Path(tmp) / "seeds"
        write_corpus(ReaderSet("all", CORPORA, ()), seeds, settings.seeds_dir, DATASETS)
        engine = Engine(replace(settings, seeds_dir=seeds, index_dir=Path(tmp) / "index"))
        engine.ensure_index()
        engine.use_calibration(never_abstaining(load_calibration()))
        for path in SETS:
            for q in load_reader_set(path).questions:
                a = engine.answer(q.text)
                quotes = [x.text for x in a.quotes]
                rows.append(Row(vector(a.features), q.answerable, q.answerable and bool(quotes) and shows(quotes, q.must),
                                q.style, zlib.crc32(q.id.encode()) % 2))
    return rows


def squad_rows(name: str, settings: Settings, limit: int | None) -> list[Row]:
    _, records, _, _ = run_eval(DATASETS / f"{name}.json", settings, limit=limit, calibration=never_abstaining(load_calibration()))
    return [Row(vector(r.features), not r.held_out, r.quote1) for r in records]


def matrix(rows: list[Row]) -> np.ndarray:
    return np.array([r.features for r in rows])


def per_style(rows: list[Row], probs: np.ndarray, t: float) -> dict[str, tuple[float, float]]:
    """style → (right among answerable, abstained among unanswerable) at threshold t."""
    out = {}
    for style in STYLES:
        a = [p >= t and r.right for r, p in zip(rows, probs) if r.style == style and r.answerable]
        u = [p < t for r, p in zip(rows, probs) if r.style == style and not r.answerable]
        out[style] = (float(np.mean(a)) if a else 0.0, float(np.mean(u)) if u else 0.0)
    return out


def dev_figures(rows: list[Row], probs: np.ndarray, t: float) -> tuple[float, float]:
    """(quote@1 with abstentions as misses, abstention on held-out questions) at threshold t."""
    ans = [p >= t and r.right for r, p in zip(rows, probs) if r.answerable]
    out = [p < t for r, p in zip(rows, probs) if not r.answerable]
    return float(np.mean(ans)), float(np.mean(out))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", type=float, nargs="+", default=[0, 2, 5, 10, 20])
    ap.add_argument("--thresholds", type=float, nargs="+", default=[0.4, 0.5, 0.6, 0.7])
    ap.add_argument("--limit", type=int, default=600)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    from sklearn.linear_model import LogisticRegression

    settings = Settings(seeds_dir=ROOT / "seeds")
    reader = reader_rows(settings)
    trial = squad_rows("cmrc2018_trial", settings, None)
    dev = {name: squad_rows(name, settings, args.limit) for name in ("cmrc2018_dev", "drcd_dev")}
    XR, XT = matrix(reader), matrix(trial)
    yT = np.array([r.answerable for r in trial], dtype=int)
    label = np.array([1 if r.right else 0 if not r.answerable else -1 for r in reader])  # wrong quotes: no label
    folds = np.array([r.fold for r in reader])
    cal = load_calibration()
    shipped = np.array([cal["weights"].get(k, 0.0) for k in FEATURES])

    def shipped_probs(X: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-np.clip(cal["bias"] + X @ shipped, -30, 30)))

    styles = [s for s in STYLES if any(r.style == s for r in reader)]
    head = ("| model | w | threshold | " + " | ".join(f"{s} right / abstained" for s in styles)
            + " | CMRC quote@1 / abstention | DRCD quote@1 / abstention |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]

    def line(name: str, w: str, t: float, rprobs: np.ndarray, dprobs: dict[str, list[np.ndarray]]) -> str:
        s = per_style(reader, rprobs, t)
        d = {n: np.mean([dev_figures(dev[n], p, t) for p in ps], axis=0) for n, ps in dprobs.items()}
        cells = [f"{s[x][0]:.3f} / {s[x][1]:.3f}" for x in styles]
        return (f"| {name} | {w} | {t:.2f} | " + " | ".join(cells) + " | "
                + " | ".join(f"{d[n][0]:.3f} / {d[n][1]:.3f}" for n in ("cmrc2018_dev", "drcd_dev")) + " |")

    lines.append(line("shipped", "-", cal["threshold"], shipped_probs(XR),
                      {n: [shipped_probs(matrix(rows))] for n, rows in dev.items()}))
    for w in args.weights:
        probs, models = np.zeros(len(reader)), []
        for k in (0, 1):
            train = (folds != k) & (label >= 0)
            model = LogisticRegression(C=1.0, max_iter=3000).fit(
                np.vstack([XT, XR[train]]), np.concatenate([yT, label[train]]),
                sample_weight=np.concatenate([np.ones(len(yT)), np.full(int(train.sum()), w)]))
            probs[folds == k] = model.predict_proba(XR[folds == k])[:, 1]
            models.append(model)
        dprobs = {n: [m.predict_proba(matrix(rows))[:, 1] for m in models] for n, rows in dev.items()}
        for t in args.thresholds:
            lines.append(line("re-fitted", f"{w:g}", t, probs, dprobs))
    print("\n".join(lines))
    if args.write:
        write_section("refit", "\n".join([
            "## Abstention re-fitted with reader questions (issue 17)", "",
            "Command: `python benchmarks/refit.py --write`. The reader questions (all sets) join the CMRC 2018 trial"
            " set the abstention model is fitted on, each weighted w times a trial question. They are scored by"
            " 2-fold cross-validation, split by a hash of the question id. The dev sets (600 + 600 questions each) are"
            " scored by both fold models, and the figures are averaged. Right: among answerable questions."
            " Abstained: among unanswerable ones.", "", *lines]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
