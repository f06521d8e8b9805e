"""Testing a bot the way a customer and staff meet it: scripted dialogues over the real pipeline.

In Python (pytest with pytest-asyncio):

    async def test_hours(bot_tester):
        async with bot_tester(skills=[OpeningHours]) as bot:
            replies = await bot.say("几点营业？")
            assert "9:00" in replies[0].text

As a YAML script (collected by pytest as `test_*.yaml`, and run by `bots test`):

    - user: 我要人工
      escalated: {room: regular}
    - staff: reply 您好，我来帮您
      bot: contains "我来帮您"

Everything is real except time: a real TinyDB store in a temporary directory, the real outbox and
staff desk, and a `FakeClock` that only moves on `advance`.
"""

from __future__ import annotations

import io
import re
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

from .bot import Bot, load_skills
from .clock import FakeClock
from .config import BotSettings, load_settings, load_skill_config
from .conversation import Conversation
from .message import Attachment, Message, Reply, User
from .rooms import Escalation
from .skill import Skill
from .storage import TinyDBStorage

CHANNEL = "test"


class DialogueFailure(AssertionError):
    """A dialogue step did not go as scripted; the message shows the conversation so far."""


class BotTester(AbstractAsyncContextManager["BotTester"]):
    """Drives one bot as a customer (`say`, `press`) and as staff (`staff`), with a controllable clock."""

    def __init__(
        self,
        config_dir: str | Path | None = None,
        *,
        skills: list[type[Skill] | Skill] | None = None,
        configs: dict[str, dict[str, Any]] | None = None,
        data_dir: str | Path | None = None,
        conversation: str = "c1",
    ) -> None:
        self.config_dir = Path(config_dir) if config_dir else None
        self._skills = skills
        self._configs = configs or {}
        self._tmp = tempfile.TemporaryDirectory(prefix="bots-test-") if data_dir is None else None
        self.data_dir = Path(data_dir) if data_dir else Path(self._tmp.name)  # type: ignore[union-attr]
        self.clock = FakeClock()
        self.key = conversation
        self.user = User(id=f"user-{conversation}", name="Test Customer")
        self.received: list[Reply] = []
        self.room_log = io.StringIO()
        self.transcript: list[str] = []
        self.bot: Bot = self._build()

    # -- set-up --------------------------------------------------------------------------------

    def _build(self) -> Bot:
        settings = load_settings(self.config_dir) if self.config_dir else BotSettings(skills=[])
        skills = self._instances(settings)
        bot = Bot(settings, skills, TinyDBStorage(self.data_dir), clock=self.clock, console_out=self.room_log)
        bot.register_channel(CHANNEL, self._capture)
        return bot

    def _instances(self, settings: BotSettings) -> list[Skill]:
        if self._skills is None:
            return load_skills(self.config_dir, settings)  # type: ignore[arg-type]
        instances = []
        for item in self._skills:
            if isinstance(item, Skill):
                instances.append(item)
                continue
            skill = item()
            if skill.name in self._configs or self.config_dir is None:
                skill.config = item.Config.model_validate(self._configs.get(skill.name, {}))
            else:
                skill.config = load_skill_config(self.config_dir, skill.name, item.Config)
            instances.append(skill)
        return instances

    async def _capture(self, conversation_key: str, user_id: str, reply: Reply) -> None:
        self.received.append(reply)
        who = "bot" if reply.author == "bot" else f"staff({reply.author})"
        buttons = f"  [{' | '.join(b.label for b in reply.buttons)}]" if reply.buttons else ""
        self.transcript.append(f"{who}: {reply.text}{buttons}")

    async def __aenter__(self) -> BotTester:
        await self.bot.start(background=False)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.bot.stop()
        if self._tmp is not None:
            self._tmp.cleanup()

    async def restart(self) -> None:
        """Stop the bot and build a new one on the same store, as a process restart would."""
        await self.bot.stop()
        self.bot = self._build()
        await self.bot.start(background=False)
        self.transcript.append("-- restart --")

    # -- acting --------------------------------------------------------------------------------

    async def _settle(self) -> None:
        """Run due timers and deliver everything due, as the background loops would."""
        await self.bot.scheduler.run_due()
        await self.bot.outbox.drain()

    async def say(
        self, text: str, *, attachments: list[Attachment] | None = None, message_id: str | None = None
    ) -> list[Reply]:
        """Send a customer message; returns the replies the customer received during this turn."""
        before = len(self.received)
        self.transcript.append(f"customer: {text}")
        message = Message(
            id=message_id or uuid.uuid4().hex,
            channel=CHANNEL,
            conversation_key=self.key,
            user=self.user,
            text=text,
            attachments=attachments or [],
            time=self.clock.now(),
        )
        await self.bot.handle(message)
        await self._settle()
        return self.received[before:]

    async def press(self, button: str | int) -> list[Reply]:
        """Press a button of the latest reply that had buttons, by label (or 1-based number)."""
        offered = next((r.buttons for r in reversed(self.received) if r.buttons), [])
        if isinstance(button, int) or button.isdigit():
            index = int(button) - 1
            chosen = offered[index] if 0 <= index < len(offered) else None
        else:
            chosen = next((b for b in offered if b.label == button), None)
        if chosen is None:
            raise DialogueFailure(f"no button {button!r} offered\n{self.show()}")
        return await self.say(chosen.value)

    async def advance(self, **delta: float) -> list[Reply]:
        """Move the clock forward; due timers fire. Returns what the customer received meanwhile."""
        before = len(self.received)
        self.clock.advance(**delta)
        self.transcript.append(f"-- {timedelta(**delta)} later --")
        await self._settle()
        return self.received[before:]

    async def staff(self, action: str, text: str = "", staff: str = "alice") -> list[Reply]:
        """Act on the conversation's escalation as staff: claim, reply, resolve, return, forward."""
        before = len(self.received)
        escalation = await self.escalation()
        if escalation is None:
            raise DialogueFailure(f"staff {action}: the conversation was never escalated\n{self.show()}")
        desk = self.bot.desk
        if action == "claim":
            await desk.claim(escalation.id, staff)
        elif action == "reply":
            await desk.staff_reply(escalation.id, staff, text)
        elif action in ("resolve", "return"):
            await desk.resolve(escalation.id, staff, returned=action == "return")
        elif action == "forward":
            await desk.forward(escalation.id, text, staff)
        else:
            raise DialogueFailure(f"unknown staff action {action!r}")
        self.transcript.append(f"-- staff {staff} {action} {text}".rstrip() + " --")
        await self._settle()
        return self.received[before:]

    # -- observing -----------------------------------------------------------------------------

    @property
    def conversation_id(self) -> str:
        return f"{CHANNEL}:{self.key}"

    async def conversation(self) -> Conversation:
        found = await self.bot.conversations.load(self.conversation_id)
        if found is None:
            raise DialogueFailure("the customer has not said anything yet")
        return found

    async def escalation(self) -> Escalation | None:
        """The conversation's latest escalation (open or closed)."""
        found = [Escalation(**doc) for _, doc in await self.bot.storage.scan("escalations")]
        mine = [e for e in found if e.conversation_id == self.conversation_id]
        return max(mine, key=lambda e: e.created_at) if mine else None

    def show(self) -> str:
        return "conversation so far:\n" + "\n".join(f"  {line}" for line in self.transcript)


