"""The channel-neutral vocabulary: what comes in (`Message`) and what goes out (`Reply`).

Adapters translate platform updates into these and back; the core and the skills never see a
platform's own objects.
"""

from __future__ import annotations

import unicodedata
import uuid
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .nlp.language import to_simplified

AttachmentKind = Literal["image", "video", "audio", "file"]


class User(BaseModel):
    """Who wrote: the platform's user id and a display name if the platform gives one."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str = ""


class Attachment(BaseModel):
    """A picture, video or file, by link (never inline bytes: they live on the platform or a store)."""

    model_config = ConfigDict(frozen=True)

    kind: AttachmentKind = "image"
    url: str
    name: str = ""


class Button(BaseModel):
    """A quick reply. Pressing it sends `value` back as the customer's next message."""

    model_config = ConfigDict(frozen=True)

    label: str
    value: str

    @classmethod
    def of(cls, item: Button | str | tuple[str, str]) -> Button:
        """Accept the short forms a skill author writes: "Yes" or ("Yes", "yes")."""
        if isinstance(item, Button):
            return item
        if isinstance(item, tuple):
            return cls(label=item[0], value=item[1])
        return cls(label=item, value=item)


class Message(BaseModel):
    """One inbound customer message, as every adapter delivers it to `Bot.handle`."""

    id: str = Field(description="the platform's message id; a redelivery carries the same id")
    channel: str = Field(description="adapter name: console, webchat, generic, telegram, slack")
    conversation_key: str = Field(description="the platform's chat/thread id, unique within the channel")
    user: User
    text: str = ""
    attachments: list[Attachment] = Field(default_factory=list)
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    locale: str | None = Field(default=None, description="a language hint from the platform, if any")
    annotations: dict[str, Any] = Field(
        default_factory=dict, description="filled by annotators: language, sentiment, ..."
    )

    @property
    def conversation_id(self) -> str:
        return conversation_id(self.channel, self.conversation_key)

    @cached_property
    def plain(self) -> str:
        """The text triggers match: full-width folded to half-width, Traditional Chinese to Simplified."""
        return to_simplified(unicodedata.normalize("NFKC", self.text))


class Reply(BaseModel):
    """One outbound message. Adapters degrade what their platform cannot show (buttons → numbers)."""

    id: str = Field(default_factory=lambda: uuid.uuid4().hex, description="lets an adapter recognise a reply")
    text: str = ""
    buttons: list[Button] = Field(default_factory=list)
    attachments: list[Attachment] = Field(default_factory=list)
    author: str = Field(default="bot", description='"bot", or the staff member who wrote it')


def conversation_id(channel: str, conversation_key: str) -> str:
    """The one id of a conversation across the whole system."""
    return f"{channel}:{conversation_key}"
