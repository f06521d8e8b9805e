"""Shared test helpers: the demo shop's config directory."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def demo_config() -> Path:
    return ROOT / "skills_config"
