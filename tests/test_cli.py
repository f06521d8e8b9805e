"""The `bots` command as a seller and a skill author use it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from bots.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _project(tmp_path: Path, demo_config: Path) -> Path:
    project = tmp_path / "shop"
    shutil.copytree(demo_config, project / "skills_config")
    return project


def test_new_skill_creates_a_skill_that_passes_its_own_test(tmp_path: Path, demo_config: Path) -> None:
    project = _project(tmp_path, demo_config)
    config = project / "skills_config"
    runner = CliRunner()
    made = runner.invoke(main, ["new-skill", "warranty_card", "--config", str(config)])
    assert made.exit_code == 0, made.output
    assert (project / "local_skills" / "warranty_card.py").exists()
    assert "local_skills.warranty_card:WarrantyCard" in (config / "bots.yaml").read_text()
    assert "# Main configuration" in (config / "bots.yaml").read_text()  # comments kept
    assert runner.invoke(main, ["check", "--config", str(config)]).exit_code == 0
    # run as a separate process, from the project directory, as the author would
    result = subprocess.run(
        [sys.executable, "-m", "bots.cli", "test", "tests"], cwd=project, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 0 failed" in result.stdout
    again = runner.invoke(main, ["new-skill", "warranty_card", "--config", str(config)])
    assert again.exit_code == 1 and "already exists" in again.output


def test_a_failing_dialogue_prints_the_conversation(tmp_path: Path, demo_config: Path) -> None:
    project = _project(tmp_path, demo_config)
    script = project / "tests" / "test_wrong.yaml"
    script.parent.mkdir()
    script.write_text('- user: 你好\n  bot: contains "早上好"\n')
    result = CliRunner().invoke(main, ["test", str(script)])
    assert result.exit_code == 1
    assert "step 1" in result.output and "早上好" in result.output
    assert "customer: 你好" in result.output and "bot: 您好，欢迎" in result.output
    assert "0 passed, 1 failed" in result.output


def test_bots_chat_in_a_real_terminal_session(tmp_path: Path, demo_config: Path) -> None:
    project = _project(tmp_path, demo_config)
    typed = "你好\n1\nDS100234\n我要人工\n/staff list\n/quit\n"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "bots.cli", "chat"], cwd=project, input=typed, capture_output=True, text=True,
        timeout=60, env=env,
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "1. 查询订单" in out  # buttons as numbered options
    assert "请发送您的订单号" in out  # pressing 1 asked for the order number
    assert "SF1234567890" in out
    assert "escalation" in out and "asked_for_human" in out  # the console staff room
    assert (project / "data" / "state").is_dir()  # the embedded store beside the config
