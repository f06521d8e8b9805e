"""Persistent jobs: on time, once, and resumed after a restart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bots import Context, Skill, on_command, on_event
from bots.clock import FakeClock
from bots.scheduler import Job, Scheduler
from bots.storage import TinyDBStorage
from bots.testing import BotTester


class FollowUp(Skill):
    @on_command("later")
    async def later(self, ctx: Context) -> None:
        await ctx.schedule("followup.check", delay=timedelta(hours=1), payload={"topic": ctx.match.data})
        await ctx.reply("I'll check back in an hour")

    @on_event("followup.check")
    async def check(self, ctx: Context) -> None:
        await ctx.reply(f"Checking back about {ctx.payload['topic']}: is everything fine now?")


class Recorder:
    """Jobs of kind "note" on a real store and a fake clock; `ran` lists what ran."""

    def __init__(self, storage: TinyDBStorage) -> None:
        self.storage, self.clock, self.ran = storage, FakeClock(), []

    async def note(self, job: Job) -> None:
        self.ran.append(job.payload.get("n", job.id))

    def scheduler(self) -> Scheduler:
        scheduler = Scheduler(self.storage, self.clock)
        scheduler.register("note", self.note)
        return scheduler


@pytest.fixture
async def jobs(tmp_path: Path) -> AsyncIterator[Recorder]:
    storage = TinyDBStorage(tmp_path)
    await storage.open()
    yield Recorder(storage)
    await storage.close()


async def test_a_job_runs_on_time_and_once(jobs: Recorder) -> None:
    clock, ran, scheduler = jobs.clock, jobs.ran, jobs.scheduler()
    await scheduler.schedule("note", clock.now() + timedelta(minutes=5), {"n": "a"})
    await scheduler.schedule("note", clock.now() + timedelta(minutes=5), {"n": "dup"}, job_id="same")
    await scheduler.schedule("note", clock.now() + timedelta(minutes=6), {"n": "dup"}, job_id="same")
    assert await scheduler.run_due() == 0
    clock.advance(minutes=5)
    assert await scheduler.run_due() == 2
    assert sorted(ran) == ["a", "dup"]
    clock.advance(minutes=5)
    assert await scheduler.run_due() == 0


async def test_two_schedulers_sharing_a_store_run_a_job_once(jobs: Recorder) -> None:
    first, second = jobs.scheduler(), jobs.scheduler()
    await first.schedule("note", jobs.clock.now(), job_id="j1")
    await second.load()
    assert await first.run_due() + await second.run_due() == 1
    assert jobs.ran == ["j1"]


async def test_a_scheduled_event_fires_once_after_a_restart(tmp_path: Path) -> None:
    async with BotTester(skills=[FollowUp], data_dir=tmp_path) as bot:
        assert "an hour" in (await bot.say("/later the earbuds"))[0].text
        await bot.restart()
        assert await bot.advance(minutes=30) == []
        fired = await bot.advance(minutes=31)
        assert [r.text for r in fired] == ["Checking back about the earbuds: is everything fine now?"]
        await bot.restart()
        assert await bot.advance(hours=5) == []


async def test_a_cancelled_job_does_not_run(jobs: Recorder) -> None:
    scheduler = jobs.scheduler()
    job = await scheduler.schedule("note", jobs.clock.now() + timedelta(seconds=1))
    assert await scheduler.cancel(job)
    jobs.clock.advance(seconds=2)
    await scheduler.run_due()
    assert jobs.ran == []
