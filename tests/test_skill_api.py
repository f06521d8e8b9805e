"""What a skill author does: a ten-line skill, its config file, the harness, and plugin discovery."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from bots import Context, Skill, SkillConfig, on_regex
from bots.bot import Bot
from bots.testing import BotTester


class OpeningHours(Skill):
    class Config(SkillConfig):
        hours: str = "9:00-22:00"

    texts = {"hours": {"zh": "营业时间：{hours}", "en": "We are open {hours}."}}

    @on_regex(r"(?i)opening hours|营业时间|几点")
    async def hours(self, ctx: Context) -> None:
        await ctx.reply(ctx.t("hours", hours=self.config.hours))


async def test_a_ten_line_skill_answers_in_both_languages(bot_tester: Callable[..., BotTester]) -> None:
    async with bot_tester(skills=[OpeningHours], configs={"opening_hours": {"hours": "8:00-20:00"}}) as bot:
        assert (await bot.say("你们几点开门？"))[0].text == "营业时间：8:00-20:00"
        assert (await bot.say("What are your opening hours?"))[0].text == "We are open 8:00-20:00."


async def test_a_skill_store_is_private_to_its_skill(bot_tester: Callable[..., BotTester]) -> None:
    class Counter(Skill):
        @on_regex("count")
        async def count(self, ctx: Context) -> None:
            seen = await ctx.store.get("seen", 0) + 1
            await ctx.store.set("seen", seen)
            await ctx.reply(str(seen))

    class Snoop(Skill):
        @on_regex("snoop")
        async def snoop(self, ctx: Context) -> None:
            await ctx.reply(repr(await ctx.store.get("seen")))

    async with bot_tester(skills=[Counter, Snoop]) as bot:
        await bot.say("count")
        assert (await bot.say("count"))[0].text == "2"
        assert (await bot.say("snoop"))[0].text == "None"


def _write_plugin(site: Path) -> None:
    """A third-party distribution as pip would install it: code plus entry-point metadata."""
    (site / "loyalty_plugin.py").write_text(
        textwrap.dedent(
            """
            from bots import Context, Skill, SkillConfig, on_keywords

            class Loyalty(Skill):
                class Config(SkillConfig):
                    points_per_yuan: int = 1

                @on_keywords(zh=["积分"], en=["points"])
                async def points(self, ctx: Context) -> None:
                    await ctx.reply(f"{self.config.points_per_yuan} point(s) per yuan")
            """
        )
    )
    dist = site / "loyalty_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: loyalty-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[bots.skills]\nloyalty = loyalty_plugin:Loyalty\n")


async def test_a_plugin_skill_is_found_through_its_entry_point(
    tmp_path: Path, demo_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    _write_plugin(site)
    monkeypatch.syspath_prepend(str(site))
    config = tmp_path / "skills_config"
    config.mkdir()
    (config / "bots.yaml").write_text("skills: [loyalty]\n")
    (config / "loyalty.yaml").write_text("points_per_yuan: 2\n")
    bot = Bot.from_config(config, data_dir=tmp_path / "data")
    assert type(bot.skills[0]).__name__ == "Loyalty"
    async with BotTester(config, data_dir=tmp_path / "data2") as tester:
        assert (await tester.say("how many points do I get?"))[0].text == "2 point(s) per yuan"
    sys.modules.pop("loyalty_plugin", None)
