"""Accuracy and latency of the shipped sentiment analyser on a labelled CSV (text,label; 1 = positive).

Scores every row with SentimentAnalyzer.load() exactly as shipped (nothing is trained on the file)
and prints one JSON line: accuracy, macro_f1, ms_per_message (mean), p50_ms, rows.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bots.nlp.sentiment import SentimentAnalyzer  # noqa: E402


def macro_f1(gold: Sequence[int], pred: Sequence[int]) -> float:
    """Mean F1 of the positive and the negative class."""
    scores = []
    for cls in (0, 1):
        tp = sum(g == cls and p == cls for g, p in zip(gold, pred))
        fp = sum(g != cls and p == cls for g, p in zip(gold, pred))
        fn = sum(g == cls and p != cls for g, p in zip(gold, pred))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / 2


def run(path: Path) -> dict[str, float | int]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = [(r["text"], int(r["label"])) for r in csv.DictReader(f)]
    analyser = SentimentAnalyzer.load()
    pred, times = [], []
    for text, _ in rows:
        t0 = time.perf_counter()
        p = analyser.probability_positive(text)
        times.append((time.perf_counter() - t0) * 1000)
        pred.append(int(p >= 0.5))
    gold = [label for _, label in rows]
    times.sort()
    return {
        "accuracy": round(sum(g == p for g, p in zip(gold, pred)) / len(rows), 4),
        "macro_f1": round(macro_f1(gold, pred), 4),
        "ms_per_message": round(sum(times) / len(times), 4),
        "p50_ms": round(times[len(times) // 2], 4),
        "rows": len(rows),
    }


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True, help="CSV with columns text,label")
    data = p.parse_args(argv).data
    print(json.dumps({"data": data.name, **run(data)}))


if __name__ == "__main__":
    main()
