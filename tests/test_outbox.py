"""Outbound delivery: retries with backoff, Retry-After, order, nothing lost across a restart."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from bots.clock import FakeClock
from bots.outbox import DeliveryError, Outbox
from bots.storage import TinyDBStorage


class FlakyPlatform:
    """Answers like a platform having a bad moment: the first `failures` calls fail."""

    def __init__(self, failures: int = 0, retry_after: float | None = None) -> None:
        self.failures = failures
        self.retry_after = retry_after
        self.calls = 0
        self.delivered: list[str] = []

    async def deliver(self, payload: dict[str, Any]) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            status = 429 if self.retry_after else 500
            raise DeliveryError(f"HTTP {status}", retry_after=self.retry_after)
        self.delivered.append(payload["text"])


async def _outbox(tmp_path: Path, clock: FakeClock, platform: FlakyPlatform) -> tuple[Outbox, TinyDBStorage]:
    storage = TinyDBStorage(tmp_path)
    await storage.open()
    outbox = Outbox(storage, clock)
    outbox.register("web", platform.deliver)
    await outbox.load()
    return outbox, storage


async def test_failing_twice_then_succeeding_delivers_exactly_once(tmp_path: Path) -> None:
    clock, platform = FakeClock(), FlakyPlatform(failures=2)
    outbox, storage = await _outbox(tmp_path, clock, platform)
    await outbox.put("web", "c1", {"text": "hello"})
    await outbox.drain()
    assert platform.delivered == [] and outbox.backlog == 1
    clock.advance(seconds=1.3)  # first backoff is about a second
    await outbox.drain()
    assert platform.delivered == []
    clock.advance(seconds=3)
    await outbox.drain()
    clock.advance(seconds=60)
    await outbox.drain()
    assert platform.delivered == ["hello"] and platform.calls == 3 and outbox.backlog == 0
    await storage.close()


async def test_retry_after_is_honoured(tmp_path: Path) -> None:
    clock, platform = FakeClock(), FlakyPlatform(failures=1, retry_after=30)
    outbox, storage = await _outbox(tmp_path, clock, platform)
    await outbox.put("web", "c1", {"text": "hi"})
    await outbox.drain()
    assert outbox.next_attempt() == clock.now() + timedelta(seconds=30)
    clock.advance(seconds=29)
    await outbox.drain()
    assert platform.calls == 1
    clock.advance(seconds=1)
    await outbox.drain()
    assert platform.delivered == ["hi"]
    await storage.close()


async def test_one_conversation_is_delivered_in_order_even_when_the_first_fails(tmp_path: Path) -> None:
    clock, platform = FakeClock(), FlakyPlatform(failures=1)
    outbox, storage = await _outbox(tmp_path, clock, platform)
    for text in ["one", "two", "three"]:
        await outbox.put("web", "c1", {"text": text})
    await outbox.drain()
    assert platform.delivered == []
    clock.advance(seconds=5)
    await outbox.drain()
    assert platform.delivered == ["one", "two", "three"]
    await storage.close()


async def test_undelivered_items_survive_a_restart(tmp_path: Path) -> None:
    clock, down = FakeClock(), FlakyPlatform(failures=100)
    outbox, storage = await _outbox(tmp_path, clock, down)
    await outbox.put("web", "c1", {"text": "kept"})
    await outbox.drain()
    await storage.close()

    up = FlakyPlatform()
    outbox, storage = await _outbox(tmp_path, clock, up)
    clock.advance(seconds=10)
    await outbox.drain()
    assert up.delivered == ["kept"]
    await storage.close()


async def test_an_unknown_target_keeps_the_item_for_later(tmp_path: Path) -> None:
    clock, platform = FakeClock(), FlakyPlatform()
    outbox, storage = await _outbox(tmp_path, clock, platform)
    await outbox.put("telegram", "c9", {"text": "waits for its adapter"})
    await outbox.drain()
    assert outbox.backlog == 1
    await storage.close()


async def test_a_permanent_failure_is_set_aside_not_retried_forever(tmp_path: Path) -> None:
    clock = FakeClock()
    storage = TinyDBStorage(tmp_path)
    await storage.open()
    outbox = Outbox(storage, clock)
    calls = []

    async def blocked(payload: dict[str, Any]) -> None:
        calls.append(payload)
        raise DeliveryError("HTTP 403: the customer blocked the bot", permanent=True)

    outbox.register("telegram", blocked)
    await outbox.put("telegram", "c1", {"text": "x"})
    await outbox.drain()
    clock.advance(hours=1)
    await outbox.drain()
    assert len(calls) == 1 and outbox.backlog == 0
    assert len(await storage.scan("outbox_dead")) == 1
    await storage.close()