# -- scripted dialogues ----------------------------------------------------------------------------

EXPECTATION = re.compile(r'^(contains|matches|not contains)\s+"(.*)"$', re.S)
DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|m|h|d)$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


@dataclass
class Dialogue:
    name: str
    steps: list[dict[str, Any]]
    source: Path
    config_dir: Path


def find_config_dir(start: Path) -> Path:
    """The nearest `skills_config/` with a bots.yaml, looking up from a dialogue file."""
    for folder in [start, *start.parents]:
        if (folder / "skills_config" / "bots.yaml").exists():
            return folder / "skills_config"
    return Path.cwd() / "skills_config"


def load_dialogues(path: Path) -> list[Dialogue]:
    """A file holds a list of steps (one dialogue) or `{dialogues: [{name, steps}, ...]}`."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if isinstance(data, list):
        data = {"dialogues": [{"name": path.stem, "steps": data}]}
    if not isinstance(data, dict) or not isinstance(data.get("dialogues"), list):
        raise DialogueFailure(f"{path}: expected a list of steps or a mapping with 'dialogues'")
    default_dir = path.parent / data["config"] if "config" in data else find_config_dir(path.parent.resolve())
    return [
        Dialogue(
            name=str(item.get("name", f"{path.stem}[{index}]")),
            steps=list(item["steps"]),
            source=path,
            config_dir=path.parent / item["config"] if "config" in item else default_dir,
        )
        for index, item in enumerate(data["dialogues"], 1)
    ]


def iter_dialogue_files(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    yield from sorted(p for p in root.rglob("test_*.yaml") if "skills_config" not in p.parts)


def _check_text(expectation: Any, replies: list[Reply]) -> str | None:
    """None when the replies meet the expectation, else what is wrong."""
    text = "\n".join(r.text for r in replies)
    if isinstance(expectation, str):
        if expectation == "nothing":
            return None if not replies else f"expected no reply, got {text!r}"
        found = EXPECTATION.match(expectation.strip())
        if not found:
            raise DialogueFailure(f'bad expectation {expectation!r}: use contains "..", matches "..", nothing')
        expectation = {found.group(1).replace(" ", "_"): found.group(2)}
    problems = []
    if not replies and expectation:
        problems.append("expected a reply, got none")
    if "contains" in expectation and expectation["contains"] not in text:
        problems.append(f"expected the reply to contain {expectation['contains']!r}, got {text!r}")
    if "not_contains" in expectation and expectation["not_contains"] in text:
        problems.append(f"expected the reply not to contain {expectation['not_contains']!r}, got {text!r}")
    if "matches" in expectation and not re.search(expectation["matches"], text):
        problems.append(f"expected the reply to match /{expectation['matches']}/, got {text!r}")
    if "buttons" in expectation:
        labels = [b.label for r in replies for b in r.buttons]
        if labels != list(expectation["buttons"]):
            problems.append(f"expected buttons {expectation['buttons']}, got {labels}")
    return "; ".join(problems) or None


async def _check_escalated(tester: BotTester, expected: Any) -> str | None:
    escalation = await tester.escalation()
    active = escalation is not None and escalation.active
    if expected is False:
        return f"expected no escalation, got {escalation.id} ({escalation.reason})" if active else None
    if not active:
        return "expected an escalation, there is none open"
    assert escalation is not None
    wanted = expected if isinstance(expected, dict) else {}
    actual = {"room": escalation.room, "severity": escalation.severity.value, "reason": escalation.reason}
    wrong = [f"{k} {actual.get(k)!r} instead of {v!r}" for k, v in wanted.items() if actual.get(k) != v]
    return f"escalation {escalation.id}: " + ", ".join(wrong) if wrong else None


def _duration(value: Any) -> dict[str, float]:
    if isinstance(value, dict):
        return {k: float(v) for k, v in value.items()}
    found = DURATION.match(str(value).strip())
    if not found:
        raise DialogueFailure(f"bad duration {value!r}: use e.g. 10m, 30s, 2h or {{minutes: 10}}")
    return {UNITS[found.group(2)]: float(found.group(1))}


async def _act(tester: BotTester, step: dict[str, Any]) -> list[Reply] | None:
    """Perform the action of a step (if any); returns what the customer received."""
    if "user" in step:
        return await tester.say(str(step["user"]))
    if "press" in step:
        return await tester.press(step["press"])
    if "staff" in step:
        action, _, text = str(step["staff"]).partition(" ")
        return await tester.staff(action, text)
    if "advance" in step:
        return await tester.advance(**_duration(step["advance"]))
    if step.get("restart"):
        await tester.restart()
        return []
    return None


async def run_dialogue(dialogue: Dialogue) -> None:
    """Play a dialogue; raise `DialogueFailure` (with the transcript) at the first broken expectation."""
    async with BotTester(dialogue.config_dir) as tester:
        replies: list[Reply] = []
        room_seen = 0
        for number, step in enumerate(dialogue.steps, 1):
            acted = await _act(tester, step)
            replies = acted if acted is not None else replies
            problems = []
            if "bot" in step:
                problems.append(_check_text(step["bot"], replies))
            if "escalated" in step:
                problems.append(await _check_escalated(tester, step["escalated"]))
            if "mode" in step:
                mode = (await tester.conversation()).mode.value
                problems.append(None if mode == step["mode"] else f"expected mode {step['mode']!r}, got {mode!r}")
            if "language" in step:
                lang = (await tester.conversation()).language
                problems.append(None if lang == step["language"] else f"expected language {step['language']!r}, got {lang!r}")
            if "room" in step:
                log = tester.room_log.getvalue()
                problems.append(_check_text(step["room"], [Reply(text=log[room_seen:])]))
                room_seen = len(log)
            wrong = [p for p in problems if p]
            if wrong:
                raise DialogueFailure(
                    f"{dialogue.source} · {dialogue.name} · step {number} {step}:\n  "
                    + "\n  ".join(wrong)
                    + "\n"
                    + tester.show()
                )
