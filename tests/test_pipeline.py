"""Bot.handle end to end: dedupe, persistence, language, routing, errors, fallback."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bots import Context, Skill, on_command, on_fallback, on_keywords, on_regex, on_scored, on_step
from bots.testing import BotTester


class Echo(Skill):
    @on_regex(r"^echo (.+)")
    async def echo(self, ctx: Context) -> None:
        await ctx.reply(ctx.match.data.group(1))


class Broken(Skill):
    @on_keywords(zh=["崩溃"], en=["crash"])
    async def crash(self, ctx: Context) -> None:
        raise RuntimeError("boom")


async def test_a_redelivered_message_is_answered_once(core_config: Path) -> None:
    async with BotTester(core_config) as bot:
        first = await bot.say("你好", message_id="m-1")
        again = await bot.say("你好", message_id="m-1")
        assert len(first) == 1 and again == []
        history = [r async for r in bot.bot.storage.read_stream("messages") if r["role"] == "customer"]
        assert len(history) == 1


async def test_the_inbound_message_is_stored_before_the_skill_runs(tmp_path: Path) -> None:
    seen: list[list[str]] = []

    class Peek(Skill):
        @on_regex(".")
        async def peek(self, ctx: Context) -> None:
            seen.append([r["text"] async for r in ctx.bot.storage.read_stream("messages")])

    async with BotTester(skills=[Peek], data_dir=tmp_path) as bot:
        await bot.say("where is my parcel")
    assert seen == [["where is my parcel"]]


async def test_a_redelivery_after_a_restart_is_still_dropped(core_config: Path, tmp_path: Path) -> None:
    async with BotTester(core_config, data_dir=tmp_path) as bot:
        await bot.say("hello", message_id="m-7")
        await bot.restart()
        assert await bot.say("hello", message_id="m-7") == []


async def test_replies_follow_the_customers_language(core_config: Path) -> None:
    async with BotTester(core_config) as bot:
        zh = await bot.say("你好")
        assert "欢迎" in zh[0].text and [b.label for b in zh[0].buttons][0] == "查询订单"
        en = await bot.say("hello there")
        assert "welcome" in en[0].text.lower() and en[0].buttons[0].label == "Track my order"
        assert (await bot.conversation()).language == "en"
        # an order number or a button value says nothing about the language: it stays English
        await bot.say("/hours")
        await bot.say("DS100234")
        assert (await bot.conversation()).language == "en"


async def test_traditional_chinese_customers_are_answered_in_traditional(core_config: Path) -> None:
    async with BotTester(core_config) as bot:
        replies = await bot.say("您好，請問營業時間？")
        assert "營業時間" not in replies[0].text  # the skill answers its own text...
        assert "客服時間" in replies[0].text  # ...rendered in Traditional characters
        assert (await bot.conversation()).traditional


async def test_a_skill_that_raises_gets_an_apology_and_the_bot_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with BotTester(skills=[Broken, Echo], data_dir=tmp_path) as bot:
        with caplog.at_level(logging.ERROR):
            zh = await bot.say("它又崩溃了")
        assert zh[0].text.startswith("抱歉")
        assert bot.conversation_id in caplog.text and "boom" in caplog.text
        en = await bot.say("crash please")
        assert en[0].text.startswith("Sorry")
        assert (await bot.say("echo still alive"))[0].text == "still alive"


async def test_priority_beats_score_and_score_beats_order(tmp_path: Path) -> None:
    class Low(Skill):
        @on_regex("refund", score=1.0)
        async def low(self, ctx: Context) -> None:
            await ctx.reply("low")

    class High(Skill):
        priority = 5

        @on_scored(lambda self, message: 0.3 if "refund" in message.text else None)
        async def high(self, ctx: Context) -> None:
            await ctx.reply("high")

    class Better(Skill):
        @on_regex("refund", score=1.0)
        async def weak(self, ctx: Context) -> None:
            await ctx.reply("weak")

        @on_scored(lambda self, message: 2.0 if "refund now" in message.text else None)
        async def strong(self, ctx: Context) -> None:
            await ctx.reply("strong")

    async with BotTester(skills=[Low, High], data_dir=tmp_path / "a") as bot:
        assert (await bot.say("refund"))[0].text == "high"
    async with BotTester(skills=[Low, Better], data_dir=tmp_path / "b") as bot:
        assert (await bot.say("refund"))[0].text == "low"  # equal score: the skill listed first
        assert (await bot.say("refund now"))[0].text == "strong"


async def test_a_dialogue_takes_the_next_answer_and_commands_interrupt_it(tmp_path: Path) -> None:
    class Size(Skill):
        @on_command("size")
        async def start(self, ctx: Context) -> None:
            await ctx.ask("Which size?", step="size", buttons=["S", "M", "L"])

        @on_step("size")
        async def size(self, ctx: Context) -> None:
            ctx.end_dialog()
            await ctx.reply(f"size {ctx.text} noted")

        @on_command("help")
        async def help(self, ctx: Context) -> None:
            await ctx.reply("help text")

    async with BotTester(skills=[Size, Echo], data_dir=tmp_path) as bot:
        await bot.say("/size")
        assert (await bot.say("/help"))[0].text == "help text"  # a command cuts in...
        assert (await bot.say("echo M"))[0].text == "size echo M noted"  # ...the dialogue still waits
        assert (await bot.say("echo M"))[0].text == "M"


async def test_three_fallbacks_in_a_row_call_a_person(core_config: Path) -> None:
    async with BotTester(core_config) as bot:
        first = await bot.say("asdf qwer")
        assert first[0].buttons[0].value == "/human"
        await bot.say("zxcv uiop")
        third = await bot.say("lkjh mnbv")
        escalation = await bot.escalation()
        assert escalation is not None and escalation.reason == "repeated_fallbacks"
        assert "team" in third[0].text


async def test_a_recognised_message_resets_the_fallback_count(core_config: Path) -> None:
    async with BotTester(core_config) as bot:
        await bot.say("asdf qwer")
        await bot.say("zxcv uiop")
        await bot.say("hello")
        await bot.say("lkjh mnbv")
        assert await bot.escalation() is None


async def test_a_skill_fallback_handler_answers_unmatched_messages(tmp_path: Path) -> None:
    class Catch(Skill):
        @on_fallback
        async def catch(self, ctx: Context) -> None:
            await ctx.reply(f"no idea about {ctx.text}")

    async with BotTester(skills=[Catch], data_dir=tmp_path) as bot:
        assert (await bot.say("quantum"))[0].text == "no idea about quantum"
