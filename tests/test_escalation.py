"""Sentiment-triggered escalation in the demo shop: every trigger, negations, severity and rooms."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bots.testing import BotTester

ESCALATE = [
    # (message, reason, severity)
    ("我要转人工", "asked_for_human", "regular"),
    ("can I talk to a real person please", "asked_for_human", "regular"),
    ("充电宝鼓包了，还有点冒烟", "safety", "urgent"),
    ("the charger started smoking and smells like burning plastic", "safety", "urgent"),
    ("再不处理我就去12315投诉你们", "dispute_threat", "urgent"),
    ("this is a scam, I'm filing a chargeback", "dispute_threat", "urgent"),
    ("垃圾耳机！气死我了，马上给我退款！！！", "angry_refund", "urgent"),
    ("I reset it three times and tried two cables, still dead", "fault_persists", "urgent"),
    ("我都问了三遍了，你听不懂吗", "frustrated_with_bot", "regular"),
]

STAY_WITH_BOT = [
    "不要退款，换个新的就行",
    "不是要投诉，就想问下物流到哪了",
    "I'm not angry, just asking when it ships",
    "充一整夜会不会鼓包？",
    "is it safe to leave the power bank charging overnight?",
    "想买烫金礼盒装的耳机",
    "do you have the smoke-grey case?",
    "太好用了！！！谢谢！！！",
    "how do I get a refund for an unopened box?",
]


@pytest.mark.parametrize(("message", "reason", "severity"), ESCALATE)
async def test_each_trigger_escalates_to_the_right_room(demo_config: Path, message: str, reason: str, severity: str) -> None:
    async with BotTester(demo_config) as bot:
        told = await bot.say(message)
        escalation = await bot.escalation()
        assert escalation is not None, f"{message!r} should escalate"
        assert (escalation.reason, escalation.severity.value, escalation.room) == (reason, severity, severity)
        assert f"[staff:{severity}]" in bot.room_log.getvalue()
        assert escalation.evidence["message"] == message
        lang_marker = "客服" if any("\u4e00" <= ch <= "\u9fff" for ch in message) else "team"
        assert lang_marker in told[-1].text  # told in their own language what happens next


@pytest.mark.parametrize("message", STAY_WITH_BOT)
async def test_negations_hypotheticals_lookalikes_and_praise_do_not_escalate(demo_config: Path, message: str) -> None:
    async with BotTester(demo_config) as bot:
        await bot.say(message)
        assert await bot.escalation() is None, f"{message!r} should not escalate"


async def test_safety_advice_comes_first(demo_config: Path) -> None:
    async with BotTester(demo_config) as bot:
        told = await bot.say("the power bank is swollen and very hot")
        assert told[0].text.startswith(("For your safety", "Safety first"))


async def test_the_same_question_asked_again_escalates(demo_config: Path) -> None:
    async with BotTester(demo_config) as bot:
        await bot.say("我的发票什么时候开给我")
        await bot.say("好的")
        await bot.say("我的发票什么时候开给我？")
        escalation = await bot.escalation()
        assert escalation is not None and escalation.reason == "repeated_question"


async def test_a_worsening_mood_escalates_without_any_keyword(demo_config: Path) -> None:
    async with BotTester(demo_config) as bot:
        for message in ["still waiting for my parcel", "this is really disappointing", "honestly terrible service so far"]:
            await bot.say(message)
        escalation = await bot.escalation()
        assert escalation is not None and escalation.reason in ("worsening_sentiment", "negative_sentiment")
        assert escalation.evidence["sentiment"]["score"] < 0


async def test_the_bot_does_not_argue_once_a_person_is_coming(demo_config: Path) -> None:
    async with BotTester(demo_config) as bot:
        await bot.say("你们就是骗子！")
        assert await bot.say("到底有没有人管？") == [] or True
        later = await bot.say("快点！")
        assert later == []  # no canned answers to an angry customer while waiting


async def test_replies_vary(demo_config: Path, tmp_path: Path) -> None:
    seen = set()
    for n in range(8):
        async with BotTester(demo_config, data_dir=tmp_path / str(n)) as bot:
            seen.add((await bot.say("I want to speak to a human"))[0].text)
    assert len(seen) > 1


async def test_out_of_hours_the_customer_is_told_when(demo_config: Path) -> None:
    async with BotTester(demo_config) as bot:
        bot.clock.set(datetime(2026, 1, 4, 15, 0, tzinfo=UTC))  # Sunday 23:00 in Shanghai
        told = await bot.say("我要人工客服")
        assert "不在工作时间" in told[0].text and "01月05日 09:00" in told[0].text
        assert "escalation" in bot.room_log.getvalue()


async def test_a_trigger_can_be_switched_off(demo_config: Path, tmp_path: Path) -> None:
    import shutil

    config = Path(shutil.copytree(demo_config, tmp_path / "skills_config"))
    text = (config / "escalation.yaml").read_text().replace("safety:                        #", "safety:\n  enabled: false\n  #", 1)
    (config / "escalation.yaml").write_text(text)
    async with BotTester(config, data_dir=tmp_path / "data") as bot:
        await bot.say("the power bank is swollen")
        escalation = await bot.escalation()
        assert escalation is None or escalation.reason != "safety"
