"""Shared test helpers: the demo shop's configuration, whole or reduced to the core skills, and a fake Slack."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from tests.fakes.slack_api import FakeSlack

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def demo_config() -> Path:
    return ROOT / "skills_config"


@pytest.fixture
def core_config(tmp_path: Path) -> Path:
    """The demo shop without its knowledge base: core behaviour that must not move with shop content."""
    config = Path(shutil.copytree(ROOT / "skills_config", tmp_path / "core_config"))
    settings = yaml.safe_load((config / "bots.yaml").read_text(encoding="utf-8"))
    settings["skills"] = ["escalation", "greeting", "order_status"]
    (config / "bots.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    return config


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    """A fake Slack Web API (and Socket Mode server) on 127.0.0.1 that knows three workspace members."""
    slack = FakeSlack(users={"UALICE": "alice", "UBOB": "bob", "UCUST": "Carol"})
    await slack.start()
    yield slack
    await slack.stop()
