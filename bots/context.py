"""What a handler gets for one turn: the message, the conversation, and ways to act on them.

Handlers speak only through the context (reply, ask, escalate, schedule); the core turns that into
stored replies, outbox deliveries, staff-room alerts and timers. No handler calls a platform API.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from .conversation import Conversation, Dialog
from .message import Attachment, Button, Message, Reply
from .rooms import Escalation, Severity
from .skill import Match, Skill, SkillConfig

if TYPE_CHECKING:
    from .bot import Bot

ButtonLike = Button | str | tuple[str, str]


class SkillStore:
    """A skill's own key/value space in storage: no skill can read or clobber another's keys."""

    def __init__(self, bot: Bot, skill_name: str) -> None:
        self._storage = bot.storage
        self._namespace = f"skill.{skill_name}"

    async def get(self, key: str, default: Any = None) -> Any:
        doc = await self._storage.get(self._namespace, key)
        return default if doc is None else doc["value"]

    async def set(self, key: str, value: Any) -> None:
        await self._storage.put(self._namespace, key, {"value": value})

    async def delete(self, key: str) -> bool:
        return await self._storage.delete(self._namespace, key)

    async def items(self) -> list[tuple[str, Any]]:
        return [(key, doc["value"]) for key, doc in await self._storage.scan(self._namespace)]


class Context:
    def __init__(
        self,
        bot: Bot,
        skill: Skill | None,
        conversation: Conversation,
        message: Message | None = None,
        match: Match | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        self.bot = bot
        self.skill = skill
        self.conversation = conversation
        self.message = message
        self.match = match
        self.payload = payload or {}
        self.replies: list[Reply] = []
        self.escalation: Escalation | None = None
        self.unresolved_round = False  # the handler could not resolve this turn (counts towards escalation)

    # -- what the handler reads ----------------------------------------------------------------

    @property
    def text(self) -> str:
        return self.message.text if self.message else ""

    @property
    def lang(self) -> str:
        return self.conversation.language

    @property
    def config(self) -> SkillConfig:
        return self.skill.config if self.skill else SkillConfig()

    @property
    def slots(self) -> dict[str, Any]:
        """Answers collected so far in the current dialogue (empty outside one)."""
        return self.conversation.dialog.slots if self.conversation.dialog else {}

    @property
    def store(self) -> SkillStore:
        return SkillStore(self.bot, self.skill.name if self.skill else "core")

    @property
    def now(self) -> datetime:
        return self.bot.clock.now()

    def t(self, key: str, **fields: Any) -> str:
        """The text `key` in the customer's language (the skill's own texts first, then built-ins)."""
        return self.bot.text(self.conversation, key, skill=self.skill, **fields)

    # -- what the handler does -----------------------------------------------------------------

    async def reply(
        self,
        text: str = "",
        buttons: Iterable[ButtonLike] = (),
        *,
        image: str | None = None,
        video: str | None = None,
        attachments: Sequence[Attachment] = (),
    ) -> Reply:
        media = list(attachments)
        media += [Attachment(kind="image", url=image)] if image else []
        media += [Attachment(kind="video", url=video)] if video else []
        reply = Reply(text=text, buttons=[Button.of(b) for b in buttons], attachments=media)
        reply = await self.bot.send(self.conversation, reply)
        self.replies.append(reply)
        return reply

    async def ask(
        self,
        text: str,
        step: str,
        buttons: Iterable[ButtonLike] = (),
        *,
        slots: dict[str, Any] | None = None,
        image: str | None = None,
        video: str | None = None,
    ) -> Reply:
        """Ask and wait: the customer's next message goes to this skill's `@on_step(step)` handler.

        The dialogue is stored with the conversation, so it continues after a restart.
        """
        if self.skill is None:
            raise RuntimeError("only a skill can open a dialogue")
        current = self.conversation.dialog
        kept = current.slots if current and current.skill == self.skill.name else {}
        self.conversation.dialog = Dialog(skill=self.skill.name, step=step, slots={**kept, **(slots or {})}, started_at=self.now)
        return await self.reply(text, buttons, image=image, video=video)

    async def fallback(self) -> None:
        """Nothing fits: the standard fallback answers, and the third unresolved round in a row escalates."""
        await self.bot.fallback(self)

    async def unresolved(self) -> bool:
        """Count this turn as unresolved (e.g. only "did you mean" could be offered) without answering;
        True when it was one too many and the conversation has been escalated."""
        return await self.bot.unresolved(self)

    def end_dialog(self) -> None:
        self.conversation.dialog = None

    def remember(self, fact: str, value: Any) -> None:
        """Attach a fact (order number, warranty status, steps tried) that staff see in an alert."""
        self.conversation.facts[fact] = value

    async def escalate(
        self,
        reason: str,
        severity: Severity | str = Severity.REGULAR,
        *,
        evidence: dict[str, Any] | None = None,
        notify_customer: bool = True,
        intro: str = "",
    ) -> Escalation:
        """Hand the conversation to people in the room for `severity`; the bot then stays quiet."""
        self.escalation = await self.bot.desk.escalate(
            self.conversation, reason, Severity(severity), evidence, notify_customer, intro
        )
        return self.escalation

    async def schedule(
        self,
        event: str,
        *,
        at: datetime | None = None,
        delay: timedelta | None = None,
        payload: dict[str, Any] | None = None,
        job_id: str = "",
    ) -> str:
        """Fire `event` for this conversation later (handled by `@on_event(event)`); survives restarts."""
        if (at is None) == (delay is None):
            raise ValueError("give exactly one of at= or delay=")
        when = at if at is not None else self.now + (delay or timedelta())
        return await self.bot.schedule_event(event, self.conversation.id, when, payload or {}, job_id)

    async def cancel(self, job_id: str) -> bool:
        return await self.bot.scheduler.cancel(job_id)
