"""Staff rooms: escalate a conversation to people, let them claim, reply and resolve it.

The `StaffDesk` owns the flow and its state (the escalation record, the conversation's mode, the SLA
timer); a `StaffRoom` only shows things to staff (the console here, Slack in production). Every post to
a room goes through the outbox, so an unreachable room delays alerts but never loses them, and posts
about one escalation arrive in order (the alert before anything in its thread).
"""

from __future__ import annotations

import logging
import sys
import uuid
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TextIO

from pydantic import BaseModel, Field

from . import metrics
from .clock import Clock
from .config import RoomConfig
from .conversation import Conversation, ConversationStore, Mode, Turn
from .message import Attachment, Reply, User
from .outbox import Outbox
from .scheduler import Job, Scheduler
from .storage import Storage

if TYPE_CHECKING:
    from .bot import Bot

log = logging.getLogger(__name__)

NAMESPACE = "escalations"
SLA_JOB = "rooms.sla"


class Severity(StrEnum):
    URGENT = "urgent"  # disputes, threats of bad reviews, safety, faults after troubleshooting
    REGULAR = "regular"  # orders, logistics, general questions


class Status(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    RESOLVED = "resolved"
    RETURNED = "returned"  # handed back to the bot without a resolution


class Escalation(BaseModel):
    """Everything staff need to act, frozen at the moment of escalation, plus what happened since."""

    id: str
    conversation_id: str
    channel: str
    customer: User
    language: str
    room: str
    severity: Severity
    reason: str
    evidence: dict[str, Any] = Field(default_factory=dict)
    facts: dict[str, Any] = Field(default_factory=dict)
    transcript: list[Turn] = Field(default_factory=list)
    status: Status = Status.OPEN
    created_at: datetime
    claimed_by: str = ""
    claimed_at: datetime | None = None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    breached: bool = False
    forwarded_to: list[str] = Field(default_factory=list)
    ref: dict[str, Any] = Field(default_factory=dict, description="where the room shows it (e.g. thread id)")

    @property
    def active(self) -> bool:
        return self.status in (Status.OPEN, Status.CLAIMED)


class StaffRoom(ABC):
    """How one room shows escalations to staff. Implementations: ConsoleRoom, SlackRoom."""

    def __init__(self, name: str, config: RoomConfig) -> None:
        self.name = name
        self.config = config

    @classmethod
    def create(cls, name: str, config: RoomConfig, bot: Bot) -> StaffRoom:
        """Build the room from its config; a room type may take clients or settings from the bot."""
        return cls(name, config)

    @abstractmethod
    async def post_alert(self, escalation: Escalation) -> dict[str, Any]:
        """Show a new alert; return where it lives (stored as `escalation.ref` for later posts)."""

    @abstractmethod
    async def post_update(self, escalation: Escalation, author: str, text: str, attachments: list[Attachment]) -> None:
        """Add a line to the alert's thread (a customer message, a staff reply seen by the others)."""

    @abstractmethod
    async def refresh_alert(self, escalation: Escalation) -> None:
        """The escalation changed state (claimed, resolved, breached): update how the alert looks."""

    @abstractmethod
    async def announce_breach(self, escalation: Escalation) -> None:
        """Nobody claimed it within the SLA: say so again, loudly, mentioning the on-call people."""

    @abstractmethod
    async def post_report(self, text: str) -> None:
        """Post a plain-text summary (the daily staff report) to the room."""


class ConsoleRoom(StaffRoom):
    """A room that prints to a terminal (and the log): the whole staff flow without any token."""

    def __init__(self, name: str, config: RoomConfig, out: TextIO | None = None) -> None:
        super().__init__(name, config)
        self.out = out or sys.stdout

    @classmethod
    def create(cls, name: str, config: RoomConfig, bot: Bot) -> StaffRoom:
        return cls(name, config, bot.console_out)

    def _print(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    async def post_alert(self, escalation: Escalation) -> dict[str, Any]:
        e = escalation
        lines = [
            f"[staff:{self.name}] ⚠ escalation {e.id} ({e.severity}) — {e.reason}",
            f"  customer: {e.customer.name or e.customer.id} via {e.channel}, language {e.language}",
        ]
        lines += [f"  {turn.role}: {turn.text}" for turn in e.transcript[-5:]]
        lines += [f"  fact {key}: {value}" for key, value in e.facts.items()]
        lines.append(f"  act: /staff claim {e.id} | /staff reply {e.id} <text> | /staff resolve {e.id}")
        self._print("\n".join(lines))
        return {"room": self.name}

    async def post_update(self, escalation: Escalation, author: str, text: str, attachments: list[Attachment]) -> None:
        links = "".join(f" [{a.kind}: {a.url}]" for a in attachments)
        self._print(f"[staff:{self.name}] {escalation.id} {author}: {text}{links}")

    async def refresh_alert(self, escalation: Escalation) -> None:
        who = f" by {escalation.claimed_by}" if escalation.claimed_by else ""
        self._print(f"[staff:{self.name}] {escalation.id} is {escalation.status}{who}")

    async def announce_breach(self, escalation: Escalation) -> None:
        self._print(
            f"[staff:{self.name}] {self.config.oncall} SLA breached: {escalation.id} has waited "
            f"{self.config.sla_minutes:g} minutes without anyone claiming it"
        )

    async def post_report(self, text: str) -> None:
        self._print("\n".join(f"[staff:{self.name}] {line}" for line in text.splitlines()))


SendToCustomer = Callable[[Conversation, Reply], Awaitable[None]]
Texts = Callable[[Conversation, str], str]


class StaffDesk:
    """The escalation workflow, the same whatever room or customer channel is involved."""

    def __init__(
        self,
        *,
        rooms: dict[str, StaffRoom],
        storage: Storage,
        conversations: ConversationStore,
        outbox: Outbox,
        scheduler: Scheduler,
        clock: Clock,
        send_to_customer: SendToCustomer,
        text: Callable[..., str],
    ) -> None:
        self.rooms = rooms
        self._storage = storage
        self._conversations = conversations
        self._outbox = outbox
        self._scheduler = scheduler
        self._clock = clock
        self._send = send_to_customer
        self._text = text
        scheduler.register(SLA_JOB, self._check_sla)
        for name in rooms:
            outbox.register(f"room:{name}", self._delivery_for(name))

    # -- records -------------------------------------------------------------------------------

    async def get(self, escalation_id: str) -> Escalation:
        doc = await self._storage.get(NAMESPACE, escalation_id)
        if doc is None:
            raise KeyError(f"no escalation {escalation_id!r}")
        return Escalation(**doc)

    async def _save(self, escalation: Escalation) -> None:
        await self._storage.put(NAMESPACE, escalation.id, escalation.model_dump(mode="json"))

    async def open_escalations(self) -> list[Escalation]:
        found = [Escalation(**doc) for _, doc in await self._storage.scan(NAMESPACE)]
        return sorted((e for e in found if e.active), key=lambda e: e.created_at)

    async def _post(self, escalation: Escalation, room: str, op: str, **payload: Any) -> None:
        """Posts to one room are delivered strictly in order: after an outage, alerts arrive in the
        order they were raised, each before anything in its thread."""
        await self._outbox.put(f"room:{room}", f"room:{room}", {"op": op, "id": escalation.id, **payload})

    async def post_report(self, room: str, text: str) -> None:
        """A report waits in the outbox like an alert, in order with the room's other posts."""
        await self._outbox.put(f"room:{room}", f"room:{room}", {"op": "report", "text": text})

    # -- the flow ------------------------------------------------------------------------------

    async def escalate(
        self,
        conversation: Conversation,
        reason: str,
        severity: Severity,
        evidence: dict[str, Any] | None = None,
        notify_customer: bool = True,
        intro: str = "",
    ) -> Escalation:
        """Hand the conversation to people. The caller holds the conversation lock and saves it.

        The customer is told what happens next (and when, outside business hours), after `intro`: a
        skill's own first sentence, e.g. empathy for an upset customer or safety advice.
        """
        if conversation.escalation_id:
            current = await self.get(conversation.escalation_id)
            if current.active:
                return current
        room = severity.value
        now = self._clock.now()
        escalation = Escalation(
            id=await self._new_id(),
            conversation_id=conversation.id,
            channel=conversation.channel,
            customer=conversation.customer,
            language=conversation.language,
            room=room,
            severity=severity,
            reason=reason,
            evidence=evidence or {},
            facts=dict(conversation.facts),
            transcript=list(conversation.recent),
            created_at=now,
        )
        await self._save(escalation)
        conversation.mode = Mode.WAITING_HUMAN
        conversation.escalation_id = escalation.id
        conversation.dialog = None
        await self._post(escalation, room, "alert")
        sla = timedelta(minutes=self.rooms[room].config.sla_minutes)
        await self._scheduler.schedule(SLA_JOB, now + sla, {"id": escalation.id}, job_id=f"sla:{escalation.id}")
        log.info("escalated %s as %s to %s: %s", conversation.id, escalation.id, room, reason)
        metrics.ESCALATIONS.labels(severity.value).inc()
        if notify_customer:
            intro = intro or self._text(conversation, "escalated_intro")
            await self._send(conversation, Reply(text=f"{intro}\n{self._expectation(conversation, room)}"))
        return escalation

    def _expectation(self, conversation: Conversation, room: str) -> str:
        hours = self.rooms[room].config.hours
        opening = hours.next_opening(self._clock.now()) if hours else None
        if opening is None:
            return self._text(conversation, "escalated")
        when = opening.strftime("%m月%d日 %H:%M") if conversation.language == "zh" else opening.strftime("%a %d %b %H:%M")
        return self._text(conversation, "escalated_after_hours", when=when)

    async def _new_id(self) -> str:
        while True:
            candidate = "E" + uuid.uuid4().hex[:6].upper()
            if await self._storage.get(NAMESPACE, candidate) is None:
                return candidate

    async def customer_message(self, conversation: Conversation, text: str, attachments: list[Attachment]) -> None:
        """While people own the conversation the bot stays quiet and relays into the alert's thread."""
        escalation = await self.get(conversation.escalation_id or "")
        await self._post(
            escalation,
            escalation.room,
            "update",
            author="customer",
            text=text,
            attachments=[a.model_dump() for a in attachments],
        )
        if conversation.mode == Mode.WAITING_HUMAN and conversation.bump(f"waiting:{escalation.id}") == 1:
            await self._send(conversation, Reply(text=self._text(conversation, "still_waiting")))

    async def claim(self, escalation_id: str, staff: str) -> Escalation:
        async with self._conversations.locked((await self.get(escalation_id)).conversation_id) as conversation:
            escalation = await self.get(escalation_id)
            if not escalation.active:
                raise ValueError(f"{escalation_id} is already {escalation.status}")
            if escalation.status == Status.CLAIMED and escalation.claimed_by == staff:
                return escalation
            now = self._clock.now()
            escalation.status, escalation.claimed_by = Status.CLAIMED, staff
            escalation.claimed_at = escalation.claimed_at or now
            await self._save(escalation)
            await self._post(escalation, escalation.room, "refresh")
            conversation.mode = Mode.HUMAN
            await self._send(conversation, Reply(text=self._text(conversation, "staff_joined", staff=staff)))
            return escalation

    async def staff_reply(
        self, escalation_id: str, staff: str, text: str, attachments: list[Attachment] | None = None
    ) -> None:
        """A staff answer reaches the customer on their own channel; replying implies claiming."""
        escalation = await self.get(escalation_id)
        if escalation.status == Status.OPEN:
            escalation = await self.claim(escalation_id, staff)
        if not escalation.active:
            raise ValueError(f"{escalation_id} is {escalation.status}; reopen it from the conversation")
        async with self._conversations.locked(escalation.conversation_id) as conversation:
            if escalation.first_response_at is None:
                escalation.first_response_at = self._clock.now()
                await self._save(escalation)
            await self._send(conversation, Reply(text=text, attachments=attachments or [], author=staff))

    async def resolve(self, escalation_id: str, staff: str, *, returned: bool = False) -> Escalation:
        """Close the escalation; the bot answers the customer again."""
        escalation = await self.get(escalation_id)
        async with self._conversations.locked(escalation.conversation_id) as conversation:
            escalation = await self.get(escalation_id)
            if not escalation.active:
                return escalation
            escalation.status = Status.RETURNED if returned else Status.RESOLVED
            escalation.resolved_at = self._clock.now()
            escalation.claimed_by = escalation.claimed_by or staff
            await self._save(escalation)
            await self._post(escalation, escalation.room, "refresh")
            if conversation.escalation_id == escalation.id:
                conversation.mode = Mode.BOT
                conversation.escalation_id = None
                conversation.fallback_count = 0
                await self._send(conversation, Reply(text=self._text(conversation, "back_to_bot")))
            return escalation

    async def forward(self, escalation_id: str, room: str, staff: str) -> Escalation:
        """Send a copy of the alert to another room (e.g. factory liaison for a quality complaint)."""
        if room not in self.rooms:
            raise KeyError(f"no room {room!r} (rooms: {', '.join(self.rooms)})")
        escalation = await self.get(escalation_id)
        if room not in escalation.forwarded_to:
            escalation.forwarded_to.append(room)
            await self._save(escalation)
            await self._post(escalation, room, "alert", forwarded_by=staff)
            await self._post(escalation, escalation.room, "refresh")  # the alert shows where it went
        return escalation

    async def _check_sla(self, job: Job) -> None:
        escalation = await self.get(job.payload["id"])
        if escalation.status != Status.OPEN or escalation.breached:
            return
        escalation.breached = True
        await self._save(escalation)
        await self._post(escalation, escalation.room, "breach")
        log.warning("SLA breached for %s in %s", escalation.id, escalation.room)

    # -- delivery (called by the outbox) -------------------------------------------------------

    def _delivery_for(self, room_name: str) -> Callable[[dict[str, Any]], Awaitable[None]]:
        async def deliver(payload: dict[str, Any]) -> None:
            room = self.rooms[room_name]
            op = payload["op"]
            if op == "report":
                await room.post_report(payload["text"])
                return
            escalation = await self.get(payload["id"])
            if op == "alert":
                ref = await room.post_alert(escalation)
                escalation = await self.get(payload["id"])  # state may have moved while posting
                escalation.ref[room_name] = ref
                await self._save(escalation)
            elif op == "update":
                attachments = [Attachment(**a) for a in payload.get("attachments", [])]
                await room.post_update(escalation, payload["author"], payload["text"], attachments)
            elif op == "refresh":
                await room.refresh_alert(escalation)
            elif op == "breach":
                await room.announce_breach(escalation)
            else:
                log.error("unknown room operation %r dropped", op)

        return deliver
