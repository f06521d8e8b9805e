"""FAQ answering in the demo shop: answers, "did you mean", fallbacks, knowledge gaps, spreadsheet import."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bots.cli import main
from bots.testing import BotTester


@pytest.fixture
def strict_shop(tmp_path: Path, demo_config: Path) -> Path:
    """The demo shop with a FAQ that only answers outright when certain, to exercise "did you mean"."""
    config = Path(shutil.copytree(demo_config, tmp_path / "skills_config"))
    faq = yaml.safe_load((config / "faq.yaml").read_text())
    faq["answer_threshold"] = 2.0  # above any confidence: every match is only suggested
    (config / "faq.yaml").write_text(yaml.safe_dump(faq, allow_unicode=True))
    return config


async def test_a_paraphrase_gets_the_answer_in_chinese(demo_config: Path) -> None:
    async with BotTester(demo_config) as bot:
        replies = await bot.say("新买的耳机要怎么跟手机配对呀")
        assert "配对模式" in replies[0].text
        assert replies[0].attachments[0].url.endswith("earbuds-pairing.png")


async def test_a_paraphrase_gets_the_answer_in_english(demo_config: Path) -> None:
    async with BotTester(demo_config) as bot:
        replies = await bot.say("can I take this power bank on a flight?")
        assert "100 Wh" in replies[0].text


async def test_an_entry_with_a_fault_tree_offers_it(demo_config: Path) -> None:
    async with BotTester(demo_config) as bot:
        replies = await bot.say("how do I pair the earbuds")
        assert replies[0].buttons[0].value == "/troubleshoot earbuds_no_connect"


async def test_did_you_mean_offers_the_top_three_as_buttons(strict_shop: Path, tmp_path: Path) -> None:
    async with BotTester(strict_shop, data_dir=tmp_path / "d1") as bot:
        offered = await bot.say("耳机要怎么跟手机配对")
        assert offered[0].text.startswith("您是想问")
        labels = [b.label for b in offered[0].buttons]
        assert len(labels) == 4 and labels[0] == "耳机怎么配对" and labels[-1] == "都不是，转人工"
        answer = await bot.press("耳机怎么配对")
        assert "配对模式" in answer[0].text
    async with BotTester(strict_shop, data_dir=tmp_path / "d2") as bot:
        offered = await bot.say("how do I get an invoice")
        assert offered[0].text == "Did you mean one of these?"
        assert offered[0].buttons[0].value == "/faq shop_invoice"


async def test_three_unresolved_rounds_call_a_person(strict_shop: Path) -> None:
    async with BotTester(strict_shop) as bot:
        await bot.say("how do I get an invoice")
        await bot.say("can you issue an invoice please")
        last = await bot.say("I need a tax invoice")
        escalation = await bot.escalation()
        assert escalation is not None and escalation.reason == "repeated_fallbacks"
        assert "team" in last[-1].text


async def test_an_unrelated_question_falls_back_and_offers_a_person(demo_config: Path) -> None:
    async with BotTester(demo_config) as bot:
        replies = await bot.say("帮我写一首关于春天的诗")
        assert replies[0].buttons[-1].value == "/human"
        assert await bot.escalation() is None


def test_bots_kb_gaps_lists_repeated_unanswered_questions(demo_config: Path, tmp_path: Path) -> None:
    async def customers_ask() -> None:
        for customer in ("c1", "c2"):  # two customers ask the same thing
            async with BotTester(demo_config, data_dir=tmp_path / "data", conversation=customer) as bot:
                await bot.say("帮我写一首关于春天的诗")
        async with BotTester(demo_config, data_dir=tmp_path / "data", conversation="c3") as bot:
            await bot.say("what's the meaning of life")

    asyncio.run(customers_ask())
    result = CliRunner().invoke(main, ["kb", "gaps", "--config", str(demo_config), "--data", str(tmp_path / "data")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["2", "[zh]", "帮我写一首关于春天的诗"]
    assert "meaning of life" in lines[1]


def test_kb_import_names_bad_rows_and_merges_good_ones(tmp_path: Path, demo_config: Path) -> None:
    config = Path(shutil.copytree(demo_config, tmp_path / "skills_config"))
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "id,product,questions_zh,questions_en,answer_zh,answer_en\n"
        'gift_wrap,shop,可以包装成礼物吗|能礼品包装吗,can you gift wrap it,可以，下单时备注即可。,"Yes, add a note."\n'
        "broken,shop,,no chinese question,答案,answer\n"
        "unquoted,shop,问题,question,答案,an answer, with a comma\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    refused = runner.invoke(main, ["kb", "import", str(bad), "--config", str(config)])
    assert refused.exit_code == 1 and "row 3: empty questions_zh" in refused.output
    assert "row 4: more cells than columns" in refused.output
    assert "gift_wrap" not in (config / "faq.yaml").read_text()  # nothing imported from a bad file

    good = tmp_path / "good.csv"
    good.write_text(bad.read_text(encoding="utf-8").splitlines()[0] + "\n" + bad.read_text(encoding="utf-8").splitlines()[1] + "\n", encoding="utf-8")
    done = runner.invoke(main, ["kb", "import", str(good), "--config", str(config)])
    assert done.exit_code == 0 and "1 entries added" in done.output
    entries = {e["id"]: e for e in yaml.safe_load((config / "faq.yaml").read_text())["entries"]}
    assert entries["gift_wrap"]["questions"]["zh"] == ["可以包装成礼物吗", "能礼品包装吗"]
    assert len(entries) > 40


async def test_imported_entries_are_answered(tmp_path: Path, demo_config: Path) -> None:
    config = Path(shutil.copytree(demo_config, tmp_path / "skills_config"))
    sheet = tmp_path / "kb.xlsx"
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["id", "product", "questions_zh", "questions_en", "answer_zh", "answer_en"])
    book.active.append(["gift_wrap", "shop", "可以包装成礼物吗\n能礼品包装吗", "can you gift wrap it", "可以，下单时备注“礼品包装”即可。", "Yes: add a gift-wrap note to your order."])
    book.save(sheet)
    assert CliRunner().invoke(main, ["kb", "import", str(sheet), "--config", str(config)]).exit_code == 0
    async with BotTester(config, data_dir=tmp_path / "data") as bot:
        assert "礼品包装" in (await bot.say("能帮我礼品包装吗"))[0].text
