"""Confidence calibration and decision thresholds of the FAQ matcher.

The raw signals of the top entry (kernel ridge score, its margin over the runner-up, best raw
similarity to the entry's own questions, score x similarity, log of the entry's number of examples)
are mapped to P(top entry is right) by a logistic model. ``python -m bots.nlp.faq_calibration``
refits everything on the validation splits in ``FIT_SETS`` and prints the constants below:

* coefficients: logistic regression of "top-1 is right" (out-of-scope rows count as wrong),
  each set weighted equally. LCQMC is left out of this fit: about 8% of its queries repeat,
  word for word, a KB question filed under another label, so there a high similarity goes
  with a "wrong" top-1 and would teach the calibration the opposite of what holds for a real FAQ.
* ANSWER_THRESHOLD: the grid value (step 0.01) that maximises the mean of the target metrics
  over all sets (in-scope accuracy of each set, counting held-back answers as wrong, plus
  CLINC150 out-of-scope recall).
* SUGGEST_THRESHOLD: see ``_suggest_threshold``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from collections import defaultdict
from pathlib import Path

import numpy as np

# Logistic calibration: intercept, then weights of (score, margin, best similarity, score x similarity,
# log of the entry's number of example questions).
COEFFICIENTS = (-4.9609, 15.2716, 10.5596, 7.5513, -22.7329, -0.1081)

# Confidence at/above which the bot answers directly.
ANSWER_THRESHOLD = 0.48
# Between SUGGEST and ANSWER the bot offers "did you mean" with the top 3; below, no match.
SUGGEST_THRESHOLD = 0.27

# (train, test, out-of-scope label, used to fit the coefficients), relative to the eval-data folder.
FIT_SETS = (
    ("banking77_train.csv", "banking77_val.csv", None, True),
    ("banking77_train_10shot.csv", "banking77_val.csv", None, True),
    ("clinc150_train.csv", "clinc150_val.csv", "oos", True),
    ("lcqmc_kb.csv", "lcqmc_queries.csv", None, False),
)


def confidence(score: float, margin: float, best_sim: float, support: int) -> float:
    """Calibrated probability that an entry with these signals is the right answer."""
    bias, *weights = COEFFICIENTS
    z = bias + sum(w * f for w, f in zip(weights, _features(score, margin, best_sim, support)))
    return 0.5 * (1.0 + math.tanh(0.5 * z))


def _features(score: float, margin: float, best_sim: float, support: int) -> tuple[float, ...]:
    """Calibration inputs; the product lets a high score count for less when the message is
    far from every question of the entry (typical of out-of-scope messages), and the log of the
    entry's number of examples tells a thin entry's modest score from an out-of-scope one's."""
    return score, margin, best_sim, score * best_sim, math.log(max(support, 1))


def _read(path: Path) -> list[tuple[str, str]]:
    """(text, label) rows of a ``text,label`` CSV."""
    with open(path, newline="", encoding="utf-8") as f:
        return [(row["text"], row["label"]) for row in csv.DictReader(f)]


def _collect(data_dir: Path, train: str, test: str, oos: str | None) -> dict[str, np.ndarray]:
    """Signals of the top entry for every test row, plus whether top-1 / top-3 are right."""
    from bots.nlp.faq_index import FaqDoc, FaqIndex  # late import: faq_index imports this module

    questions: dict[str, list[str]] = defaultdict(list)
    for text, label in _read(data_dir / train):
        if label != oos:
            questions[label].append(text)
    index = FaqIndex.build([FaqDoc(id=label, questions=qs) for label, qs in questions.items()])
    feats, top1, top3, is_oos = [], [], [], []
    for text, label in _read(data_dir / test):
        ranked = index.rank(text, k=3)
        feats.append(_features(ranked[0].score, ranked[0].margin, ranked[0].best_sim, ranked[0].support))
        top1.append(ranked[0].id == label)
        top3.append(any(s.id == label for s in ranked))
        is_oos.append(label == oos)
    return {"x": np.array(feats), "top1": np.array(top1), "top3": np.array(top3), "oos": np.array(is_oos)}


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function, overflow-safe."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _fit(runs: list[dict[str, np.ndarray]]) -> tuple[float, ...]:
    """Logistic regression of top-1 correctness on the signals, every set weighted equally."""
    from sklearn.linear_model import LogisticRegression

    x = np.vstack([r["x"] for r in runs])
    y = np.concatenate([r["top1"] for r in runs])
    w = np.concatenate([np.full(len(r["top1"]), 1.0 / len(r["top1"])) for r in runs])
    model = LogisticRegression(C=100.0, max_iter=1000).fit(x, y, sample_weight=w * len(y))
    return (float(model.intercept_[0]), *map(float, model.coef_[0]))


def _target_metrics(run: dict[str, np.ndarray], conf: np.ndarray, threshold: float) -> list[float]:
    """In-scope accuracy as the bench counts it, plus out-of-scope recall when the set has any."""
    answered = conf >= threshold
    metrics = [float((run["top1"] & answered)[~run["oos"]].mean())]
    if run["oos"].any():
        metrics.append(float((~answered)[run["oos"]].mean()))
    return metrics


def _suggest_threshold(runs: list[dict[str, np.ndarray]], confs: list[np.ndarray], answer: float) -> float:
    """Threshold that most rows below ``answer`` gain from: suggestions whose top 3 hold the
    right entry minus suggestions that do not, summed over sets with equal weight."""
    grid = np.round(np.arange(0.02, answer, 0.01), 2)
    gains = []
    for t in grid:
        gain = 0.0
        for run, conf in zip(runs, confs):
            shown = (conf >= t) & (conf < answer)
            useful = shown & run["top3"] & ~run["oos"]
            gain += (2 * useful.sum() - shown.sum()) / len(conf)
        gains.append(gain)
    return float(grid[int(np.argmax(gains))])


def main() -> None:
    """Fit the coefficients and thresholds on FIT_SETS and print them (paste into this file)."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--data", type=Path, default=Path("/work/shared/eval-data/faq"))
    args = parser.parse_args()
    runs = [_collect(args.data, *spec[:3]) for spec in FIT_SETS]
    coefficients = _fit([run for run, spec in zip(runs, FIT_SETS) if spec[3]])
    confs = [_sigmoid(coefficients[0] + run["x"] @ np.array(coefficients[1:])) for run in runs]
    grid = np.round(np.arange(0.05, 0.96, 0.01), 2)
    table = {float(t): sum((_target_metrics(r, c, t) for r, c in zip(runs, confs)), []) for t in grid}
    answer = max(table, key=lambda t: np.mean(table[t]))
    result = {
        "coefficients": [round(c, 4) for c in coefficients],
        "answer_threshold": answer,
        "suggest_threshold": _suggest_threshold(runs, confs, answer),
        "metrics_at_answer": [round(s, 4) for s in table[answer]],
        "table": {t: [round(s, 4) for s in v] for t, v in table.items() if round(t * 100) % 5 == 0},
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
