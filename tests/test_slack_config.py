"""Slack set-up mistakes fail at start-up with what to fix; saved replies need both languages."""

from __future__ import annotations

from pathlib import Path

import pytest

from bots.bot import Bot
from bots.config import BotSettings, ConfigError, RoomConfig
from bots.slack_macros import MacroError, Macros
from bots.storage import TinyDBStorage
from bots.adapters.slack import SlackAdapter

ROOT = Path(__file__).resolve().parent.parent


def test_a_slack_room_without_a_channel_is_refused(tmp_path: Path) -> None:
    rooms = {"urgent": RoomConfig(type="slack"), "regular": RoomConfig()}
    with pytest.raises(ConfigError, match=r"rooms.urgent.channel: a Slack room needs its channel id"):
        Bot(BotSettings(skills=[], rooms=rooms), [], TinyDBStorage(tmp_path))


def test_missing_tokens_name_the_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    bot = Bot(BotSettings(skills=[]), [], TinyDBStorage(tmp_path))
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        SlackAdapter(bot, "slack", {})
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN"):
        SlackAdapter(bot, "slack", {"mode": "socket"})


def test_the_shipped_saved_replies_render_in_both_languages() -> None:
    macros = Macros.load(ROOT / "skills_config" / "macros.yaml")
    fields = {"order": "DS1", "customer": "Li", "staff": "alice", "shop": "Demo", "escalation": "E1"}
    for name in macros.macros:
        assert macros.render(name, "zh", fields) and macros.render(name, "en", fields)
    assert macros.render("refund", "en", fields).startswith("We've started the refund for order DS1")
    with pytest.raises(MacroError, match="needs order"):
        macros.render("refund", "zh", {"customer": "Li"})


def test_a_saved_reply_without_english_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "macros.yaml"
    path.write_text("macros:\n  hi:\n    zh: 你好\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"macros.hi.en: Field required"):
        Macros.load(path)


def test_socket_mode_takes_no_unsigned_http_events(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1")
    monkeypatch.delenv("SLACK_SIGNING_SECRET", raising=False)
    bot = Bot(BotSettings(skills=[]), [], TinyDBStorage(tmp_path))
    adapter = SlackAdapter(bot, "slack", {"mode": "socket"})
    assert [route.path for route in adapter.routes()] == ["/slack/files/{file_id}"]
