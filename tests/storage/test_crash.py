"""A writer killed mid-write (SIGKILL, at random moments) leaves a store that opens and holds every
change it acknowledged, with no half-written document."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from bots.storage import TinyDBStorage

WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from bots.storage import TinyDBStorage

    async def main(path, start):
        store = TinyDBStorage(path, checkpoint_every=25)  # checkpoints all the time
        await store.open()
        n = start
        while True:
            n += 1
            doc = {"n": n, "payload": "载荷" * 2000}
            await asyncio.gather(
                *(store.put("state", f"key{k}", doc) for k in range(5)),
                store.append("log", {"n": n}),
            )
            print(n, flush=True)  # acknowledged: every write above is durable

    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
    """
)


def _run_and_kill(path: Path, start: int, after: float) -> int:
    """Start a writer, kill it after `after` seconds; the last number it acknowledged."""
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), str(start)], stdout=subprocess.PIPE, text=True
    )
    time.sleep(after)
    os.kill(writer.pid, signal.SIGKILL)
    out, _ = writer.communicate(timeout=10)
    acknowledged = [int(line) for line in out.split()]
    return acknowledged[-1] if acknowledged else start


async def _check(path: Path, acknowledged: int) -> int:
    store = TinyDBStorage(path)
    await store.open()
    try:
        docs = dict(await store.scan("state"))
        if acknowledged:
            assert set(docs) == {f"key{k}" for k in range(5)}
        for doc in docs.values():
            assert doc["n"] >= acknowledged  # nothing acknowledged was lost
            assert doc["payload"] == "载荷" * 2000  # and no document is half-written
        log = [r["n"] async for r in store.read_stream("log")]
        assert log == sorted(log) and (not acknowledged or log[-1] >= acknowledged)
        return max((doc["n"] for doc in docs.values()), default=0)
    finally:
        await store.close()


async def test_a_killed_writer_leaves_a_readable_store(tmp_path: Path) -> None:
    rng = random.Random(7)
    latest = 0
    for _ in range(6):
        acknowledged = _run_and_kill(tmp_path, latest, rng.uniform(0.6, 1.5))
        assert acknowledged > latest, "the writer made no progress before it was killed"
        latest = await _check(tmp_path, acknowledged)
    assert not list(tmp_path.glob("state/*/*/*.tmp"))
