"""The bot core: configuration, skills, and the pipeline every customer message goes through.

    platform → adapter → Bot.handle(message)
        1. dedupe    a redelivered platform id is answered once
        2. persist   the inbound message is in the history before anything else happens
        3. annotate  language (zh Simplified / Traditional, en), then skills' annotators (sentiment)
        4. route     people own it → relay to the staff room; a dialogue is open → its next step;
                     else watchers, then the best trigger (priority, score, order), else fallback
        5. skill     ctx.reply / ask / escalate / schedule
        6. outbox    replies stored, delivered by the channel's adapter, retried on failure
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from . import metrics
from .adapters.base import Adapter
from .clock import Clock
from .config import BotSettings, load_settings, load_skill_config
from .context import Context
from .conversation import Conversation, ConversationStore, Mode
from .i18n import Catalogue
from .message import Message, Reply
from .nlp.language import detect_language, to_traditional
from .outbox import Outbox
from .registry import adapter_class, room_class, skill_class, skill_name
from .reports import DailyReport
from .rooms import Escalation, Severity, StaffDesk, StaffRoom
from .scheduler import Job, Scheduler
from .skill import Match, Registration, Skill
from .storage import Storage, TinyDBStorage

log = logging.getLogger(__name__)

HISTORY = "messages"
EVENT_JOB = "event"
UNRESOLVED_EVENT = "turn.unresolved"

ChannelSender = Callable[[str, str, Reply], Awaitable[None]]


@dataclass
class TurnResult:
    """What one call of `Bot.handle` did, for adapters that answer synchronously and for tests."""

    duplicate: bool = False
    replies: list[Reply] = field(default_factory=list)
    escalation: Escalation | None = None
    conversation: Conversation | None = None


@dataclass(frozen=True)
class _Candidate:
    rank: tuple[int, float, int, int]
    skill: Skill
    registration: Registration
    match: Match


def load_skills(config_dir: Path, settings: BotSettings) -> list[Skill]:
    """The skills bots.yaml enables, each with its validated `skills_config/<name>.yaml`."""
    project = str(config_dir.resolve().parent)
    if project not in sys.path:
        sys.path.insert(0, project)  # local skills (`local_skills.x:X`) live beside skills_config/
    skills = []
    for reference in settings.skills:
        skill_cls = skill_class(reference)
        skill = skill_cls(load_skill_config(config_dir, skill_name(reference), skill_cls.Config))
        skill.name = skill_name(reference)
        skills.append(skill)
    return skills


# Collect the young generation every 50,000 new container objects instead of 700. Measured with the
# store's file cache filling up (bench/handle_throughput.py, 32 conversations): with the defaults a full
# collection ran about once a second, walking every cached document, and stalled all conversations for
# 100-600 ms (p99 465 ms at 30k stored messages); with these, none ran in the whole run (p99 38 ms).
_GC_THRESHOLDS = (50_000, 20, 100)


def _quiet_garbage_collector() -> None:
    """Keep Python's cyclic garbage collector from stalling the event loop of a long-running bot.

    What start-up loaded (models, indexes, dictionaries) lives as long as the process, so it is frozen
    out of every later collection (still freed by reference counting, as always); and collections run
    less often, so short-lived objects are gone by reference counting before one starts.
    """
    gc.set_threshold(*_GC_THRESHOLDS)
    gc.freeze()


class Bot:
    def __init__(
        self,
        settings: BotSettings,
        skills: list[Skill],
        storage: Storage,
        *,
        clock: Clock | None = None,
        rooms: dict[str, StaffRoom] | None = None,
        console_out: TextIO | None = None,
    ) -> None:
        self.settings = settings
        self.skills = skills
        self.storage = storage
        self.clock = clock or Clock()
        self.console_out = console_out
        self.conversations = ConversationStore(storage)
        self.scheduler = Scheduler(storage, self.clock)
        self.outbox = Outbox(storage, self.clock)
        self.catalogue = Catalogue.builtin()
        self._skill_texts = {
            skill.name: self.catalogue.overlay(skill.texts, skill.name).overlay(skill.config.texts, f"{skill.name}.yaml")
            for skill in skills
        }
        self.rooms = rooms if rooms is not None else self._make_rooms()
        self.desk = StaffDesk(
            rooms=self.rooms,
            storage=storage,
            conversations=self.conversations,
            outbox=self.outbox,
            scheduler=self.scheduler,
            clock=self.clock,
            send_to_customer=self.send,
            text=self.text,
        )
        self.scheduler.register(EVENT_JOB, self._run_event_job)
        self.daily_report = DailyReport(self, settings.reports) if settings.reports else None
        self.adapters: dict[str, Adapter] = {}
        self.config_dir: Path | None = None  # where bots.yaml was read from, for files adapters load
        self._tasks: list[asyncio.Task[None]] = []

    # -- assembly ------------------------------------------------------------------------------

    @classmethod
    def from_config(
        cls,
        config_dir: str | Path,
        *,
        data_dir: str | Path | None = None,
        clock: Clock | None = None,
        console_out: TextIO | None = None,
    ) -> Bot:
        """Build a bot from `bots.yaml` and `skills_config/`; every config mistake is raised here."""
        config_dir = Path(config_dir)
        settings = load_settings(config_dir)
        storage_path = Path(data_dir) if data_dir is not None else config_dir.resolve().parent / settings.storage.path
        bot = cls(
            settings, load_skills(config_dir, settings), TinyDBStorage(storage_path), clock=clock, console_out=console_out
        )
        bot.config_dir = config_dir
        for name, adapter_config in settings.adapters.items():
            bot.adapters[name] = adapter_class(name)(bot, name, adapter_config)
        return bot

    def _make_rooms(self) -> dict[str, StaffRoom]:
        return {
            name: room_class(config.type).create(name, config, self)
            for name, config in self.settings.rooms.items()
        }

    async def start(self, *, background: bool = True) -> None:
        """Open storage, resume stored jobs and undelivered replies, set up skills, start the loops."""
        await self.storage.open()
        await self.scheduler.load()
        await self.outbox.load()
        if self.daily_report is not None:
            await self.daily_report.schedule()
        for skill in self.skills:
            await skill.setup()
        for adapter in self.adapters.values():
            await adapter.start()
        _quiet_garbage_collector()
        if background:
            self._tasks = [
                asyncio.create_task(self.scheduler.run_forever(), name="scheduler"),
                asyncio.create_task(self.outbox.run_forever(), name="outbox"),
            ]

    async def stop(self) -> None:
        """Stop the adapters and loops; what is still undelivered stays stored for the next start."""
        for adapter in self.adapters.values():
            await adapter.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self.storage.close()

    def register_channel(self, name: str, sender: ChannelSender) -> None:
        """An adapter offers delivery to its customers: `sender(conversation_key, user_id, reply)`."""

        async def deliver(payload: dict[str, Any]) -> None:
            await sender(payload["key"], payload["user"], Reply(**payload["reply"]))

        self.outbox.register(name, deliver)

    # -- texts ---------------------------------------------------------------------------------

    def text(self, conversation: Conversation, key: str, skill: Skill | None = None, **fields: Any) -> str:
        catalogue = self._skill_texts.get(skill.name, self.catalogue) if skill else self.catalogue
        return catalogue.text(key, conversation.language, **fields)

    # -- the pipeline --------------------------------------------------------------------------

    @metrics.counted_turn
    async def handle(self, message: Message) -> TurnResult:
        """Process one inbound message; safe to call concurrently (turns of one conversation queue up)."""
        async with self.conversations.lock(message.conversation_id):
            conversation = await self.conversations.load(message.conversation_id)
            if conversation is not None and conversation.has_seen(message.id):
                log.info("redelivery of %s in %s ignored", message.id, message.conversation_id)
                return TurnResult(duplicate=True, conversation=conversation)
            await self.storage.append(HISTORY, self._history_record(message))
            try:
                conversation = self._annotate(message, conversation)
                ctx = await self._route(message, conversation)
                conversation.remember(message.id)
            except BaseException:
                self.conversations.forget(message.conversation_id)  # unsaved: a redelivery starts afresh
                raise
            await self.conversations.save(conversation)
            return TurnResult(
                replies=ctx.replies if ctx else [],
                escalation=ctx.escalation if ctx else None,
                conversation=conversation,
            )

    def _history_record(self, message: Message) -> dict[str, Any]:
        return {
            "conversation_id": message.conversation_id,
            "id": message.id,
            "role": "customer",
            "user": message.user.id,
            "text": message.text,
            "attachments": [a.model_dump() for a in message.attachments],
            "time": message.time.isoformat(),
        }

    def _annotate(self, message: Message, conversation: Conversation | None) -> Conversation:
        detected = detect_language(message.text)
        if conversation is None:
            hint = (message.locale or "")[:2].lower()
            language = detected.code if detected else hint if hint in ("zh", "en") else self.settings.shop.default_language
            conversation = Conversation.start(message, language)
        if detected:
            conversation.language, conversation.traditional = detected.code, detected.traditional
        message.annotations["language"] = conversation.language
        for skill in self.skills:
            skill.annotate(message, conversation)
        conversation.add_turn("customer", message.text, message.time, message.annotations)
        return conversation

    async def _route(self, message: Message, conversation: Conversation) -> Context | None:
        if conversation.mode != Mode.BOT and conversation.escalation_id:
            await self.desk.customer_message(conversation, message.text, message.attachments)
            return None
        for skill in self.skills:
            for registration in skill.registered("watch"):
                ctx = await self._run(skill, registration.handler_name, conversation, message)
                if ctx.replies or ctx.escalation:
                    return ctx
        dialog = conversation.dialog
        candidates: list[_Candidate] = []
        if dialog is not None:
            # Only interrupting triggers are tried first: a dialogue's answer skips every other
            # (possibly costly) matcher, such as the FAQ's index search.
            candidates = self._candidates(message, interrupting_only=True)
            step = self._step_handler(dialog.skill, dialog.step)
            if step is not None and not candidates:
                return await self._run(step[0], step[1], conversation, message)
            if step is None:
                log.warning("dropping dialogue %s/%s of %s: no such step", dialog.skill, dialog.step, conversation.id)
                conversation.dialog = None
        candidates = candidates or self._candidates(message)
        if candidates:
            best = candidates[0]
            ctx = await self._run(best.skill, best.registration.handler_name, conversation, message, best.match)
            if not ctx.unresolved_round:
                conversation.fallback_count = 0
            return ctx
        return await self.fallback(Context(self, None, conversation, message))

    def _candidates(self, message: Message, interrupting_only: bool = False) -> list[_Candidate]:
        """Every trigger that wants the message, best first: priority, then score, then config order."""
        found = []
        for order, skill in enumerate(self.skills):
            for index, registration in enumerate(skill.registered("trigger")):
                if interrupting_only and not registration.value.interrupts:
                    continue
                match = registration.value.match(skill, message)
                if match is not None:
                    rank = (-skill.effective_priority, -match.score, order, index)
                    found.append(_Candidate(rank, skill, registration, match))
        return sorted(found, key=lambda c: c.rank)

    def _step_handler(self, skill_name: str, step: str) -> tuple[Skill, str] | None:
        for skill in self.skills:
            if skill.name == skill_name:
                for registration in skill.registered("step"):
                    if registration.value == step:
                        return skill, registration.handler_name
        return None

    async def unresolved(self, ctx: Context) -> bool:
        """Count an unresolved round (skills hear it as the `turn.unresolved` event, e.g. to record a
        knowledge gap); after N in a row a person is called. True when this round escalated."""
        conversation = ctx.conversation
        conversation.fallback_count += 1
        ctx.unresolved_round = True
        if ctx.message is not None:
            await self._dispatch(UNRESOLVED_EVENT, conversation, ctx.message, {})
        if conversation.fallback_count >= self.settings.fallback.escalate_after:
            await ctx.escalate("repeated_fallbacks", Severity.REGULAR, evidence={"rounds": conversation.fallback_count})
            return True
        return False

    async def fallback(self, ctx: Context) -> Context:
        """An unresolved round nobody could answer: the fallback skill, or the built-in text, answers."""
        if await self.unresolved(ctx):
            return ctx
        conversation = ctx.conversation
        for skill in sorted(self.skills, key=lambda s: -s.effective_priority):
            for registration in skill.registered("fallback"):
                handled = await self._run(skill, registration.handler_name, conversation, ctx.message)
                ctx.replies += handled.replies
                return ctx
        await ctx.reply(ctx.t("fallback"), [(ctx.t("fallback_offer_human"), "/human")])
        return ctx

    async def _run(
        self,
        skill: Skill,
        handler_name: str,
        conversation: Conversation,
        message: Message | None,
        match: Match | None = None,
        payload: dict[str, Any] | None = None,
    ) -> Context:
        ctx = Context(self, skill, conversation, message, match, payload)
        try:
            await skill.handler(handler_name)(ctx)
        except Exception:
            log.exception("skill %s.%s failed in conversation %s", skill.name, handler_name, conversation.id)
            metrics.ERRORS.labels("skill").inc()
            await ctx.reply(ctx.t("skill_error"))
        return ctx

    # -- output --------------------------------------------------------------------------------

    async def send(self, conversation: Conversation, reply: Reply) -> Reply:
        """Record a reply in the transcript and queue it for the customer's channel.

        The writes are staged with the conversation and commit when it is saved at the end of the turn.
        """
        if conversation.traditional and conversation.language == "zh" and reply.author == "bot":
            reply = reply.model_copy(
                update={
                    "text": to_traditional(reply.text),
                    "buttons": [b.model_copy(update={"label": to_traditional(b.label)}) for b in reply.buttons],
                }
            )
        now = self.clock.now()
        role = "bot" if reply.author == "bot" else "staff"
        conversation.add_turn(role, reply.text, now)
        body = reply.model_dump(mode="json")
        record = {"conversation_id": conversation.id, "role": role, "time": now.isoformat(), **body}
        delivery = {"key": conversation.key, "user": conversation.customer.id, "reply": body}
        self.conversations.stage(conversation.id, self.storage.append(HISTORY, record))
        self.conversations.stage(conversation.id, self.outbox.put(conversation.channel, conversation.id, delivery))
        return reply

    # -- events and timers ---------------------------------------------------------------------

    async def schedule_event(
        self, event: str, conversation_id: str, at: datetime, payload: dict[str, Any], job_id: str = ""
    ) -> str:
        body = {"event": event, "conversation_id": conversation_id, "payload": payload}
        return await self.scheduler.schedule(EVENT_JOB, at, body, job_id)

    async def _run_event_job(self, job: Job) -> None:
        await self.emit(job.payload["event"], job.payload["conversation_id"], job.payload["payload"])

    async def emit(self, event: str, conversation_id: str, payload: dict[str, Any] | None = None) -> list[Reply]:
        """Deliver a named event (a timer, or a shop system's `order.shipped`) to the skills handling it."""
        async with self.conversations.locked(conversation_id) as conversation:
            return await self._dispatch(event, conversation, None, payload or {})

    async def _dispatch(
        self, event: str, conversation: Conversation, message: Message | None, payload: dict[str, Any]
    ) -> list[Reply]:
        replies: list[Reply] = []
        for skill in self.skills:
            for registration in skill.registered("event"):
                if registration.value == event:
                    ctx = await self._run(skill, registration.handler_name, conversation, message, payload=payload)
                    replies += ctx.replies
        return replies
