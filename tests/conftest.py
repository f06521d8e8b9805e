"""Shared test helpers: the demo shop's configuration, whole or reduced to the core skills."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

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
