"""The `bots` command: run, chat, test, check, new-skill."""

from __future__ import annotations

import asyncio
import logging
import re
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from . import redact
from .adapters.console import ConsoleAdapter
from .bot import Bot
from .config import ConfigError, ReportsConfig, load_settings
from .i18n import CatalogueError
from .kb import KbImportError, knowledge_gaps, merge_into, read_rows, step_statistics, to_entries
from .reports import collect, render
from .server import WebServer
from .storage import Storage, TinyDBStorage
from .testing import DialogueFailure, iter_dialogue_files, load_dialogues, run_dialogue

CONFIG_OPTION = click.option(
    "--config", "config_dir", default="skills_config", show_default=True, type=click.Path(path_type=Path),
    help="directory holding bots.yaml and one YAML file per skill",
)
DATA_OPTION = click.option(
    "--data", "data_dir", default=None, type=click.Path(path_type=Path),
    help="storage directory (default: storage.path of bots.yaml, beside the config directory)",
)


def _build(config_dir: Path, data_dir: Path | None) -> Bot:
    try:
        return Bot.from_config(config_dir, data_dir=data_dir)
    except (ConfigError, CatalogueError) as exc:
        raise click.ClickException(f"configuration error:\n{exc}") from None


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="log debug details")
def main(verbose: bool) -> None:
    """aftersales-bots: an after-sales customer-service bot for Chinese and English customers."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    redact.install()


async def _chat(bot: Bot) -> None:
    console = bot.adapters.get("console")
    if not isinstance(console, ConsoleAdapter):
        console = bot.adapters["console"] = ConsoleAdapter(bot, "console", {})
    await bot.start()
    try:
        await console.run()
    finally:
        await bot.stop()


@main.command()
@CONFIG_OPTION
@DATA_OPTION
def chat(config_dir: Path, data_dir: Path | None) -> None:
    """Chat with the bot in this terminal, as a customer and (with /staff) as staff."""
    asyncio.run(_chat(_build(config_dir, data_dir)))


async def _serve(bot: Bot, host: str | None, port: int | None) -> None:
    """Host every adapter's routes; chat in this terminal too when it is one; stop on Ctrl-C or SIGTERM."""
    server = WebServer(bot, host, port)
    await server.start()
    click.echo(f"Web chat: {server.url}  (health: {server.url}healthz, metrics: {server.url}metrics)")
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    console = bot.adapters.get("console")
    try:
        if isinstance(console, ConsoleAdapter) and sys.stdin.isatty():
            await console.run()
        else:
            await stopping.wait()
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
        await server.stop()


@main.command()
@CONFIG_OPTION
@DATA_OPTION
@click.option("--host", default=None, help="listen address (default: host of the HTTP adapters in bots.yaml)")
@click.option("--port", default=None, type=int, help="listen port (default: port in bots.yaml, else 8080; 0 = any)")
def run(config_dir: Path, data_dir: Path | None, host: str | None, port: int | None) -> None:
    """Start the bot: the web chat, webhooks, /healthz and /metrics, plus the console in a terminal."""
    bot = _build(config_dir, data_dir)
    click.echo(f"{bot.settings.shop.name}: skills {', '.join(s.name for s in bot.skills)}")
    try:
        asyncio.run(_serve(bot, host, port))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        raise click.ClickException(f"cannot listen: {exc} (another `bots run`? try --port)") from None


@main.command()
@CONFIG_OPTION
def check(config_dir: Path) -> None:
    """Validate bots.yaml and every skill's config file, and say what is wrong."""
    bot = _build(config_dir, None)
    click.echo(f"OK: {config_dir}/bots.yaml")
    for skill in bot.skills:
        click.echo(f"  skill {skill.name}: {type(skill).__module__}.{type(skill).__name__}")
    for name, room in bot.rooms.items():
        click.echo(f"  room {name}: {room.config.type}, SLA {room.config.sla_minutes:g} min")


@main.command("test")
@click.argument("path", default="tests", type=click.Path(exists=True, path_type=Path))
def test_command(path: Path) -> None:
    """Run the YAML dialogue scripts (test_*.yaml) under PATH."""
    failures = passed = 0
    for file in iter_dialogue_files(path):
        for dialogue in load_dialogues(file):
            try:
                asyncio.run(run_dialogue(dialogue))
            except DialogueFailure as exc:
                failures += 1
                click.echo(f"FAIL {file} · {dialogue.name}\n{exc}\n")
            else:
                passed += 1
                click.echo(f"ok   {file} · {dialogue.name}")
    click.echo(f"{passed} passed, {failures} failed")
    sys.exit(1 if failures or not passed else 0)


@main.group()
def kb() -> None:
    """Keep the FAQ knowledge base up to date."""


@kb.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@CONFIG_OPTION
def kb_import(file: Path, config_dir: Path) -> None:
    """Import FAQ entries from a CSV or Excel file into skills_config/faq.yaml."""
    rows = read_rows(file)
    with click.progressbar(length=len(rows), label=f"checking {len(rows)} rows", file=sys.stderr) as bar:
        try:
            entries = to_entries(rows, bar.update)
        except KbImportError as exc:
            raise click.ClickException(f"{file}: nothing imported:\n{exc}") from None
    added, replaced = merge_into(config_dir / "faq.yaml", entries)
    click.echo(f"{config_dir / 'faq.yaml'}: {added} entries added, {replaced} replaced")


