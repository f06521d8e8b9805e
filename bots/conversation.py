"""A conversation's live state: who, which language, who is answering, where a dialogue stands.

Kept small and bounded (recent messages and seen ids are capped) so saving it costs the same on the
first message and the ten-thousandth; the full transcript lives in the append-only history stream.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from weakref import WeakValueDictionary

from pydantic import BaseModel, Field

from .message import Message, User
from .storage import Storage

RECENT_LIMIT = 20
SEEN_LIMIT = 200
RECENT_TEXT_LIMIT = 1000


class Mode(StrEnum):
    """Who answers the customer."""

    BOT = "bot"
    WAITING_HUMAN = "waiting_human"  # escalated, nobody has taken it yet
    HUMAN = "human"  # a staff member owns it; the bot stays quiet


class Dialog(BaseModel):
    """A multi-turn exchange in progress: which skill asked, which step answers next, slots filled so far."""

    skill: str
    step: str
    slots: dict[str, Any] = Field(default_factory=dict)
    started_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class Turn(BaseModel):
    """One line of the recent transcript, as shown to staff in an alert."""

    role: str  # "customer", "bot" or "staff"
    text: str
    time: datetime
    annotations: dict[str, Any] = Field(default_factory=dict)


class Conversation(BaseModel):
    id: str
    channel: str
    key: str
    customer: User
    language: str = "zh"
    traditional: bool = False  # the customer writes Traditional Chinese: answer in it
    mode: Mode = Mode.BOT
    dialog: Dialog | None = None
    fallback_count: int = 0
    counters: dict[str, int] = Field(default_factory=dict)
    facts: dict[str, Any] = Field(default_factory=dict, description="what skills learnt: order, warranty, steps tried")
    escalation_id: str | None = None
    recent: list[Turn] = Field(default_factory=list)
    seen_ids: list[str] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @classmethod
    def start(cls, message: Message, language: str) -> Conversation:
        return cls(
            id=message.conversation_id,
            channel=message.channel,
            key=message.conversation_key,
            customer=message.user,
            language=language,
            created_at=message.time,
            updated_at=message.time,
        )

    def has_seen(self, message_id: str) -> bool:
        return message_id in self.seen_ids

    def remember(self, message_id: str) -> None:
        self.seen_ids.append(message_id)
        del self.seen_ids[:-SEEN_LIMIT]

    def add_turn(self, role: str, text: str, time: datetime, annotations: dict[str, Any] | None = None) -> None:
        self.recent.append(Turn(role=role, text=text[:RECENT_TEXT_LIMIT], time=time, annotations=annotations or {}))
        del self.recent[:-RECENT_LIMIT]
        self.updated_at = time

    def bump(self, counter: str) -> int:
        self.counters[counter] = self.counters.get(counter, 0) + 1
        return self.counters[counter]


class ConversationStore:
    """Loads and saves conversations, one turn at a time per conversation (a lock per id)."""

    NAMESPACE = "conversations"

    def __init__(self, storage: Storage, cached: int = 5_000) -> None:
        self._storage = storage
        self._cached = cached
        # Recently active conversations stay as objects: no re-reading and re-validating every turn.
        # Only the holder of a conversation's lock changes it, and every change is saved.
        self._cache: OrderedDict[str, Conversation] = OrderedDict()
        self._locks: WeakValueDictionary[str, asyncio.Lock] = WeakValueDictionary()
        self._staged: dict[str, list[Coroutine[Any, Any, Any]]] = {}

    def lock(self, conversation_id: str) -> asyncio.Lock:
        found = self._locks.get(conversation_id)
        if found is None:
            found = self._locks[conversation_id] = asyncio.Lock()
        return found

    async def load(self, conversation_id: str) -> Conversation | None:
        found = self._cache.get(conversation_id)
        if found is not None:
            self._cache.move_to_end(conversation_id)
            return found
        doc = await self._storage.get(self.NAMESPACE, conversation_id)
        return self._remember(Conversation(**doc)) if doc else None

    def _remember(self, conversation: Conversation) -> Conversation:
        self._cache[conversation.id] = conversation
        self._cache.move_to_end(conversation.id)
        while len(self._cache) > self._cached:
            self._cache.popitem(last=False)
        return conversation

    def stage(self, conversation_id: str, write: Coroutine[Any, Any, Any]) -> None:
        """Hold a write (a reply for the outbox, a history line) until the conversation is saved.

        A turn's replies and its new state then commit together, in one group commit.
        """
        self._staged.setdefault(conversation_id, []).append(write)

    async def save(self, conversation: Conversation) -> None:
        staged = self._staged.pop(conversation.id, [])
        try:
            await asyncio.gather(
                self._storage.put(self.NAMESPACE, conversation.id, conversation.model_dump(mode="json")), *staged
            )
        except Exception:
            self.forget(conversation.id)
            raise
        self._remember(conversation)

    @asynccontextmanager
    async def locked(self, conversation_id: str) -> AsyncIterator[Conversation]:
        """Hold the conversation exclusively, and save it when done (staff actions, scheduled events)."""
        async with self.lock(conversation_id):
            conversation = await self.load(conversation_id)
            if conversation is None:
                raise KeyError(f"no conversation {conversation_id!r}")
            try:
                yield conversation
            except BaseException:
                self.forget(conversation_id)
                raise
            await self.save(conversation)

    def forget(self, conversation_id: str) -> None:
        """Drop a cached conversation whose changes will not be saved (the turn failed): the store is the truth."""
        self._cache.pop(conversation_id, None)
        for write in self._staged.pop(conversation_id, []):
            write.close()  # never started: the replies of a failed turn are not sent
