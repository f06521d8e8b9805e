"""Reliable outbound delivery: replies and staff-room posts are stored, then delivered and retried.

A platform that answers 429 or 5xx, or is unreachable, does not lose a reply: the item stays stored and
is retried with exponential backoff (or after the platform's Retry-After). Items sharing an order key
(a conversation, an escalation thread) are delivered strictly in order: a later one waits for the first.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from . import metrics
from .clock import Clock
from .storage import Storage

log = logging.getLogger(__name__)

NAMESPACE = "outbox"
DEAD_NAMESPACE = "outbox_dead"

Deliver = Callable[[dict[str, Any]], Awaitable[None]]


class DeliveryError(Exception):
    """Raised by a deliverer: try again later (after `retry_after` seconds if the platform said so)."""

    def __init__(self, message: str, retry_after: float | None = None, permanent: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent


class OutboxItem(BaseModel):
    key: str
    target: str
    order_key: str
    payload: dict[str, Any]
    attempts: int = 0
    next_at: datetime
    last_error: str = ""


class Outbox:
    def __init__(
        self,
        storage: Storage,
        clock: Clock,
        *,
        base_delay: float = 1.0,
        max_delay: float = 300.0,
        max_attempts: int = 15,
    ) -> None:
        self._storage = storage
        self._clock = clock
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._max_attempts = max_attempts
        self._targets: dict[str, Deliver] = {}
        self._items: dict[str, OutboxItem] = {}
        self._seq = itertools.count()
        self._wake = asyncio.Event()
        self._busy = asyncio.Lock()

    def register(self, target: str, deliver: Deliver) -> None:
        self._targets[target] = deliver

    async def load(self) -> None:
        """Pick up what an earlier process left undelivered."""
        self._items = {key: OutboxItem(**doc) for key, doc in await self._storage.scan(NAMESPACE)}

    @property
    def backlog(self) -> int:
        return len(self._items)

    async def put(self, target: str, order_key: str, payload: dict[str, Any]) -> str:
        key = f"{time.time_ns():020d}-{next(self._seq):06d}"
        item = OutboxItem(key=key, target=target, order_key=order_key, payload=payload, next_at=self._clock.now())
        await self._storage.put(NAMESPACE, key, item.model_dump(mode="json"))
        self._items[key] = item
        self._wake.set()
        return key

    def _due(self) -> list[OutboxItem]:
        """The head item of each order key, if its time has come."""
        heads: dict[str, OutboxItem] = {}
        for key in sorted(self._items):
            item = self._items[key]
            heads.setdefault(item.order_key, item)
        now = self._clock.now()
        return [item for item in heads.values() if item.next_at <= now]

    async def deliver_due(self) -> int:
        """One delivery pass; returns how many items were delivered."""
        async with self._busy:
            due = self._due()
            results = await asyncio.gather(*(self._deliver(item) for item in due))
            return sum(results)

    async def _deliver(self, item: OutboxItem) -> bool:
        deliver = self._targets.get(item.target)
        try:
            if deliver is None:
                raise DeliveryError(f"no adapter or room named {item.target!r} is running")
            await deliver(item.payload)
        except DeliveryError as exc:
            metrics.ERRORS.labels("delivery").inc()
            await self._retry_later(item, str(exc), exc.retry_after, exc.permanent)
            return False
        except Exception as exc:  # a bug or an unexpected platform answer: keep the item, retry
            log.exception("delivery of %s to %s failed", item.key, item.target)
            await self._retry_later(item, repr(exc), None, False)
            return False
        await self._storage.delete(NAMESPACE, item.key)
        self._items.pop(item.key, None)
        metrics.MESSAGES_OUT.labels(item.target).inc()
        return True

    async def _retry_later(self, item: OutboxItem, error: str, retry_after: float | None, permanent: bool) -> None:
        item.attempts += 1
        item.last_error = error
        if permanent or item.attempts >= self._max_attempts:
            log.error("giving up on %s to %s after %d attempts: %s", item.key, item.target, item.attempts, error)
            await self._storage.put(DEAD_NAMESPACE, item.key, item.model_dump(mode="json"))
            await self._storage.delete(NAMESPACE, item.key)
            self._items.pop(item.key, None)
            return
        delay = retry_after if retry_after is not None else self._backoff(item.attempts)
        item.next_at = self._clock.now() + timedelta(seconds=delay)
        log.warning("delivery to %s failed (%s); retry %d in %.1fs", item.target, error, item.attempts, delay)
        await self._storage.put(NAMESPACE, item.key, item.model_dump(mode="json"))

    def _backoff(self, attempts: int) -> float:
        delay = min(self._max_delay, self._base_delay * 2 ** (attempts - 1))
        return delay * random.uniform(0.8, 1.2)

    def next_attempt(self) -> datetime | None:
        return min((item.next_at for item in self._items.values()), default=None)

    async def drain(self) -> None:
        """Deliver until nothing is due now (used by the console and tests between turns)."""
        while await self.deliver_due():
            pass

    async def run_forever(self, poll_seconds: float = 0.2) -> None:
        while True:
            await self.deliver_due()
            self._wake.clear()
            wait = poll_seconds
            upcoming = self.next_attempt()
            if upcoming is not None:
                wait = max(0.0, min(poll_seconds, (upcoming - self._clock.now()).total_seconds()))
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
            except TimeoutError:
                pass