async def _report(config_dir: Path, data_dir: Path | None, make: Callable[[Storage], Awaitable[None]]) -> None:
    settings = load_settings(config_dir)
    storage = TinyDBStorage(data_dir or config_dir.resolve().parent / settings.storage.path, read_only=True)
    await storage.open()
    await make(storage)


@kb.command("gaps")
@CONFIG_OPTION
@DATA_OPTION
@click.option("--limit", default=20, show_default=True)
def kb_gaps(config_dir: Path, data_dir: Path | None, limit: int) -> None:
    """List the questions the bot could not answer, most frequent first."""

    async def show(storage: Storage) -> None:
        for gap in await knowledge_gaps(storage, limit):
            click.echo(f"{gap['count']:5d}  [{gap['lang']}] {gap['text']}")

    asyncio.run(_report(config_dir, data_dir, show))


@kb.command("stats")
@CONFIG_OPTION
@DATA_OPTION
def kb_stats(config_dir: Path, data_dir: Path | None) -> None:
    """How often each troubleshooting step was answered yes / no, and how many cases it solved."""

    async def show(storage: Storage) -> None:
        for tree, step, counts in await step_statistics(storage):
            shown = ", ".join(f"{outcome} {count}" for outcome, count in sorted(counts.items()))
            click.echo(f"{tree} / {step}: {shown}")

    asyncio.run(_report(config_dir, data_dir, show))


@main.command("report")
@CONFIG_OPTION
@DATA_OPTION
@click.option("--days", default=1.0, show_default=True, help="How far back the report reaches.")
def staff_report(config_dir: Path, data_dir: Path | None, days: float) -> None:
    """Print the staff report (escalations, response times, SLA breaches) for the last DAYS days."""
    timezone = (load_settings(config_dir).reports or ReportsConfig()).timezone

    async def show(storage: Storage) -> None:
        end = datetime.now(UTC)
        click.echo(render(await collect(storage, end - timedelta(days=days), end), timezone))

    asyncio.run(_report(config_dir, data_dir, show))


SKILL_TEMPLATE = '''"""{name}: answers questions about {name} (generated by `bots new-skill`; make it yours)."""

from bots import Context, Skill, SkillConfig, on_keywords


class {cls}(Skill):
    priority = 1  # when its keywords appear, this skill answers before the general FAQ

    class Config(SkillConfig):
        answer: dict[str, str] = {{"zh": "", "en": ""}}

    @on_keywords(zh=["{name}"], en=["{name}"])
    async def answer(self, ctx: Context) -> None:
        await ctx.reply(self.config.answer[ctx.lang])
'''
CONFIG_TEMPLATE = """# Settings of the {name} skill (validated against {cls}.Config at start-up).
answer:
  zh: 这是 {name} 技能的回答。
  en: This is the answer of the {name} skill.
"""
DIALOGUE_TEMPLATE = """# A dialogue test for the {name} skill: run it with `bots test` or pytest.
- user: 请问 {name}
  bot: contains "{name} 技能"
- user: tell me about {name}
  bot: contains "the {name} skill"
"""


@main.command("new-skill")
@click.argument("name")
@CONFIG_OPTION
def new_skill(name: str, config_dir: Path) -> None:
    """Create a skill, its config file and a passing dialogue test, and enable it in bots.yaml."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise click.ClickException("NAME must be lower-case letters, digits and _ (a Python module name)")
    cls = "".join(part.capitalize() for part in name.split("_"))
    project = config_dir.resolve().parent
    files = {
        project / "local_skills" / "__init__.py": '"""This shop\'s own skills."""\n',
        project / "local_skills" / f"{name}.py": SKILL_TEMPLATE.format(name=name, cls=cls),
        config_dir / f"{name}.yaml": CONFIG_TEMPLATE.format(name=name, cls=cls),
        project / "tests" / "dialogues" / f"test_{name}.yaml": DIALOGUE_TEMPLATE.format(name=name),
    }
    for path in files:
        if path.exists() and path.name != "__init__.py":
            raise click.ClickException(f"{path} already exists")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_text(text, encoding="utf-8")
            click.echo(f"created {path}")
    _enable(config_dir / "bots.yaml", f"local_skills.{name}:{cls}")


def _enable(bots_yaml: Path, reference: str) -> None:
    """Add the skill to the `skills:` list of bots.yaml, keeping the file's comments."""
    text = bots_yaml.read_text(encoding="utf-8") if bots_yaml.exists() else "skills:\n"
    found = re.search(r"^skills:[ \t]*(?:#.*)?\n((?:[ \t]+-.*\n|[ \t]*#.*\n)*)", text, re.M)
    if found is None:
        raise click.ClickException(f"add `- {reference}` to the skills list of {bots_yaml} by hand")
    indent = re.match(r"[ \t]*", found.group(1)).group(0) if found.group(1) else "  "  # type: ignore[union-attr]
    text = text[: found.end()] + f"{indent}- {reference}\n" + text[found.end():]
    bots_yaml.write_text(text, encoding="utf-8")
    click.echo(f"enabled {reference} in {bots_yaml}")


if __name__ == "__main__":
    main()
