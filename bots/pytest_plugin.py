"""pytest integration: the `bot_tester` fixture and YAML dialogue files (`test_*.yaml`) as tests.

Registered through the `pytest11` entry point, so installing the package is enough.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .testing import BotTester, Dialogue, DialogueFailure, load_dialogues, run_dialogue


@pytest.fixture
def bot_tester(tmp_path: Path) -> Callable[..., BotTester]:
    """Make a `BotTester`: `async with bot_tester(skills=[MySkill]) as bot: await bot.say("hi")`."""

    def make(config_dir: str | Path | None = None, **kwargs: Any) -> BotTester:
        kwargs.setdefault("data_dir", tmp_path / f"store-{len(list(tmp_path.iterdir()))}")
        return BotTester(config_dir, **kwargs)

    return make


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.suffix in (".yaml", ".yml") and file_path.name.startswith("test_"):
        return DialogueFile.from_parent(parent, path=file_path)
    return None


class DialogueFile(pytest.File):
    def collect(self) -> list[pytest.Item]:
        return [DialogueItem.from_parent(self, name=d.name, dialogue=d) for d in load_dialogues(self.path)]


class DialogueItem(pytest.Item):
    def __init__(self, *, dialogue: Dialogue, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dialogue = dialogue

    def runtest(self) -> None:
        asyncio.run(run_dialogue(self.dialogue))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, DialogueFailure):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"dialogue: {self.name}"
