"""The daily staff report: the day's escalations, first-reply times and SLA breaches, posted to the
reports room at the configured hour (also when that hour passed while the bot was down)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from bots.message import User
from bots.testing import BotTester

REPORT_HEADER = "[staff:reports] Staff report, "


def reports(tester: BotTester) -> list[str]:
    """Each report posted to the console reports room, as the lines staff read."""
    log = tester.room_log.getvalue()
    starts = [m.start() for m in re.finditer(re.escape(REPORT_HEADER), log)]
    return [log[a:b].strip() for a, b in zip(starts, [*starts[1:], len(log)])]


def as_customer(tester: BotTester, key: str, name: str) -> None:
    tester.key, tester.user = key, User(id=f"user-{key}", name=name)


async def test_the_day_is_reported_at_nine_in_the_reports_room(core_config: Path) -> None:
    async with BotTester(core_config) as bot:  # the clock starts Mon 5 Jan 2026, 18:00 in Shanghai
        as_customer(bot, "c1", "Wang")
        await bot.say("我要人工客服")
        await bot.advance(minutes=4)
        await bot.staff("reply", "您好，我来处理")
        await bot.staff("forward", "factory")
        as_customer(bot, "c2", "Smith")
        await bot.say("I want to talk to a human")
        await bot.advance(minutes=20)  # nobody claims it: SLA (15 min) breached
        assert reports(bot) == []
        await bot.advance(hours=15)  # 09:24 next morning
        [report] = reports(bot)
        assert "2026-01-05 09:00 to 2026-01-06 09:00 (Asia/Shanghai)" in report
        assert "Escalations raised: 2 (regular 2)" in report
        assert "Reasons: asked_for_human 2" in report
        assert "First human reply: median 4 min, 90% within 4 min (1 answered, 1 not answered yet)" in report
        assert "SLA breached: 1; resolved: 0; handed back to the bot: 0" in report
        assert "Sent on: factory 1" in report
        assert re.search(r"Open now: 2, the oldest waiting 9\d\d min", report)
        await bot.advance(hours=24)
        assert len(reports(bot)) == 2 and "Escalations raised: 0 (none)" in reports(bot)[1]


async def test_a_report_due_while_the_bot_was_down_is_posted_once_at_start(core_config: Path, tmp_path: Path) -> None:
    async with BotTester(core_config, data_dir=tmp_path) as bot:
        await bot.say("转人工")
        bot.clock.advance(hours=20)  # the clock moves without running anything: down over 09:00, back at 14:00
        await bot.restart()
        await bot.advance(seconds=1)
        posted = reports(bot)
        assert len(posted) == 1, posted
        assert "2026-01-05 09:00 to 2026-01-06 09:00" in posted[0] and "Escalations raised: 1" in posted[0]
        bot.clock.advance(days=3)  # down over three 09:00s: one report, for the latest full day
        await bot.restart()
        await bot.advance(seconds=1)
        assert len(reports(bot)) == 2 and "2026-01-08 09:00 to 2026-01-09 09:00" in reports(bot)[1]
        await bot.advance(hours=24)
        assert len(reports(bot)) == 3


async def test_bots_report_prints_the_figures_from_the_data_directory(core_config: Path, tmp_path: Path) -> None:
    async with BotTester(core_config, data_dir=tmp_path) as bot:
        await bot.say("我要投诉，给我找个人")
        await bot.advance(minutes=2)
        await bot.staff("reply", "在的")
        await bot.staff("resolve")
    done = subprocess.run(
        [sys.executable, "-m", "bots.cli", "report", "--config", str(core_config), "--data", str(tmp_path), "--days", "36500"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Escalations raised: 1" in done.stdout and "median 2 min" in done.stdout and "resolved: 1" in done.stdout
