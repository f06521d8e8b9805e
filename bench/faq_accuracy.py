"""FAQ matching accuracy and latency benchmark.

Usage::

    python bench/faq_accuracy.py --train TRAIN.csv --test TEST.csv [--oos-label oos]

Builds one :class:`FaqIndex` from the training rows (one FaqDoc per label, its rows as the
questions; rows carrying the out-of-scope label are left out of the KB), then answers every
test row exactly as the FAQ skill does: the prediction is the top hit when its confidence is
at least ``ANSWER_THRESHOLD``, otherwise "no match".

One rule scores every row, with or without an out-of-scope label:

* an in-scope row is correct only when the prediction equals its label, so a right answer
  held back by the threshold counts as wrong (the user did not get it);
* an out-of-scope row is correct only when the prediction is "no match".

Printed as one JSON line: ``accuracy`` (all rows), ``in_scope_accuracy`` (in-scope rows),
``oos_recall`` (out-of-scope rows, only with ``--oos-label``), ``top1_accuracy`` (in-scope
rows, threshold ignored: how good the ranking alone is), ``p50_ms`` / ``p99_ms`` (one
``search`` call per query, single-threaded, as in the bot) and ``build_s``.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bots.nlp.faq_index import ANSWER_THRESHOLD, FaqDoc, FaqIndex  # noqa: E402

NO_MATCH = "\x00no match"


def read_rows(path: str) -> list[tuple[str, str]]:
    """(text, label) pairs of a ``text,label`` CSV."""
    with open(path, newline="", encoding="utf-8") as f:
        return [(row["text"], row["label"]) for row in csv.DictReader(f)]


def build_docs(rows: list[tuple[str, str]], oos_label: str | None) -> list[FaqDoc]:
    """One FaqDoc per in-scope label, its training rows as the paraphrases."""
    questions: dict[str, list[str]] = defaultdict(list)
    for text, label in rows:
        if label != oos_label:
            questions[label].append(text)
    return [FaqDoc(id=label, questions=qs) for label, qs in questions.items()]


def answer(index: FaqIndex, text: str) -> tuple[str, str, float]:
    """(prediction after threshold, top-1 id, search latency in ms) for one query."""
    start = time.perf_counter()
    hits = index.search(text, k=3)
    elapsed_ms = (time.perf_counter() - start) * 1000
    top = hits[0] if hits else None
    top_id = top.id if top else NO_MATCH
    predicted = top_id if top and top.confidence >= ANSWER_THRESHOLD else NO_MATCH
    return predicted, top_id, elapsed_ms


def evaluate(index: FaqIndex, rows: list[tuple[str, str]], oos_label: str | None) -> dict:
    """Accuracy figures and latency percentiles over the test rows."""
    correct, in_scope, in_correct, in_top1, oos, oos_correct = 0, 0, 0, 0, 0, 0
    latencies = []
    for text, label in rows:
        predicted, top_id, ms = answer(index, text)
        latencies.append(ms)
        if label == oos_label:
            oos += 1
            oos_correct += predicted == NO_MATCH
            correct += predicted == NO_MATCH
        else:
            in_scope += 1
            in_correct += predicted == label
            in_top1 += top_id == label
            correct += predicted == label
    result = {
        "accuracy": round(correct / len(rows), 4),
        "in_scope_accuracy": round(in_correct / max(in_scope, 1), 4),
        "top1_accuracy": round(in_top1 / max(in_scope, 1), 4),
    }
    if oos_label is not None:
        result["oos_recall"] = round(oos_correct / max(oos, 1), 4)
    result["p50_ms"] = round(float(np.percentile(latencies, 50)), 2)
    result["p99_ms"] = round(float(np.percentile(latencies, 99)), 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--oos-label", default=None)
    args = parser.parse_args()

    train, test = read_rows(args.train), read_rows(args.test)
    start = time.perf_counter()
    index = FaqIndex.build(build_docs(train, args.oos_label))
    build_s = time.perf_counter() - start
    result = {"train": Path(args.train).name, "test": Path(args.test).name}
    result |= evaluate(index, test, args.oos_label)
    result["build_s"] = round(build_s, 2)
    result["answer_threshold"] = ANSWER_THRESHOLD
    print(json.dumps(result))


if __name__ == "__main__":
    main()
