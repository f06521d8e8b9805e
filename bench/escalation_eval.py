"""Escalation decisions against labelled dialogues, through the real bot pipeline.

Each line of the dialogue file is {"id", "lang", "turns": [customer messages], "escalate": bool,
"severity": "urgent" | "regular" | null}. Every dialogue runs in a fresh conversation of a bot built
from the demo shop's config (real skills, real TinyDB store in a temporary directory); the decision is
the conversation's state after the last turn. Prints one JSON line: precision, recall and f1 of
"escalate", and severity_accuracy over the dialogues that should escalate.

    python bench/escalation_eval.py --dialogues tests/data/escalation_dialogues.jsonl [--out decisions.jsonl]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import tempfile
from pathlib import Path
from typing import Any

from bots.bot import Bot
from bots.clock import FakeClock
from bots.message import Message, Reply, User

ROOT = Path(__file__).resolve().parent.parent


async def decide(bot: Bot, dialogue: dict[str, Any]) -> dict[str, Any]:
    key = f"eval-{dialogue['id']}"
    for number, text in enumerate(dialogue["turns"]):
        user = User(id=key)
        await bot.handle(Message(id=f"{key}-{number}", channel="eval", conversation_key=key, user=user, text=text))
    conversation = await bot.conversations.load(f"eval:{key}")
    escalation = await bot.desk.get(conversation.escalation_id) if conversation and conversation.escalation_id else None
    return {
        "id": dialogue["id"],
        "escalate": escalation is not None,
        "severity": escalation.severity.value if escalation else None,
        "reason": escalation.reason if escalation else None,
        "expected": {"escalate": dialogue["escalate"], "severity": dialogue["severity"]},
    }


async def run(dialogues: list[dict[str, Any]]) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="bots-eval-") as data:
        bot = Bot.from_config(ROOT / "skills_config", data_dir=data, clock=FakeClock(), console_out=io.StringIO())

        async def discard(key: str, user: str, reply: Reply) -> None:
            return None

        bot.register_channel("eval", discard)
        await bot.start(background=False)
        try:
            return [await decide(bot, dialogue) for dialogue in dialogues]
        finally:
            await bot.stop()


def score(decisions: list[dict[str, Any]]) -> dict[str, float]:
    tp = sum(d["escalate"] and d["expected"]["escalate"] for d in decisions)
    fp = sum(d["escalate"] and not d["expected"]["escalate"] for d in decisions)
    fn = sum(not d["escalate"] and d["expected"]["escalate"] for d in decisions)
    should = [d for d in decisions if d["expected"]["escalate"]]
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {
        "dialogues": len(decisions),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(2 * precision * recall / (precision + recall), 4) if precision + recall else 0.0,
        "severity_accuracy": round(
            sum(d["severity"] == d["expected"]["severity"] for d in should) / len(should), 4
        ) if should else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dialogues", required=True, type=Path)
    parser.add_argument("--out", type=Path, help="write every decision as JSON lines")
    args = parser.parse_args()
    dialogues = [json.loads(line) for line in args.dialogues.read_text(encoding="utf-8").splitlines() if line.strip()]
    decisions = asyncio.run(run(dialogues))
    if args.out:
        args.out.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in decisions), encoding="utf-8")
    print(json.dumps(score(decisions)))


if __name__ == "__main__":
    main()
