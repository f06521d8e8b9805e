"""Bot.handle throughput and latency as the stored history grows (0, 10k, 100k messages).

The whole pipeline runs for real: the demo shop's core skills (escalation with its sentiment model,
greeting, order tracking; `--skills` to choose, the FAQ's index search would dominate and hide the
storage), the TinyDB store on disk (journal, group commit, checkpoints), the outbox delivering every
reply to an in-process channel. The history is
filled through Bot.handle itself, ten messages per conversation, then the same measured load runs at
each level. A window of 9,000 messages writes about 30,000 journal entries, so every window includes
a checkpoint (one per 20,000 entries); with shorter windows the first one, on an empty store, never
does and the comparison favours it. Prints one JSON line per (level, concurrency) and a summary with the ratio to level 0.

    python bench/handle_throughput.py [--levels 0,10000,100000] [--measure 9000] [--concurrency 1,32]
                                      [--skills escalation,greeting,order_status]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bots.bot import Bot, load_skills
from bots.config import load_settings
from bots.message import Message, Reply, User
from bots.storage import TinyDBStorage

ROOT = Path(__file__).resolve().parent.parent
TEXTS = [
    "你好",
    "where is my order DS100234?",
    "营业时间是几点",
    "DS100235 到哪了",
    "hello",
    "opening hours?",
    "我的订单 DS100236",
    "track my parcel DS100234",
]
PER_CONVERSATION = 10


def message(conversation: str, n: int) -> Message:
    return Message(
        id=uuid.uuid4().hex,
        channel="bench",
        conversation_key=conversation,
        user=User(id=conversation),
        text=TEXTS[n % len(TEXTS)],
    )


async def drive(bot: Bot, prefix: str, total: int, concurrency: int) -> list[float]:
    """Send `total` messages from `concurrency` conversations at once; per-message latencies."""
    latencies: list[float] = []
    per_worker = total // concurrency

    async def worker(w: int) -> None:
        for n in range(per_worker):
            conversation = f"{prefix}-{w}-{n // PER_CONVERSATION}"
            started = time.perf_counter()
            await bot.handle(message(conversation, n))
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    return latencies


async def stored_messages(bot: Bot) -> int:
    return len([r async for r in bot.storage.read_stream("messages") if r["role"] == "customer"])


async def started_bot(data: str, skills: list[str]) -> tuple[Bot, list[int]]:
    """A demo-shop bot on a fresh store whose replies are counted by an in-process channel."""
    config = ROOT / "skills_config"
    settings = load_settings(config).model_copy(update={"skills": skills})
    bot = Bot(settings, load_skills(config, settings), TinyDBStorage(data), console_out=io.StringIO())
    delivered = [0]

    async def sink(key: str, user: str, reply: Reply) -> None:
        delivered[0] += 1

    bot.register_channel("bench", sink)
    await bot.start()
    return bot, delivered


async def warm_up(skills: list[str]) -> None:
    """Load lazy dictionaries (Chinese conversion, validators) on a throwaway store first."""
    with tempfile.TemporaryDirectory(prefix="bots-warm-") as data:
        bot, _ = await started_bot(data, skills)
        await drive(bot, "warm", 300, 4)
        await bot.stop()


async def run(levels: list[int], measure: int, concurrencies: list[int], skills: list[str]) -> list[dict[str, float]]:
    results = []
    await warm_up(skills)
    with tempfile.TemporaryDirectory(prefix="bots-bench-") as data:
        bot, delivered = await started_bot(data, skills)
        filled = 0
        for level in levels:
            if level > filled:
                started = time.perf_counter()
                await drive(bot, f"fill{level}", level - filled, 64)
                print(f"# filled to {level} messages in {time.perf_counter() - started:.0f}s", file=sys.stderr)
                filled = level
            for concurrency in concurrencies:
                cpu0, wall0 = time.process_time(), time.perf_counter()
                latencies = await drive(bot, f"m{level}c{concurrency}", measure, concurrency)
                wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
                latencies.sort()
                row = {
                    "stored_messages": level,
                    "concurrency": concurrency,
                    "messages": len(latencies),
                    "msg_per_s": round(len(latencies) / wall, 1),
                    "p50_ms": round(statistics.median(latencies) * 1000, 2),
                    "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
                    "cpu_ms_per_msg": round(cpu / len(latencies) * 1000, 3),
                }
                print(json.dumps(row), flush=True)
                results.append(row)
                filled += len(latencies)
        await bot.outbox.drain()
        stored = await stored_messages(bot)
        await bot.stop()
        print(f"# {stored} customer messages stored, {delivered[0]} replies delivered", file=sys.stderr)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", default="0,10000,100000")
    parser.add_argument("--measure", type=int, default=9000, help="messages measured at each level")
    parser.add_argument("--concurrency", default="1,32")
    parser.add_argument("--skills", default="escalation,greeting,order_status")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    concurrencies = [int(x) for x in args.concurrency.split(",")]
    results = asyncio.run(run(levels, args.measure, concurrencies, args.skills.split(",")))
    for concurrency in {r["concurrency"] for r in results}:
        rows = [r for r in results if r["concurrency"] == concurrency]
        base = rows[0]["msg_per_s"]
        ratios = ", ".join(f"{r['stored_messages']}: {r['msg_per_s'] / base:.2f}" for r in rows)
        print(f"# concurrency {concurrency}: throughput relative to {rows[0]['stored_messages']} stored: {ratios}")


if __name__ == "__main__":
    main()
