"""Fault trees in the demo shop: solved at step 2, run out into escalation, ten-minute timeout, stats."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner

from bots.cli import main
from bots.skills.troubleshoot import Tree, read_answer
from bots.testing import BotTester


async def test_a_fault_tree_solved_at_step_two_in_chinese(demo_config: Path) -> None:
    async with BotTester(demo_config) as bot:
        first = await bot.say("耳机连不上蓝牙")
        assert "放回充电盒" in first[0].text and [b.label for b in first[0].buttons] == ["是", "否"]
        second = await bot.press("否")
        assert "忽略此设备" in second[0].text
        solved = await bot.say("可以了，连上了")
        assert "旧配对记录" in solved[0].text
        assert (await bot.conversation()).dialog is None
        assert await bot.escalation() is None
        assert await bot.advance(minutes=15) == []  # the timeout was cancelled


async def test_a_fault_tree_solved_at_step_two_in_english(demo_config: Path) -> None:
    async with BotTester(demo_config) as bot:
        first = await bot.say("my earbuds won't connect to my phone")
        assert "Put both earbuds back in the case" in first[0].text
        await bot.press("No")
        solved = await bot.press("Yes")
        assert solved[0].text and (await bot.conversation()).dialog is None


async def test_a_tree_that_runs_out_escalates_with_the_steps_tried(demo_config: Path) -> None:
    async with BotTester(demo_config) as bot:
        await bot.say("my earbuds won't connect to my phone")
        for _ in range(5):
            replies = await bot.press("No")
        escalation = await bot.escalation()
        assert escalation is not None
        assert (escalation.reason, escalation.room) == ("troubleshooting_failed", "urgent")
        tried = escalation.facts["troubleshooting"]["steps_tried"]
        assert len(tried) == 5 and tried[0].startswith("Put both earbuds back")
        assert "steps_tried" in bot.room_log.getvalue() or "Put both earbuds back" in bot.room_log.getvalue()
        assert "team" in replies[-1].text


async def test_still_unresolved_after_ten_minutes_escalates(demo_config: Path) -> None:
    async with BotTester(demo_config) as bot:
        await bot.say("充电宝充不进手机")
        await bot.press("否")
        await bot.advance(minutes=9)
        assert await bot.escalation() is None
        told = await bot.advance(minutes=2)
        escalation = await bot.escalation()
        assert escalation is not None and escalation.reason == "troubleshooting_timeout"
        assert escalation.room == "urgent" and len(escalation.evidence["steps_tried"]) == 1
        assert "客服" in told[0].text


async def test_entered_from_a_faq_answer(demo_config: Path) -> None:
    async with BotTester(demo_config) as bot:
        await bot.say("how do I pair the earbuds")
        started = await bot.press("Walk me through a fix")
        assert "Put both earbuds back in the case" in started[0].text


def test_each_step_counts_how_many_cases_it_solved(demo_config: Path, tmp_path: Path) -> None:
    async def customer_fixes_it() -> None:
        async with BotTester(demo_config, data_dir=tmp_path / "data") as bot:
            await bot.say("耳机连不上蓝牙")
            await bot.press("否")
            await bot.press("是")

    asyncio.run(customer_fixes_it())
    result = CliRunner().invoke(main, ["kb", "stats", "--config", str(demo_config), "--data", str(tmp_path / "data")])
    assert "earbuds_no_connect / case_reset: no 1" in result.output
    assert "earbuds_no_connect / forget_device: solved 1, yes 1" in result.output


@pytest.mark.parametrize(
    ("text", "answer"),
    [("是", True), ("好了", True), ("yes it works", True), ("不行", False), ("还是没反应", False),
     ("no", False), ("still not working", False), ("什么意思", None), ("huh?", None)],
)
def test_answers_in_the_customers_own_words(text: str, answer: bool | None) -> None:
    assert read_answer(text) is answer


def test_a_tree_that_loops_is_refused() -> None:
    step = {"ask": {"zh": "好了吗？", "en": "Fixed?"}, "solution": {"zh": "好", "en": "Good"}}
    with pytest.raises(ValueError, match="loops"):
        Tree(
            id="t",
            symptoms={"zh": ["坏了"], "en": ["broken"]},
            steps=[{**step, "id": "a", "yes": "solved", "no": "b"}, {**step, "id": "b", "yes": "solved", "no": "a"}],
        )


async def test_a_step_picture_comes_with_its_question_and_buttons(demo_config: Path) -> None:
    async with BotTester(demo_config) as bot:
        first = await bot.say("耳机连不上蓝牙")
        assert len(first) == 1  # one message: a chat page shows the buttons of the latest reply
        assert first[0].attachments[0].url.endswith(".png") and [b.value for b in first[0].buttons] == ["yes", "no"]
