"""The staff flow with the console room: escalate, claim, relay both ways, resolve, SLA timers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bots import Context, Skill, on_keywords
from bots.testing import BotTester


class Safety(Skill):
    @on_keywords(zh=["冒烟"], en=["smoke coming"])
    async def smoke(self, ctx: Context) -> None:
        ctx.remember("product", "power bank")
        await ctx.escalate("safety", "urgent", evidence={"word": ctx.match.data})


async def test_escalate_claim_reply_relay_resolve(core_config: Path) -> None:
    async with BotTester(core_config) as bot:
        await bot.say("DS100234 到哪了")
        told = await bot.say("我要转人工")
        escalation = await bot.escalation()
        assert escalation is not None and escalation.room == "regular" and escalation.reason == "asked_for_human"
        assert escalation.facts["order"] == "DS100234"
        assert [t.text for t in escalation.transcript][-1] == "我要转人工"
        assert (await bot.conversation()).mode == "waiting_human"
        assert "客服" in told[0].text
        room = bot.room_log.getvalue()
        assert f"escalation {escalation.id} (regular)" in room and "我要转人工" in room

        # while waiting, the bot stays quiet but tells the customer once, and relays to the room
        assert "客服同事" in (await bot.say("有人吗"))[0].text
        assert await bot.say("快点") == []
        assert "customer: 快点" in bot.room_log.getvalue()

        joined = await bot.staff("claim", staff="alice")
        assert "alice" in joined[0].text
        assert (await bot.conversation()).mode == "human"
        answer = await bot.staff("reply", "您好，您的包裹明天送到。", staff="alice")
        assert answer[0].text == "您好，您的包裹明天送到。" and answer[0].author == "alice"

        assert await bot.say("好的，谢谢") == []  # the bot keeps quiet while a person owns it
        assert "customer: 好的，谢谢" in bot.room_log.getvalue()

        done = await bot.staff("resolve")
        assert "结束" in done[0].text
        assert (await bot.conversation()).mode == "bot"
        assert "欢迎" in (await bot.say("你好"))[0].text  # the bot answers again
        record = await bot.bot.desk.get(escalation.id)
        assert record.status == "resolved" and record.first_response_at is not None


async def test_severity_picks_the_room(tmp_path: Path, core_config: Path) -> None:
    async with BotTester(core_config, skills=[Safety], data_dir=tmp_path) as bot:
        await bot.say("the charger has smoke coming out")
        escalation = await bot.escalation()
        assert escalation is not None and escalation.room == "urgent" and escalation.severity == "urgent"
        assert "[staff:urgent]" in bot.room_log.getvalue()
        assert "fact product: power bank" in bot.room_log.getvalue()


async def test_an_unclaimed_alert_is_reannounced_once_when_the_sla_runs_out(core_config: Path) -> None:
    async with BotTester(core_config) as bot:
        await bot.say("human please")
        await bot.advance(minutes=14)
        assert "SLA breached" not in bot.room_log.getvalue()
        await bot.advance(minutes=2)
        assert bot.room_log.getvalue().count("SLA breached") == 1
        assert "@oncall" in bot.room_log.getvalue()
        await bot.advance(minutes=60)
        assert bot.room_log.getvalue().count("SLA breached") == 1
        assert (await bot.escalation()).breached


async def test_the_sla_timer_survives_a_restart(core_config: Path, tmp_path: Path) -> None:
    async with BotTester(core_config, data_dir=tmp_path) as bot:
        await bot.say("human please")
        await bot.restart()
        await bot.advance(minutes=16)
        assert bot.room_log.getvalue().count("SLA breached") == 1


async def test_a_claimed_alert_is_not_reannounced(core_config: Path) -> None:
    async with BotTester(core_config) as bot:
        await bot.say("human please")
        await bot.staff("claim")
        await bot.advance(minutes=30)
        assert "SLA breached" not in bot.room_log.getvalue()


async def test_outside_business_hours_the_customer_is_told_when(core_config: Path) -> None:
    async with BotTester(core_config) as bot:
        bot.clock.set(datetime(2026, 1, 4, 15, 0, tzinfo=UTC))  # Sunday 23:00 in Shanghai
        told = await bot.say("I want a real person")
        assert "Mon 05 Jan 09:00" in told[0].text
        assert "escalation" in bot.room_log.getvalue()  # the alert is posted all the same


async def test_forward_to_factory_liaison(core_config: Path) -> None:
    async with BotTester(core_config) as bot:
        await bot.say("human please")
        await bot.staff("forward", "factory")
        assert "[staff:factory]" in bot.room_log.getvalue()


async def test_return_to_bot_hands_back_without_resolving(core_config: Path) -> None:
    async with BotTester(core_config) as bot:
        await bot.say("human please")
        await bot.staff("claim")
        await bot.staff("return")
        assert (await bot.escalation()).status == "returned"
        assert (await bot.conversation()).mode == "bot"
