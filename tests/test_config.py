"""Configuration mistakes fail at start-up and say the file, the field and what was expected."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from bots.bot import Bot
from bots.cli import main
from bots.config import ConfigError


@pytest.fixture
def shop(tmp_path: Path, demo_config: Path) -> Path:
    """A writable copy of the demo shop's configuration."""
    return Path(shutil.copytree(demo_config, tmp_path / "skills_config"))


def test_the_demo_config_is_valid(demo_config: Path) -> None:
    bot = Bot.from_config(demo_config)
    assert [s.name for s in bot.skills][:3] == ["escalation", "greeting", "order_status"]


def test_a_bad_skill_config_names_the_file_and_the_field(shop: Path) -> None:
    (shop / "order_status.yaml").write_text("max_attempts: lots\n")
    with pytest.raises(ConfigError) as err:
        Bot.from_config(shop)
    message = str(err.value)
    assert "order_status.yaml" in message and "max_attempts" in message and "integer" in message


def test_a_misspelt_field_is_an_error_not_ignored(shop: Path) -> None:
    (shop / "greeting.yaml").write_text("shop_nmae: {zh: x, en: y}\n")
    with pytest.raises(ConfigError, match=r"greeting.yaml: shop_nmae: Extra inputs are not permitted"):
        Bot.from_config(shop)


def test_a_nested_field_error_gives_its_path(shop: Path) -> None:
    (shop / "order_status.yaml").write_text("orders:\n  DS1: {carrier: SF}\n")
    with pytest.raises(ConfigError, match=r"order_status.yaml: orders.DS1.status: Field required"):
        Bot.from_config(shop)


def test_an_unknown_skill_lists_the_known_ones(shop: Path) -> None:
    text = (shop / "bots.yaml").read_text().replace("  - greeting\n", "  - greetings\n")
    (shop / "bots.yaml").write_text(text)
    with pytest.raises(ConfigError, match=r"unknown skill 'greetings' \(known: .*greeting"):
        Bot.from_config(shop)


def test_broken_yaml_is_reported_with_its_file(shop: Path) -> None:
    (shop / "bots.yaml").write_text("skills: [greeting\n")
    with pytest.raises(ConfigError, match="bots.yaml: not valid YAML"):
        Bot.from_config(shop)


def test_severity_rooms_are_required(shop: Path) -> None:
    (shop / "bots.yaml").write_text("rooms:\n  urgent: {}\n")
    with pytest.raises(ConfigError, match="rooms: .*regular must be defined"):
        Bot.from_config(shop)


def test_a_bad_time_zone_is_named(shop: Path) -> None:
    (shop / "bots.yaml").write_text("rooms:\n  urgent: {}\n  regular: {hours: {timezone: Mars/Olympus}}\n")
    with pytest.raises(ConfigError, match="rooms.regular.hours.timezone: .*unknown time zone"):
        Bot.from_config(shop)


def test_bots_check_says_ok_or_what_is_wrong(shop: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(main, ["check", "--config", str(shop)])
    assert ok.exit_code == 0 and "OK" in ok.output and "order_status" in ok.output
    (shop / "order_status.yaml").write_text("max_attempts: many\n")
    bad = runner.invoke(main, ["check", "--config", str(shop)])
    assert bad.exit_code == 1 and "order_status.yaml: max_attempts" in bad.output


def test_a_report_room_must_exist(shop: Path) -> None:
    text = (shop / "bots.yaml").read_text().replace("  room: reports\n", "  room: report\n")
    (shop / "bots.yaml").write_text(text)
    with pytest.raises(ConfigError, match=r"reports.room: no room 'report' \(rooms: urgent, regular, factory, reports\)"):
        Bot.from_config(shop)
