"""Persistent delayed jobs (SLA checks, troubleshooting timeouts, follow-ups) that survive restarts.

A job is a stored document; the in-memory heap is only an index rebuilt at start-up. Running a job
first *takes* it from storage (an atomic delete), so each job runs at most once even across restarts
or several processes sharing a server-backed store.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from .clock import Clock
from .storage import Storage

log = logging.getLogger(__name__)

NAMESPACE = "jobs"


class Job(BaseModel):
    id: str
    kind: str
    run_at: datetime
    payload: dict[str, Any] = {}


JobRunner = Callable[[Job], Awaitable[None]]


class Scheduler:
    def __init__(self, storage: Storage, clock: Clock, poll_seconds: float = 0.5) -> None:
        self._storage = storage
        self._clock = clock
        self._poll = poll_seconds
        self._runners: dict[str, JobRunner] = {}
        self._heap: list[tuple[datetime, str]] = []
        self._wake = asyncio.Event()

    def register(self, kind: str, runner: JobRunner) -> None:
        self._runners[kind] = runner

    async def load(self) -> None:
        """Rebuild the index from storage: jobs due while the process was down run at the next tick."""
        self._heap = [(Job(**doc).run_at, key) for key, doc in await self._storage.scan(NAMESPACE)]
        heapq.heapify(self._heap)

    async def schedule(self, kind: str, at: datetime, payload: dict[str, Any] | None = None, job_id: str = "") -> str:
        """Store a job to run at `at`. Passing a `job_id` makes scheduling idempotent (one job per id)."""
        job = Job(id=job_id or uuid.uuid4().hex, kind=kind, run_at=at, payload=payload or {})
        if await self._storage.put_if_absent(NAMESPACE, job.id, job.model_dump(mode="json")):
            heapq.heappush(self._heap, (job.run_at, job.id))
            self._wake.set()
        return job.id

    async def cancel(self, job_id: str) -> bool:
        return await self._storage.delete(NAMESPACE, job_id)

    def next_run(self) -> datetime | None:
        return self._heap[0][0] if self._heap else None

    async def run_due(self) -> int:
        """Run every job whose time has come; returns how many ran."""
        ran = 0
        while self._heap and self._heap[0][0] <= self._clock.now():
            _, job_id = heapq.heappop(self._heap)
            doc = await self._storage.get(NAMESPACE, job_id)
            if doc is None or not await self._storage.delete(NAMESPACE, job_id):
                continue  # cancelled, or another process took it
            job = Job(**doc)
            runner = self._runners.get(job.kind)
            if runner is None:
                log.error("no runner for job kind %r (job %s dropped)", job.kind, job.id)
                continue
            try:
                await runner(job)
            except Exception:
                log.exception("job %s (%s) failed", job.id, job.kind)
            ran += 1
        return ran

    async def run_forever(self) -> None:
        while True:
            await self.run_due()
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll)
            except TimeoutError:
                pass
